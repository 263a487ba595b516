"""`mesh echo`, the demo app: its answer (identity, caller, request), calls to other services
through an HTTP proxy in absolute form with Istio's trace and routing headers copied over,
failed calls, --fail-percent and --delay-ms, and a malformed request."""
import http.client
import json
import os
import socket
import subprocess
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from meshtest import MESH, main

TD = "spiffe://cluster.local"


class Echo:
    """A running `mesh echo` on a port picked by the OS."""

    def __init__(self, *args, env=None):
        full_env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        full_env.update(env or {})
        self.proc = subprocess.Popen([MESH, "echo", "--port", "0", *args], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True, env=full_env)
        line = self.proc.stdout.readline()
        if not line.startswith("listening http="):
            self.proc.kill()
            raise AssertionError("mesh echo did not start: %r %s" % (line, self.proc.stderr.read()))
        self.port = int(line.split("=", 1)[1].rsplit(":", 1)[1])

    def get(self, path="/", headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        return resp, body

    def get_json(self, path="/", headers=None):
        resp, body = self.get(path, headers)
        return resp.status, json.loads(body)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        finally:
            if self.proc.poll() is None:
                self.proc.kill()
            self.proc.stdout.close()
            self.proc.stderr.close()


class RecordingProxy:
    """A forward HTTP proxy that records each request line and headers, then sends the request
    to 127.0.0.1 on the URL's port (every name resolves to this host)."""

    def __init__(self):
        self.seen = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self):
                outer.seen.append((self.path, {k.lower(): v for k, v in self.headers.items()}))
                port = int(self.path.split("/")[2].rsplit(":", 1)[1])
                path = "/" + self.path.split("/", 3)[3]
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                headers = {k: v for k, v in self.headers.items() if k.lower() != "connection"}
                conn.request("GET", path, headers=headers)
                resp = conn.getresponse()
                body = resp.read()
                conn.close()
                self.send_response(resp.status)
                self.send_header("content-type", resp.getheader("content-type", "text/plain"))
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class EchoAnswers(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.echo = Echo("--service", "reviews", "--version", "v2", "--pod", "reviews-v2-0",
                        env={"POD_NAMESPACE": "shop"})

    @classmethod
    def tearDownClass(cls):
        cls.echo.stop()

    def test_answer_names_the_service_the_request_and_the_caller(self):
        caller = TD + "/ns/default/sa/productpage"
        status, answer = self.echo.get_json("/reviews/0?x=1", {
            "Host": "reviews:9080", "x-request-id": "abc",
            "x-forwarded-client-cert": "By=%s/ns/shop/sa/reviews;Hash=00;URI=%s" % (TD, caller)})
        self.assertEqual(status, 200)
        self.assertEqual(answer["service"], "reviews")
        self.assertEqual(answer["version"], "v2")
        self.assertEqual(answer["pod"], "reviews-v2-0")
        self.assertEqual(answer["namespace"], "shop")
        self.assertEqual(answer["host"], "reviews:9080")
        self.assertEqual(answer["path"], "/reviews/0")
        self.assertEqual(answer["peer"], caller)
        self.assertEqual(answer["requestId"], "abc")
        self.assertEqual(answer["calls"], [])

    def test_without_a_client_certificate_there_is_no_peer(self):
        status, answer = self.echo.get_json("/")
        self.assertIsNone(answer["peer"])

    def test_text_format(self):
        resp, body = self.echo.get("/r?format=text")
        self.assertEqual(resp.status, 200)
        self.assertTrue(resp.getheader("content-type").startswith("text/plain"))
        self.assertTrue(body.startswith("reviews v2 (pod reviews-v2-0) GET "), body)
        self.assertIn("caller not authenticated", body)

    def test_keep_alive_and_a_malformed_request(self):
        conn = http.client.HTTPConnection("127.0.0.1", self.echo.port, timeout=10)
        for _ in range(3):
            conn.request("GET", "/again")
            resp = conn.getresponse()
            self.assertEqual(resp.status, 200)
            resp.read()
        conn.close()
        with socket.create_connection(("127.0.0.1", self.echo.port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: a\r\nbad header\r\n\r\n")
            self.assertTrue(s.recv(100).startswith(b"HTTP/1.1 400"))
        self.assertEqual(self.echo.get_json("/")[0], 200)


class EchoCalls(unittest.TestCase):
    def test_calls_go_through_http_proxy_with_istio_headers_and_nest_the_answers(self):
        ratings = Echo("--service", "ratings", "--pod", "ratings-v1-0")
        proxy = RecordingProxy()
        reviews = Echo("--service", "reviews", "--pod", "reviews-v2-0",
                       "--call", "http://ratings:%d/ratings/0" % ratings.port,
                       env={"http_proxy": "http://127.0.0.1:%d" % proxy.port})
        try:
            headers = {"end-user": "jason", "x-request-id": "rid-1", "traceparent": "00-aa-bb-01",
                       "x-b3-traceid": "t1", "x-b3-spanid": "s1", "x-b3-sampled": "1",
                       "cookie": "session=1", "user-agent": "tester/1", "x-not-forwarded": "no"}
            status, answer = reviews.get_json("/reviews/0", headers)
            self.assertEqual(status, 200, answer)
            call = answer["calls"][0]
            self.assertEqual(call["url"], "http://ratings:%d/ratings/0" % ratings.port)
            self.assertEqual(call["status"], 200)
            self.assertEqual(call["answer"]["service"], "ratings")
            self.assertEqual(call["answer"]["path"], "/ratings/0")
            # Absolute form to the proxy, as curl sends it; the routing and trace headers follow.
            target, seen = proxy.seen[-1]
            self.assertEqual(target, "http://ratings:%d/ratings/0" % ratings.port)
            self.assertEqual(seen["host"], "ratings:%d" % ratings.port)
            for name in ("end-user", "x-request-id", "traceparent", "x-b3-traceid", "x-b3-spanid",
                         "x-b3-sampled", "cookie", "user-agent"):
                self.assertEqual(seen.get(name), headers[name], name)
            self.assertNotIn("x-not-forwarded", seen)
            self.assertEqual(call["answer"]["requestId"], "rid-1")
        finally:
            reviews.stop()
            proxy.stop()
            ratings.stop()

    def test_a_failed_call_is_reported_and_fails_the_answer_only_when_asked(self):
        url = "http://127.0.0.1:%d/nothing" % closed_port()
        lenient = Echo("--call", url)
        strict = Echo("--call", url, "--fail-on-call-error")
        try:
            status, answer = lenient.get_json("/")
            self.assertEqual(status, 200)
            self.assertIn("error", answer["calls"][0])
            self.assertIn("connecting to 127.0.0.1", answer["calls"][0]["error"])
            status, answer = strict.get_json("/")
            self.assertEqual(status, 502)
            # Still serving after upstream failures.
            self.assertEqual(lenient.get_json("/")[0], 200)
        finally:
            lenient.stop()
            strict.stop()

    def test_a_5xx_from_the_callee_counts_as_a_failure(self):
        broken = Echo("--fail-percent", "100")
        caller = Echo("--call", "http://127.0.0.1:%d/" % broken.port, "--fail-on-call-error")
        try:
            status, answer = caller.get_json("/")
            self.assertEqual(status, 502)
            self.assertEqual(answer["calls"][0]["status"], 503)
        finally:
            caller.stop()
            broken.stop()


class EchoFaults(unittest.TestCase):
    def test_fail_percent(self):
        half = Echo("--fail-percent", "50")
        try:
            codes = [half.get("/")[0].status for _ in range(200)]
            failed = codes.count(503)
            self.assertEqual(codes.count(200) + failed, 200)
            self.assertTrue(60 <= failed <= 140, failed)
        finally:
            half.stop()
        never = Echo("--fail-percent", "0")
        try:
            self.assertTrue(all(never.get("/")[0].status == 200 for _ in range(50)))
        finally:
            never.stop()

    def test_delay(self):
        slow = Echo("--delay-ms", "300")
        try:
            start = time.monotonic()
            self.assertEqual(slow.get("/")[0].status, 200)
            self.assertGreaterEqual(time.monotonic() - start, 0.3)
        finally:
            slow.stop()


if __name__ == "__main__":
    main()
