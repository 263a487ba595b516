"""`mesh proxy` under real load: h2load keeps 24 keep-alive connections busy while the route
changes every second (SIGHUP), and SIGTERM lands while many slow requests are in flight.
The upstreams are asyncio HTTP/1.1 servers, fast enough that the proxy is the bottleneck."""
import asyncio
import http.client
import json
import re
import signal
import socket
import subprocess
import threading
import time
import unittest

from meshtest import main
from proxy_http_test import Proxy, cluster, snapshot


class AsyncUpstream:
    """A keep-alive HTTP/1.1 responder on 127.0.0.1:0, on an asyncio loop in its own thread.
    Every request (GET, no body) is answered 200 with the server's name after `delay` s.
    `arrived` counts requests read, `answered` responses written."""

    def __init__(self, name, delay=0.0):
        self.name = name
        self.delay = delay
        self.arrived = 0
        self.answered = 0
        body = name.encode()
        self.response = (b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\nx-upstream: " + body +
                         b"\r\ncontent-length: " + str(len(body)).encode() + b"\r\n\r\n" + body)
        self.loop = asyncio.new_event_loop()
        ready = threading.Event()
        self.thread = threading.Thread(target=self._run, args=(ready,), daemon=True)
        self.thread.start()
        ready.wait(5)

    def _run(self, ready):
        asyncio.set_event_loop(self.loop)
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self._serve, "127.0.0.1", 0, backlog=1024))
        self.port = self.server.sockets[0].getsockname()[1]
        ready.set()
        self.loop.run_forever()

    async def _serve(self, reader, writer):
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                if not head:
                    break
                self.arrived += 1
                if self.delay:
                    await asyncio.sleep(self.delay)
                writer.write(self.response)
                self.answered += 1
                if b"connection: close" in head.lower():
                    await writer.drain()
                    break
        except (asyncio.IncompleteReadError, ConnectionError, asyncio.LimitOverrunError):
            pass
        finally:
            writer.close()

    def stop(self):
        async def close():
            self.server.close()
            await self.server.wait_closed()
        try:
            asyncio.run_coroutine_threadsafe(close(), self.loop).result(5)
        except Exception:
            pass
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(5)


def h2load_counts(report):
    """The request and status figures of an h2load report."""
    m = re.search(r"requests: (\d+) total, (\d+) started, (\d+) done, (\d+) succeeded, "
                  r"(\d+) failed, (\d+) errored, (\d+) timeout", report)
    s = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", report)
    r = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", report)
    if not (m and s and r):
        raise AssertionError("unreadable h2load report:\n" + report)
    keys = ("total", "started", "done", "succeeded", "failed", "errored", "timeout")
    out = dict(zip(keys, map(int, m.groups())))
    out.update(zip(("2xx", "3xx", "4xx", "5xx"), map(int, s.groups())))
    out["rps"] = float(r.group(1))
    return out


class LoadCase(unittest.TestCase):
    def setUp(self):
        self.upstreams, self.proxies = [], []

    def tearDown(self):
        for p in self.proxies:
            p.stop()
        for u in self.upstreams:
            u.stop()

    def upstream(self, name, delay=0.0):
        u = AsyncUpstream(name, delay)
        self.upstreams.append(u)
        return u

    def proxy(self, snap, *args, **kw):
        p = Proxy(snap, *args, **kw)
        self.proxies.append(p)
        return p


