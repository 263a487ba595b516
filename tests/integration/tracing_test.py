"""Tracing across two sidecars: W3C traceparent and B3 headers are started or continued and
reach the app, x-request-id is kept, and both sidecars send their spans to a Zipkin collector
written here: one trace, the client sidecar's CLIENT span and the server sidecar's SERVER
span, the server span's parentId being the client span's id (separate span ids, not a shared
one). With the collector down or silent, request latency does not change."""
import http.client
import json
import os
import re
import shutil
import socket
import statistics
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from ca_test import Ca
from meshtest import main
from proxy_http_test import Proxy, Upstream, cluster, snapshot
from proxy_mtls_test import Sidecar, client_snapshot, server_snapshot


class Collector:
    """A Zipkin v2 collector: POST /api/v2/spans with a JSON array, answered 202."""

    def __init__(self):
        self.spans = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers["content-length"]))
                if self.path == "/api/v2/spans":
                    with outer.lock:
                        outer.spans.extend(json.loads(body))
                self.send_response(202 if self.path == "/api/v2/spans" else 404)
                self.send_header("content-length", "0")
                self.end_headers()

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def wait_for(self, predicate, timeout=10):
        deadline = time.time() + timeout
        while time.time() < deadline:
            with self.lock:
                found = [s for s in self.spans if predicate(s)]
            if found:
                return found
            time.sleep(0.05)
        return []

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def get(port, host, headers=None, path="/hello"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    conn.request("GET", path, headers={"Host": host, **(headers or {})})
    resp = conn.getresponse()
    body = resp.read()
    conn.close()
    return resp, body


class TracingAcrossSidecars(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.ca = Ca(cls.dir)
        cls.collector = Collector()
        cls.app = Upstream("reviews-app")
        trace = ["--zipkin-address", cls.collector.address, "--trace-sampling", "100"]
        cls.server = Sidecar(cls.ca, "reviews", server_snapshot(cls.app.port), *trace,
                             "--workload", "reviews-v1", "--label", "app=reviews")
        cls.client = Sidecar(cls.ca, "productpage", client_snapshot(cls.server.port("inbound")),
                             *trace, "--workload", "productpage-v1", "--label", "app=productpage")
        cls.server.wait_ready()
        cls.client.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.client.stop()
        cls.server.stop()
        cls.app.stop()
        cls.collector.stop()
        cls.ca.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def request(self, headers):
        resp, body = get(self.client.port("outbound"), "reviews", headers)
        self.assertEqual(resp.status, 200, body)
        return {k.lower(): v for k, v in json.loads(body)["headers"].items()}

    def spans_of(self, request_id, count=2):
        found = []
        deadline = time.time() + 10
        while len(found) < count and time.time() < deadline:
            found = self.collector.wait_for(
                lambda s: s["tags"].get("guid:x-request-id") == request_id, timeout=1)
        self.assertEqual(len(found), count, found)
        return {s["kind"]: s for s in found}

    def test_new_trace_links_client_and_server_spans(self):
        seen = self.request({"x-request-id": "req-new-trace"})
        self.assertEqual(seen["x-request-id"], "req-new-trace")
        spans = self.spans_of("req-new-trace")
        client, server = spans["CLIENT"], spans["SERVER"]
        self.assertEqual(client["traceId"], server["traceId"])
        self.assertRegex(client["traceId"], r"^[0-9a-f]{32}$")
        self.assertNotIn("parentId", client)  # the trace started at the client sidecar
        self.assertEqual(server["parentId"], client["id"])
        self.assertNotEqual(server["id"], client["id"])
        # The app got the server span as its parent, in both header families.
        self.assertEqual(seen["x-b3-traceid"], client["traceId"])
        self.assertEqual(seen["x-b3-spanid"], server["id"])
        self.assertEqual(seen["x-b3-parentspanid"], client["id"])
        self.assertEqual(seen["x-b3-sampled"], "1")
        self.assertEqual(seen["traceparent"], f"00-{client['traceId']}-{server['id']}-01")
        self.assertEqual(client["localEndpoint"]["serviceName"], "productpage.default")
        self.assertEqual(server["localEndpoint"]["serviceName"], "reviews.default")
        self.assertEqual(client["tags"]["http.status_code"], "200")
        self.assertEqual(client["tags"]["reporter"], "source")
        self.assertEqual(server["tags"]["reporter"], "destination")
        # The server's span lies inside the client's.
        self.assertGreaterEqual(server["timestamp"], client["timestamp"] - 1000)
        self.assertLessEqual(server["duration"], client["duration"] + 1000)

    def test_incoming_traceparent_is_continued(self):
        trace, parent = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
        seen = self.request({"traceparent": f"00-{trace}-{parent}-01",
                             "x-request-id": "req-w3c"})
        spans = self.spans_of("req-w3c")
        self.assertEqual(spans["CLIENT"]["traceId"], trace)
        self.assertEqual(spans["CLIENT"]["parentId"], parent)
        self.assertEqual(spans["SERVER"]["parentId"], spans["CLIENT"]["id"])
        self.assertEqual(seen["x-b3-traceid"], trace)

    def test_incoming_b3_with_sampled_0_is_propagated_and_not_exported(self):
        trace, span = "463ac35c9f6413ad", "a2fb4a1d1a96d312"
        seen = self.request({"x-b3-traceid": trace, "x-b3-spanid": span, "x-b3-sampled": "0",
                             "x-request-id": "req-unsampled"})
        self.assertEqual(seen["x-b3-traceid"], trace)  # a 64-bit id stays 64-bit
        self.assertEqual(seen["x-b3-sampled"], "0")
        self.assertTrue(seen["traceparent"].endswith("-00"))
        self.assertTrue(seen["traceparent"].startswith("00-0000000000000000" + trace))
        # A sampled request sent afterwards arrives; the unsampled one never does.
        self.request({"x-request-id": "req-after"})
        self.spans_of("req-after")
        self.assertEqual(self.collector.wait_for(
            lambda s: s["tags"].get("guid:x-request-id") == "req-unsampled", timeout=0.5), [])


class CollectorAddress(unittest.TestCase):
    def test_host_name_resolves_and_an_unknown_one_does_not_stop_the_proxy(self):
        app = Upstream("app")
        collector = Collector()
        snap = snapshot([{"route": [{"cluster": "app"}]}], [cluster("app", app.port)])
        port = collector.address.rsplit(":", 1)[1]
        named = Proxy(snap, "--trace-sampling", "100", "--zipkin-address", "localhost:" + port)
        lost = Proxy(snap, "--trace-sampling", "100", "--zipkin-address",
                     "collector.invalid:9411")
        try:
            resp, _ = named.request(headers={"x-request-id": "by-name"})
            self.assertEqual(resp.status, 200)
            self.assertTrue(collector.wait_for(
                lambda s: s["tags"].get("guid:x-request-id") == "by-name"))
            resp, _ = lost.request()
            self.assertEqual(resp.status, 200)  # serving, spans not exported
        finally:
            named.stop()
            lost.stop()
            collector.stop()
            app.stop()

    def test_malformed_address_is_refused_at_start(self):
        with self.assertRaises(RuntimeError):
            Proxy(snapshot([], []), "--zipkin-address", "no-port-here")


class DeadCollector(unittest.TestCase):
    """Latency with the collector refusing connections, or accepting and never answering,
    against no tracing at all: medians of N requests, all spans sampled."""
    N = 150

    def setUp(self):
        self.app = Upstream("app")
        self.proxies = []
        # A port nobody listens on, and a socket whose backlog takes connections that are
        # never accepted or answered.
        s = socket.socket()
        s.bind(("127.0.0.1", 0))
        self.closed = "127.0.0.1:%d" % s.getsockname()[1]
        s.close()
        self.silent = socket.create_server(("127.0.0.1", 0), backlog=1024)
        self.silent_address = "127.0.0.1:%d" % self.silent.getsockname()[1]

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        self.app.stop()
        self.silent.close()

    def proxy(self, *args):
        p = Proxy(snapshot([{"route": [{"cluster": "app"}]}], [cluster("app", self.app.port)]),
                  "--trace-sampling", "100", *args, concurrency=1)
        self.proxies.append(p)
        return p

    def median_ms(self, p):
        conn = http.client.HTTPConnection("127.0.0.1", p.port(), timeout=10)
        times = []
        for _ in range(self.N):
            start = time.perf_counter()
            conn.request("GET", "/", headers={"Host": "svc"})
            resp = conn.getresponse()
            resp.read()
            times.append((time.perf_counter() - start) * 1000)
            self.assertEqual(resp.status, 200)
        conn.close()
        return statistics.median(times)

    def spans_total(self, p, result):
        _, text = p.admin("/stats/prometheus")
        m = re.search(rf'^mesh_proxy_tracing_spans_total{{result="{result}"}} (\d+)$',
                      text.decode(), re.M)
        return int(m.group(1)) if m else 0

    def test_latency_unchanged_with_collector_down_or_silent(self):
        plain = self.proxy()
        refused = self.proxy("--zipkin-address", self.closed)
        silent = self.proxy("--zipkin-address", self.silent_address)
        self.median_ms(plain)  # warm up the app and the pools
        base = self.median_ms(plain)
        with_refused = self.median_ms(refused)
        with_silent = self.median_ms(silent)
        print(f"median ms: no tracing {base:.2f}, collector refused {with_refused:.2f}, "
              f"collector silent {with_silent:.2f}")
        bound = base * 3 + 3
        self.assertLess(with_refused, bound)
        self.assertLess(with_silent, bound)
        # The spans were made and then lost, counted by why.
        deadline = time.time() + 8
        while time.time() < deadline:
            if (self.spans_total(refused, "dropped_send_failed") > 0 and
                    self.spans_total(silent, "dropped_send_failed") > 0):
                break
            time.sleep(0.2)
        self.assertGreater(self.spans_total(refused, "dropped_send_failed"), 0)
        self.assertGreater(self.spans_total(silent, "dropped_send_failed"), 0)
        self.assertEqual(self.spans_total(silent, "sent"), 0)


if __name__ == "__main__":
    main()
