"""`mesh proxy --config FILE` in front of real upstream HTTP servers, driven with
http.client and curl: routing, splits, retries, timeouts, faults, circuit breaking, outlier
ejection, bad requests, slow clients, resets, reload and drain."""
import http.client
import json
import os
import signal
import socket
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from meshtest import MESH, main


class Upstream:
    """An HTTP/1.1 server on 127.0.0.1:0 in a thread. `behaviour(handler)` may answer
    instead of the default, which echoes the server's name, method, path and headers."""

    def __init__(self, name, behaviour=None):
        self.name = name
        self.behaviour = behaviour
        self.hits = 0
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = 65536  # head and body in one segment; flushed after each request

            def log_message(self, *args):
                pass

            def handle_one(self):
                with outer.lock:
                    outer.hits += 1
                length = int(self.headers.get("content-length") or 0)
                self.body = self.rfile.read(length) if length else b""
                if outer.behaviour and outer.behaviour(self) is not None:
                    return
                payload = json.dumps({"server": outer.name, "method": self.command,
                                      "path": self.path, "headers": dict(self.headers),
                                      "body": self.body.decode("latin-1")}).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(payload)))
                self.send_header("x-upstream", outer.name)
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(payload)

            do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = handle_one

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def reply(handler, status, body=b"", headers=None):
    handler.send_response(status)
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.send_header("content-length", str(len(body)))
    handler.end_headers()
    handler.wfile.write(body)
    return True