class ReloadUnderLoadTest(LoadCase):
    def test_route_changes_every_second_under_h2load_fail_nothing(self):
        a, b = self.upstream("a"), self.upstream("b")
        clusters = [cluster("ca", a.port), cluster("cb", b.port)]
        snap = snapshot([{"route": [{"cluster": "ca"}]}], clusters)
        p = self.proxy(snap)
        # The route alternates between one cluster, the other, and splits both ways.
        shapes = [[{"cluster": "cb"}],
                  [{"cluster": "ca", "weight": 50}, {"cluster": "cb", "weight": 50}],
                  [{"cluster": "ca"}],
                  [{"cluster": "ca", "weight": 10}, {"cluster": "cb", "weight": 90}]]
        load = subprocess.Popen(
            ["h2load", "--h1", "-c", "24", "-t", "1", "-D", "10", "-H", ":authority: svc",
             f"http://127.0.0.1:{p.port()}/"],
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        reloads = 0
        deadline = time.monotonic() + 10
        hits = []
        while time.monotonic() < deadline - 0.5:
            time.sleep(1)
            reloads += 1
            snap["version"] = str(reloads + 1)
            snap["routeTables"][0]["virtualHosts"][0]["routes"][0]["route"] = \
                shapes[reloads % len(shapes)]
            p.write(snap)
            p.proc.send_signal(signal.SIGHUP)
            hits.append((a.arrived, b.arrived))
        report, _ = load.communicate(timeout=60)
        counts = h2load_counts(report)
        print(f"\nh2load --h1 -c 24 for 10 s, {reloads} reloads: {counts['rps']:.0f} req/s, "
              f"{counts['succeeded']} succeeded, {counts['failed']} failed, "
              f"{counts['errored']} errored, {counts['timeout']} timeout, "
              f"non-2xx {counts['3xx'] + counts['4xx'] + counts['5xx']}; "
              f"upstream a {a.arrived}, b {b.arrived}")
        self.assertEqual((counts["failed"], counts["errored"], counts["timeout"]), (0, 0, 0), report)
        self.assertEqual(counts["3xx"] + counts["4xx"] + counts["5xx"], 0, report)
        self.assertGreater(counts["succeeded"], 2000, report)
        # The upstreams answered every request h2load counted, plus at most the one per
        # connection that was still on its way back when h2load stopped.
        self.assertTrue(0 <= a.answered + b.answered - counts["succeeded"] <= 24,
                        (a.answered, b.answered, counts))
        self.assertGreaterEqual(reloads, 8)
        # Every reload took: the last version comes into force and none failed. The last
        # SIGHUP went out about half a second before the load ended; on a busy machine (or
        # under the sanitizers) the main loop may reach it a little after that.
        waited = time.monotonic()
        while True:
            _, dump = p.admin("/config_dump")
            version = json.loads(dump)["version"]
            if version == str(reloads + 1) or time.monotonic() - waited > 10:
                break
            time.sleep(0.05)
        print(f"last version in force {time.monotonic() - waited:.2f} s after the load ended")
        self.assertEqual(version, str(reloads + 1))
        _, stats = p.admin("/stats")
        m = re.search(rb'mesh_proxy_config_reloads_total\{result="ok"\} (\d+)', stats)
        self.assertGreaterEqual(int(m.group(1)) if m else 0, reloads, stats)
        self.assertNotRegex(stats, rb'mesh_proxy_config_reloads_total\{result="error"\} [1-9]')
        # Both clusters took traffic, and each second's shape moved it: between reloads that
        # sent everything to one cluster, the other's count stood still or nearly so.
        self.assertGreater(a.arrived, 500)
        self.assertGreater(b.arrived, 500)
        grew = [(hits[i + 1][0] - hits[i][0], hits[i + 1][1] - hits[i][1])
                for i in range(len(hits) - 1)]
        self.assertTrue(any(da > 100 and db < da // 20 for da, db in grew), grew)
        self.assertTrue(any(db > 100 and da < db // 20 for da, db in grew), grew)


class DrainUnderLoadTest(LoadCase):
    def test_sigterm_with_many_requests_in_flight_completes_them_all(self):
        slow = self.upstream("slow", delay=0.5)
        p = self.proxy(snapshot([{"route": [{"cluster": "cs"}], "timeoutMs": 10000}],
                                [cluster("cs", slow.port)]), "--drain-seconds", "5")
        port = p.port()
        n = 64
        results = []
        lock = threading.Lock()

        def call():
            try:
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                conn.request("GET", "/", headers={"Host": "svc"})
                resp = conn.getresponse()
                data = resp.read()
                out = (resp.status, data, resp.getheader("connection"))
                conn.close()
            except (OSError, http.client.HTTPException) as e:
                out = (repr(e), b"", None)
            with lock:
                results.append(out)

        threads = [threading.Thread(target=call) for _ in range(n)]
        for t in threads:
            t.start()
        deadline = time.monotonic() + 5
        while slow.arrived < n and time.monotonic() < deadline:
            time.sleep(0.005)
        self.assertEqual(slow.arrived, n)  # all n are at the upstream
        start = time.monotonic()
        p.proc.send_signal(signal.SIGTERM)
        in_flight = n - slow.answered
        # On a busy machine the first may be answered before the last arrives; most are not.
        self.assertGreaterEqual(in_flight, n // 2)
        # The listener closes at once: while those are still being answered, a new client
        # is refused.
        time.sleep(0.1)
        refused_while_draining = False
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
        except ConnectionRefusedError:
            refused_while_draining = slow.answered < n
        for t in threads:
            t.join(15)
        code = p.proc.wait(timeout=10)
        took = time.monotonic() - start
        print(f"\n{in_flight} of {n} requests in flight at SIGTERM: "
              f"{sum(1 for r in results if r[0] == 200)} answered 200; exit {code} after {took:.2f} s")
        self.assertEqual(sorted(r[:2] for r in results), [(200, b"slow")] * n)
        # Each answer tells the client this connection is closing.
        self.assertEqual({r[2] for r in results}, {"close"})
        self.assertEqual(code, 0)
        self.assertLess(took, 5)
        self.assertTrue(refused_while_draining)
        with self.assertRaises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=1)


if __name__ == "__main__":
    main()