def cluster(name, *ports, **extra):
    c = {"name": name, "service": name, "endpoints": [{"address": "127.0.0.1", "port": p} for p in ports]}
    c.update(extra)
    return c


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class Proxy:
    """A running `mesh proxy`; reads the ports from its "listening ..." line."""

    def __init__(self, snapshot, *args, concurrency=2):
        self.dir = tempfile.mkdtemp()
        self.config = os.path.join(self.dir, "snapshot.json")
        self.write(snapshot)
        self.log = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.access = os.path.join(self.dir, "access.log")
        self.proc = subprocess.Popen(
            [MESH, "proxy", "--config", self.config, "--admin", "127.0.0.1:0",
             "--readiness", "127.0.0.1:0", "--concurrency", str(concurrency),
             "--access-log", self.access, *args],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening"):
            self.log.seek(0)
            raise RuntimeError("proxy did not start: " + line + self.log.read())
        self.addresses = dict(item.split("=", 1) for item in line.split()[1:])

    def write(self, snapshot):
        tmp = self.config + ".tmp"
        with open(tmp, "w") as f:
            json.dump(snapshot, f) if not isinstance(snapshot, str) else f.write(snapshot)
        os.replace(tmp, self.config)

    def port(self, name="outbound"):
        return int(self.addresses[name].rsplit(":", 1)[1])

    def request(self, method="GET", path="/", host="svc", headers=None, body=None, port=None,
                timeout=10):
        conn = http.client.HTTPConnection("127.0.0.1", port or self.port(), timeout=timeout)
        hdrs = {"Host": host}
        hdrs.update(headers or {})
        conn.request(method, path, body=body, headers=hdrs)
        resp = conn.getresponse()
        data = resp.read()
        conn.close()
        return resp, data

    def admin(self, path, method="GET"):
        return self.request(method, path, port=self.port("admin"), host="admin")

    def stop(self):
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


def snapshot(routes, clusters, domains=("svc",), listeners=None):
    return {
        "version": "1",
        "clusters": clusters,
        "routeTables": [{"name": "rt", "virtualHosts": [
            {"name": "svc", "domains": list(domains), "routes": routes}]}],
        "listeners": listeners or [{"name": "outbound", "port": 0, "routeTable": "rt"}],
    }


class ProxyCase(unittest.TestCase):
    def setUp(self):
        self.upstreams = []
        self.proxies = []

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        for u in self.upstreams:
            u.stop()

    def upstream(self, name, behaviour=None):
        u = Upstream(name, behaviour)
        self.upstreams.append(u)
        return u

    def proxy(self, snap, *args, **kw):
        p = Proxy(snap, *args, **kw)
        self.proxies.append(p)
        return p


class RoutingTest(ProxyCase):
    def test_routes_by_host_path_and_header(self):
        a, b, c = self.upstream("a"), self.upstream("b"), self.upstream("c")
        snap = {
            "version": "1",
            "clusters": [cluster("ca", a.port), cluster("cb", b.port), cluster("cc", c.port)],
            "routeTables": [{"name": "rt", "virtualHosts": [
                {"name": "one", "domains": ["one.example", "one.example:80"], "routes": [
                    {"match": [{"headers": {"end-user": {"kind": "exact", "value": "jason"}}}],
                     "route": [{"cluster": "cc"}]},
                    {"match": [{"uri": {"kind": "prefix", "value": "/b/"}}],
                     "route": [{"cluster": "cb"}], "rewrite": {"uri": "/rewritten/"}},
                    {"route": [{"cluster": "ca"}],
                     "headers": {"request": {"set": {"x-added": "yes"}},
                                 "response": {"add": {"x-resp": "1"}}}}]},
                {"name": "wild", "domains": ["*.wild.example"], "routes": [
                    {"route": [{"cluster": "cb"}]}]},
            ]}],
            "listeners": [{"name": "outbound", "port": 0, "routeTable": "rt"}],
        }
        p = self.proxy(snap)
        resp, data = p.request(host="one.example", path="/x")
        self.assertEqual(resp.status, 200)
        echo = json.loads(data)
        self.assertEqual(echo["server"], "a")
        self.assertEqual(echo["headers"].get("x-added"), "yes")
        self.assertEqual(resp.getheader("x-resp"), "1")
        self.assertRegex(echo["headers"].get("x-request-id", ""), r"^[0-9a-f-]{36}$")
        self.assertEqual(echo["headers"].get("x-forwarded-for"), "127.0.0.1")
        resp, data = p.request(host="one.example", path="/b/thing?q=1")
        self.assertEqual(json.loads(data)["server"], "b")
        self.assertEqual(json.loads(data)["path"], "/rewritten/thing?q=1")
        resp, data = p.request(host="one.example", headers={"end-user": "jason"})
        self.assertEqual(json.loads(data)["server"], "c")
        resp, data = p.request(host="deep.wild.example")
        self.assertEqual(json.loads(data)["server"], "b")
        # No virtual host: 404 with flag NR.
        resp, data = p.request(host="nowhere.example")
        self.assertEqual(resp.status, 404)
        self.assertEqual(resp.getheader("x-mesh-response-flags"), "NR")
        self.assertIn(b"no route", data)

    def test_http_proxy_absolute_uri_with_curl(self):
        a = self.upstream("a")
        p = self.proxy(snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", a.port)],
                                domains=["reviews", "reviews:9080"]))
        out = subprocess.run(
            ["curl", "-s", "-x", f"http://127.0.0.1:{p.port()}", "http://reviews:9080/r?x=1"],
            capture_output=True, text=True, timeout=20)
        echo = json.loads(out.stdout)
        self.assertEqual(echo["server"], "a")
        self.assertEqual(echo["path"], "/r?x=1")
        self.assertEqual(echo["headers"]["Host"], "reviews:9080")

    def test_weighted_split_80_20(self):
        a, b = self.upstream("a"), self.upstream("b")
        p = self.proxy(snapshot([{"route": [{"cluster": "ca", "weight": 80},
                                            {"cluster": "cb", "weight": 20}]}],
                                [cluster("ca", a.port), cluster("cb", b.port)]))
        conn = http.client.HTTPConnection("127.0.0.1", p.port(), timeout=10)
        counts = {"a": 0, "b": 0}
        for _ in range(1000):
            conn.request("GET", "/", headers={"Host": "svc"})
            resp = conn.getresponse()
            resp.read()
            counts[resp.getheader("x-upstream")] += 1
        conn.close()
        self.assertTrue(750 <= counts["a"] <= 850, counts)
        self.assertTrue(150 <= counts["b"] <= 250, counts)

    def test_redirect_direct_response_and_cors(self):
        a = self.upstream("a")
        routes = [
            {"match": [{"uri": {"kind": "exact", "value": "/old"}}],
             "redirect": {"uri": "/new", "authority": "elsewhere", "code": 302}},
            {"match": [{"uri": {"kind": "prefix", "value": "/static"}}],
             "directResponse": {"status": 418, "body": "teapot"}},
            {"route": [{"cluster": "ca"}],
             "cors": {"allowOrigins": [{"kind": "exact", "value": "https://app.example"}],
                      "allowMethods": ["GET", "POST"], "maxAgeSeconds": 60}},
        ]
        p = self.proxy(snapshot(routes, [cluster("ca", a.port)]))
        resp, _ = p.request(path="/old")
        self.assertEqual(resp.status, 302)
        self.assertEqual(resp.getheader("location"), "http://elsewhere/new")
        resp, data = p.request(path="/static/x")
        self.assertEqual((resp.status, data), (418, b"teapot"))
        resp, _ = p.request("OPTIONS", "/api", headers={
            "Origin": "https://app.example", "Access-Control-Request-Method": "POST"})
        self.assertEqual(resp.status, 200)
        self.assertEqual(resp.getheader("access-control-allow-methods"), "GET,POST")
        self.assertEqual(a.hits, 0)  # the preflight never reached the app
        resp, _ = p.request(path="/api", headers={"Origin": "https://app.example"})
        self.assertEqual(resp.getheader("access-control-allow-origin"), "https://app.example")
        resp, _ = p.request(path="/api", headers={"Origin": "https://evil.example"})
        self.assertIsNone(resp.getheader("access-control-allow-origin"))

    def test_request_body_streams_to_upstream(self):
        a = self.upstream("a")
        p = self.proxy(snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", a.port)]))
        body = b"x" * 300000
        resp, data = p.request("POST", "/upload", body=body)
        self.assertEqual(resp.status, 200)
        self.assertEqual(len(json.loads(data)["body"]), len(body))


class ResilienceTest(ProxyCase):
    def test_retries_turn_flaky_upstream_into_success_and_urx_when_exhausted(self):
        state = {"n": 0}

        def flaky(h):
            state["n"] += 1
            if state["n"] % 3 != 0:
                return reply(h, 503, b"busy")
            return None

        a = self.upstream("a", flaky)
        always = self.upstream("bad", lambda h: reply(h, 503, b"down"))
        routes = [
            {"match": [{"uri": {"kind": "prefix", "value": "/bad"}}],
             "route": [{"cluster": "cbad"}], "retries": {"attempts": 2, "retryOn": "5xx"}},
            {"route": [{"cluster": "ca"}], "retries": {"attempts": 3, "retryOn": "5xx"}},
        ]
        p = self.proxy(snapshot(routes, [cluster("ca", a.port), cluster("cbad", always.port)]))
        for _ in range(5):
            resp, _ = p.request()
            self.assertEqual(resp.status, 200)
        resp, data = p.request(path="/bad")
        self.assertEqual(resp.status, 503)
        self.assertIn("URX", resp.getheader("x-mesh-response-flags"))
        self.assertEqual(always.hits, 3)  # the first try and two retries

    def test_route_timeout_gives_504_ut(self):
        slow = self.upstream("slow", lambda h: (time.sleep(2), reply(h, 200, b"late"))[1])
        p = self.proxy(snapshot([{"route": [{"cluster": "cs"}], "timeoutMs": 300,
                                  "retries": {"attempts": 0}}], [cluster("cs", slow.port)]))
        start = time.monotonic()
        resp, data = p.request()
        self.assertEqual(resp.status, 504)
        self.assertEqual(resp.getheader("x-mesh-response-flags"), "UT")
        self.assertLess(time.monotonic() - start, 1.5)

    def test_dead_upstream_503_uf(self):
        port = free_port()
        p = self.proxy(snapshot([{"route": [{"cluster": "dead"}]}], [cluster("dead", port)]))
        resp, data = p.request()
        self.assertEqual(resp.status, 503)
        self.assertIn("UF", resp.getheader("x-mesh-response-flags"))
        self.assertIn(b"connection failure", data)

    def test_fault_abort_percentage_and_delay(self):
        a = self.upstream("a")
        routes = [
            {"match": [{"uri": {"kind": "prefix", "value": "/delay"}}],
             "route": [{"cluster": "ca"}], "fault": {"delayMs": 300, "delayPercent": 100}},
            {"route": [{"cluster": "ca"}], "fault": {"abortStatus": 418, "abortPercent": 50}},
        ]
        p = self.proxy(snapshot(routes, [cluster("ca", a.port)]))
        aborted = 0
        for _ in range(400):
            resp, _ = p.request()
            if resp.status == 418:
                self.assertEqual(resp.getheader("x-mesh-response-flags"), "FI")
                aborted += 1
        self.assertTrue(150 <= aborted <= 250, aborted)
        start = time.monotonic()
        resp, _ = p.request(path="/delay")
        self.assertEqual(resp.status, 200)
        self.assertGreaterEqual(time.monotonic() - start, 0.3)

    def test_circuit_breaker_503_uo(self):
        slow = self.upstream("slow", lambda h: (time.sleep(1), reply(h, 200, b"ok"))[1])
        p = self.proxy(snapshot([{"route": [{"cluster": "cs"}], "retries": {"attempts": 0}}],
                                [cluster("cs", slow.port, pool={"maxConnections": 1,
                                                                "maxPendingRequests": 1})]))
        results = []

        def call():
            resp, _ = p.request()
            results.append((resp.status, resp.getheader("x-mesh-response-flags")))

        threads = [threading.Thread(target=call) for _ in range(6)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertIn((503, "UO"), results)
        self.assertIn((200, None), results)

    def test_outlier_ejection_keeps_traffic_away_until_it_ends(self):
        good = self.upstream("good")
        bad = self.upstream("bad", lambda h: reply(h, 500, b"broken"))
        c = cluster("cx", good.port, bad.port,
                    outlier={"consecutive5xxErrors": 2, "baseEjectionTimeMs": 1500,
                             "maxEjectionPercent": 50})
        p = self.proxy(snapshot([{"route": [{"cluster": "cx"}], "retries": {"attempts": 0}}], [c]),
                       concurrency=1)
        # One worker serves on the main thread: no thread of its own.
        self.assertEqual(len(os.listdir("/proc/%d/task" % p.proc.pid)), 1)
        for _ in range(6):
            p.request()
        hits = bad.hits
        self.assertGreaterEqual(hits, 2)
        for _ in range(20):
            resp, _ = p.request()
            self.assertEqual(resp.status, 200)
        self.assertEqual(bad.hits, hits)  # ejected: no traffic
        _, clusters = p.admin("/clusters")
        self.assertIn(b"failed_outlier_check", clusters)
        time.sleep(1.6)
        for _ in range(10):
            p.request()
        self.assertGreater(bad.hits, hits)  # back after the ejection time

    def test_upstream_reset_mid_response(self):
        def cut(h):
            h.send_response(200)
            h.send_header("content-length", "1000")
            h.end_headers()
            h.wfile.write(b"partial")
            h.wfile.flush()
            h.connection.shutdown(socket.SHUT_RDWR)
            return True

        a = self.upstream("a", cut)
        b = self.upstream("b")
        routes = [{"match": [{"uri": {"kind": "prefix", "value": "/cut"}}],
                   "route": [{"cluster": "ca"}]},
                  {"route": [{"cluster": "cb"}]}]
        p = self.proxy(snapshot(routes, [cluster("ca", a.port), cluster("cb", b.port)]))
        with self.assertRaises((http.client.IncompleteRead, ConnectionError)):
            p.request(path="/cut")
        time.sleep(0.1)
        with open(p.access) as f:
            self.assertIn(" UC ", f.read())
        resp, _ = p.request(path="/")  # the proxy goes on serving others
        self.assertEqual(resp.status, 200)


class ClientTest(ProxyCase):
    def setUp(self):
        super().setUp()
        self.a = self.upstream("a")
        self.p = self.proxy(snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", self.a.port)]),
                            "--request-headers-timeout-ms", "1000")

    def raw(self, data, read=True):
        s = socket.create_connection(("127.0.0.1", self.p.port()), timeout=5)
        s.sendall(data)
        out = b""
        while read:
            chunk = s.recv(65536)
            if not chunk:
                break
            out += chunk
        s.close()
        return out

    def test_malformed_request_400(self):
        out = self.raw(b"GET / HTTP/1.1\r\nHost: svc\r\nBad Header: x\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 400"), out)
        self.assertIn(b"x-mesh-response-flags: DPE", out)

    def test_oversized_headers_431(self):
        out = self.raw(b"GET / HTTP/1.1\r\nHost: svc\r\nX-Big: " + b"a" * 70000 + b"\r\n\r\n")
        self.assertTrue(out.startswith(b"HTTP/1.1 431"), out[:100])

    def test_slowloris_does_not_block_others(self):
        slow = socket.create_connection(("127.0.0.1", self.p.port()), timeout=5)
        slow.sendall(b"GET / HTTP/1.1\r\nHost: svc\r\n")
        resp, _ = self.p.request()
        self.assertEqual(resp.status, 200)
        out = slow.recv(4096)  # the header timeout answers the slow client
        self.assertTrue(out.startswith(b"HTTP/1.1 408"), out)
        slow.close()

    def test_local_replies_keep_the_connection_for_the_next_request(self):
        # 404 NR (no route) answered from the head: the connection carries on, pipelined or not.
        conn = http.client.HTTPConnection("127.0.0.1", self.p.port(), timeout=5)
        for path in ("/1", "/2", "/3"):
            conn.request("GET", path, headers={"Host": "nowhere"})
            resp = conn.getresponse()
            resp.read()
            self.assertEqual(resp.status, 404)
            self.assertNotEqual(resp.getheader("connection"), "close")
        conn.request("GET", "/4", headers={"Host": "svc"})
        self.assertEqual(conn.getresponse().status, 200)
        conn.close()
        out = self.raw(b"GET /a HTTP/1.1\r\nHost: nowhere\r\n\r\nGET /b HTTP/1.1\r\nHost: svc\r\n"
                       b"Connection: close\r\n\r\n")
        self.assertEqual(out.count(b"HTTP/1.1 404"), 1, out)
        self.assertEqual(out.count(b"HTTP/1.1 200"), 1, out)

    def test_a_local_reply_before_the_body_closes_and_says_so(self):
        s = socket.create_connection(("127.0.0.1", self.p.port()), timeout=5)
        s.sendall(b"POST / HTTP/1.1\r\nHost: nowhere\r\nContent-Length: 10\r\n\r\n")
        out = b""
        while b"\r\n\r\n" not in out:
            out += s.recv(65536)
        s.close()
        self.assertTrue(out.startswith(b"HTTP/1.1 404"), out)
        self.assertIn(b"connection: close", out.lower())

    def test_keep_alive_and_pipelining(self):
        out = self.raw(b"GET /1 HTTP/1.1\r\nHost: svc\r\n\r\nGET /2 HTTP/1.1\r\nHost: svc\r\n"
                       b"Connection: close\r\n\r\n")
        self.assertEqual(out.count(b"HTTP/1.1 200"), 2, out)
        self.assertLess(out.index(b'"/1"'), out.index(b'"/2"'))


class LifecycleTest(ProxyCase):
    def test_sighup_reload_and_bad_file_keeps_serving(self):
        a, b = self.upstream("a"), self.upstream("b")
        snap = snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", a.port), cluster("cb", b.port)])
        p = self.proxy(snap)
        resp, _ = p.request()
        self.assertEqual(resp.getheader("x-upstream"), "a")
        p.write("{ not json")
        p.proc.send_signal(signal.SIGHUP)
        time.sleep(0.3)
        resp, _ = p.request()
        self.assertEqual(resp.getheader("x-upstream"), "a")
        _, stats = p.admin("/stats")
        self.assertIn(b'mesh_proxy_config_reloads_total{result="error"} 1', stats)
        snap["routeTables"][0]["virtualHosts"][0]["routes"][0]["route"][0]["cluster"] = "cb"
        snap["version"] = "2"
        p.write(snap)
        p.proc.send_signal(signal.SIGHUP)
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            resp, _ = p.request()
            if resp.getheader("x-upstream") == "b":
                break
            time.sleep(0.05)
        self.assertEqual(resp.getheader("x-upstream"), "b")
        _, dump = p.admin("/config_dump")
        self.assertEqual(json.loads(dump)["version"], "2")

    def test_reload_under_load_fails_no_request(self):
        a, b = self.upstream("a"), self.upstream("b")
        snap = snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", a.port), cluster("cb", b.port)])
        p = self.proxy(snap)
        stop = threading.Event()
        failures, served = [], []

        def load():
            conn = http.client.HTTPConnection("127.0.0.1", p.port(), timeout=10)
            while not stop.is_set():
                try:
                    conn.request("GET", "/", headers={"Host": "svc"})
                    resp = conn.getresponse()
                    resp.read()
                    (served if resp.status == 200 else failures).append(resp.status)
                except (OSError, http.client.HTTPException) as e:
                    failures.append(repr(e))
                    conn.close()
                    conn = http.client.HTTPConnection("127.0.0.1", p.port(), timeout=10)
            conn.close()

        threads = [threading.Thread(target=load) for _ in range(4)]
        for t in threads:
            t.start()
        for version in range(2, 8):
            target = "cb" if version % 2 == 0 else "ca"
            snap["version"] = str(version)
            snap["routeTables"][0]["virtualHosts"][0]["routes"][0]["route"][0]["cluster"] = target
            p.write(snap)
            p.proc.send_signal(signal.SIGHUP)
            time.sleep(0.2)
        stop.set()
        for t in threads:
            t.join()
        self.assertEqual(failures, [])
        self.assertGreater(len(served), 50)
        self.assertGreater(a.hits, 0)
        self.assertGreater(b.hits, 0)

    def test_sigterm_drain_finishes_in_flight_request(self):
        slow = self.upstream("slow", lambda h: (time.sleep(1), reply(h, 200, b"done"))[1])
        p = self.proxy(snapshot([{"route": [{"cluster": "cs"}]}], [cluster("cs", slow.port)]),
                       "--drain-seconds", "5")
        result = {}

        def call():
            resp, data = p.request()
            result["r"] = (resp.status, data)

        t = threading.Thread(target=call)
        t.start()
        time.sleep(0.3)
        p.proc.send_signal(signal.SIGTERM)
        t.join()
        self.assertEqual(result["r"], (200, b"done"))
        self.assertEqual(p.proc.wait(timeout=10), 0)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", p.port()), timeout=1)

    def test_admin_endpoints(self):
        a = self.upstream("a")
        p = self.proxy(snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", a.port)]))
        resp, data = p.admin("/ready")
        self.assertEqual((resp.status, data), (200, b"LIVE\n"))
        resp, data = p.request(path="/healthz/ready", port=p.port("readiness"))
        self.assertEqual(resp.status, 200)
        p.request()
        resp, data = p.admin("/clusters")
        self.assertIn(f"ca::127.0.0.1:{a.port}::rq_total::1".encode(), data)
        resp, data = p.admin("/memory")
        memory = {k: int(v) for k, v in json.loads(data).items()}
        self.assertLessEqual(memory["allocated"], memory["heap_size"])
        if os.environ.get("MESH_SANITIZED") != "1":  # the sanitizer's malloc reports nothing
            self.assertGreater(memory["allocated"], 0)
        resp, data = p.admin("/logging?level=debug", "POST")
        self.assertEqual(resp.status, 200)
        resp, data = p.admin("/logging?level=loud", "POST")
        self.assertEqual(resp.status, 400)
        resp, _ = p.admin("/quitquitquit", "POST")
        self.assertEqual(resp.status, 200)
        self.assertEqual(p.proc.wait(timeout=10), 0)


class MoreFeaturesTest(ProxyCase):
    def test_websocket_upgrade_becomes_a_tunnel(self):
        def upgrade(h):
            h.send_response(101)
            h.send_header("Upgrade", "echo")
            h.send_header("Connection", "Upgrade")
            h.end_headers()
            h.wfile.flush()
            while True:
                data = h.connection.recv(4096)
                if not data:
                    break
                h.connection.sendall(data.upper())
            h.close_connection = True
            return True

        a = self.upstream("a", upgrade)
        p = self.proxy(snapshot([{"route": [{"cluster": "ca"}]}], [cluster("ca", a.port)]))
        s = socket.create_connection(("127.0.0.1", p.port()), timeout=5)
        s.sendall(b"GET /ws HTTP/1.1\r\nHost: svc\r\nUpgrade: echo\r\nConnection: Upgrade\r\n\r\n")
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        self.assertTrue(head.startswith(b"HTTP/1.1 101"), head)
        self.assertIn(b"upgrade: echo", head.lower())
        s.sendall(b"hello tunnel")
        got = b""
        while len(got) < 12:
            got += s.recv(4096)
        self.assertEqual(got, b"HELLO TUNNEL")
        s.close()

    def test_tcp_listener_forwards_server_first_protocol(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen()
        port = server.getsockname()[1]

        def serve():
            conn, _ = server.accept()
            conn.sendall(b"greeting from the server\n")  # the server speaks first
            data = conn.recv(4096)
            conn.sendall(b"echo:" + data)
            conn.close()

        t = threading.Thread(target=serve, daemon=True)
        t.start()
        snap = snapshot([{"route": [{"cluster": "db"}]}], [cluster("db", port, protocol="tcp")],
                        listeners=[{"name": "outbound", "port": 0, "routeTable": "rt"},
                                   {"name": "mysql", "port": 0, "protocol": "tcp", "cluster": "db"}])
        p = self.proxy(snap)
        s = socket.create_connection(("127.0.0.1", p.port("mysql")), timeout=5)
        self.assertEqual(s.recv(4096), b"greeting from the server\n")
        s.sendall(b"ping")
        self.assertEqual(s.recv(4096), b"echo:ping")
        self.assertEqual(s.recv(4096), b"")  # the upstream's close reaches the client
        s.close()
        t.join()
        server.close()

    def test_mirror_sends_a_shadow_copy(self):
        a, m = self.upstream("a"), self.upstream("m")
        p = self.proxy(snapshot([{"route": [{"cluster": "ca"}], "mirror": {"cluster": "cm", "percent": 100}}],
                                [cluster("ca", a.port), cluster("cm", m.port)]))
        resp, data = p.request(path="/m")
        self.assertEqual(json.loads(data)["server"], "a")
        deadline = time.monotonic() + 5
        while m.hits == 0 and time.monotonic() < deadline:
            time.sleep(0.02)
        self.assertEqual(m.hits, 1)

    def test_connect_failure_is_retried_on_another_host(self):
        a = self.upstream("a")
        dead = free_port()
        p = self.proxy(snapshot([{"route": [{"cluster": "mixed"}]}], [cluster("mixed", dead, a.port)]),
                       concurrency=1)
        for _ in range(10):
            resp, _ = p.request()
            self.assertEqual(resp.status, 200)  # Istio's default retry on connect-failure

    def test_ring_hash_on_header_is_sticky(self):
        ups = [self.upstream(n) for n in ("a", "b", "c")]
        c = cluster("ring", *[u.port for u in ups],
                    loadBalancer={"policy": "RING_HASH", "hashHeader": "x-user"})
        p = self.proxy(snapshot([{"route": [{"cluster": "ring"}]}], [c]))
        seen = {}
        for user in range(20):
            for _ in range(3):
                resp, _ = p.request(headers={"x-user": f"user-{user}"})
                seen.setdefault(user, set()).add(resp.getheader("x-upstream"))
        self.assertTrue(all(len(v) == 1 for v in seen.values()), seen)
        self.assertGreater(len({next(iter(v)) for v in seen.values()}), 1)

    def test_per_try_timeout_retries_then_ut(self):
        slow = self.upstream("slow", lambda h: (time.sleep(1), reply(h, 200, b"late"))[1])
        p = self.proxy(snapshot([{"route": [{"cluster": "cs"}],
                                  "retries": {"attempts": 2, "perTryTimeoutMs": 200,
                                              "retryOn": "gateway-error"}}],
                                [cluster("cs", slow.port)]))
        start = time.monotonic()
        resp, _ = p.request()
        self.assertEqual(resp.status, 504)
        self.assertEqual(resp.getheader("x-mesh-response-flags"), "URX,UT")
        self.assertGreaterEqual(slow.hits, 3)
        self.assertLess(time.monotonic() - start, 1.5)


if __name__ == "__main__":
    main()
