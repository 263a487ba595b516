"""Istio's standard metrics from two sidecars with real identities: a scripted run of known
requests goes client sidecar -> mTLS -> server sidecar -> app, then both sidecars' Prometheus
ports are scraped and parsed with prometheus_client (as Prometheus would read them), and
every count is checked per label set, on both reporters, with the workload, app and version
each side learnt from the other through the peer metadata exchange. Needs Debian's
/usr/bin/python3 (python3-prometheus-client)."""
import http.client
import json
import os
import shutil
import socket
import tempfile
import threading
import time
import unittest
import urllib.request

from prometheus_client.parser import text_string_to_metric_families

from ca_test import Ca
from meshtest import main
from proxy_http_test import Proxy, Upstream, reply
from proxy_mtls_test import (CLIENT_ID, CLUSTER, SERVER_ID, SERVICE, Sidecar, client_snapshot,
                             server_snapshot)

PEER_HEADER = "x-mesh-peer-metadata"
OK_BODY = b"all good\n"
FAIL_BODY = b"down\n"
DURATION_BUCKETS = [0.5, 1, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000, 10000, 30000,
                    60000, 300000, 600000, 1800000, 3600000]
SIZE_BUCKETS = [1, 10, 100, 1000, 10000, 100000, 1000000, 10000000, 100000000]


def scrape(port):
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/stats/prometheus", timeout=5) as r:
        return r.read().decode()


def families(text):
    return {f.name: f for f in text_string_to_metric_families(text)}


def requests_when(port, ready, timeout=5):
    """Scrapes until `ready(istio_requests series)` holds: a request is counted when the proxy
    finishes it, which may be just after the client has read the response."""
    deadline = time.time() + timeout
    while True:
        fams = families(scrape(port))
        total = series(fams, "istio_requests") if "istio_requests" in fams else {}
        if ready(total) or time.time() > deadline:
            return fams, total
        time.sleep(0.02)


def series(fams, name, suffix=""):
    """{frozenset(labels without le): value} for one family's samples named name+suffix."""
    out = {}
    if not suffix and fams[name].type == "counter":
        suffix = "_total"  # the parser names counter families without it
    for s in fams[name].samples:
        if s.name == name + suffix:
            out[frozenset(s.labels.items())] = s.value
    return out


def pick(d, **want):
    """The entries whose labels include every `want` item."""
    return {k: v for k, v in d.items() if all((n, str(x)) in k for n, x in want.items())}


class App:
    """The server's app: /ok answers 200, /fail 503; it remembers the headers it saw."""

    def __init__(self):
        self.seen = []

        def behaviour(h):
            self.seen.append({k.lower(): v for k, v in h.headers.items()})
            if h.path.startswith("/fail"):
                return reply(h, 503, FAIL_BODY, {PEER_HEADER: "w=forged-by-app"})
            return reply(h, 200, OK_BODY, {PEER_HEADER: "w=forged-by-app"})

        self.upstream = Upstream("reviews-app", behaviour)
        self.port = self.upstream.port


class IstioMetrics(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.ca = Ca(cls.dir)
        cls.app = App()
        cls.server = Sidecar(cls.ca, "reviews", server_snapshot(cls.app.port, "PERMISSIVE"),
                             "--stats", "127.0.0.1:0", "--workload", "reviews-v2",
                             "--label", "app=reviews", "--label", "version=v2")
        # No --workload here: the name comes from the pod name, as in Kubernetes.
        os.environ["POD_NAME"] = "productpage-v1-6b746f74dc-9stvs"
        try:
            cls.client = Sidecar(cls.ca, "productpage",
                                 client_snapshot(cls.server.port("inbound")),
                                 "--stats", "127.0.0.1:0", "--label", "app=productpage",
                                 "--label", "version=v1")
        finally:
            del os.environ["POD_NAME"]
        cls.server.wait_ready()
        cls.client.wait_ready()

    @classmethod
    def tearDownClass(cls):
        cls.client.stop()
        cls.server.stop()
        cls.app.upstream.stop()
        cls.ca.stop()
        shutil.rmtree(cls.dir, ignore_errors=True)

    def get(self, port, host, path, headers=None):
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        body = resp.read()
        conn.close()
        return resp, body

    def test_1_scripted_run_counts_per_label_set_on_both_reporters(self):
        out = self.client.port("outbound")
        bodies = {"client": 0, "nr": 0}
        forged = {PEER_HEADER: "w=evil,n=evil,a=evil,v=evil"}
        for _ in range(7):
            resp, body = self.get(out, "reviews", "/ok", forged)
            self.assertEqual(resp.status, 200, body)
            self.assertIsNone(resp.getheader(PEER_HEADER), "the client app saw peer metadata")
            bodies["client"] += len(body)
        for _ in range(3):
            resp, body = self.get(out, "reviews", "/fail")
            self.assertEqual(resp.status, 503, body)
            self.assertIsNone(resp.getheader(PEER_HEADER))
        for _ in range(2):
            resp, body = self.get(out, "nowhere", "/x")
            self.assertEqual(resp.status, 404, body)
            self.assertEqual(resp.getheader("x-mesh-response-flags"), "NR")
            bodies["nr"] += len(body)
        # The server's app never saw metadata: not the forged one, not the client sidecar's.
        self.assertTrue(self.app.seen)
        for headers in self.app.seen:
            self.assertNotIn(PEER_HEADER, headers)

        client, c_total = requests_when(self.client.port("stats"),
                                        lambda t: sum(t.values()) >= 12)
        server, s_total = requests_when(self.server.port("stats"),
                                        lambda t: sum(t.values()) >= 16)
        self.assertEqual(sum(c_total.values()), 12, c_total)

        source = {
            "reporter": "source", "source_workload": "productpage-v1",
            "source_canonical_service": "productpage", "source_canonical_revision": "v1",
            "source_workload_namespace": "default", "source_principal": CLIENT_ID,
            "source_app": "productpage", "source_version": "v1", "source_cluster": "Kubernetes",
            "destination_workload": "reviews-v2", "destination_workload_namespace": "default",
            "destination_principal": SERVER_ID, "destination_app": "reviews",
            "destination_version": "v2", "destination_service": SERVICE,
            "destination_canonical_service": "reviews", "destination_canonical_revision": "v2",
            "destination_service_name": "reviews", "destination_service_namespace": "default",
            "destination_cluster": "Kubernetes", "request_protocol": "http",
            "grpc_response_status": "", "connection_security_policy": "unknown"}

        def labels(base, **changes):
            d = dict(base)
            d.update({k: str(v) for k, v in changes.items()})
            return frozenset(d.items())

        # Source reporter: every label, exactly. Istio's default retry policy retries a 503
        # twice, so the caller sees URX on its 3 failures.
        ok = labels(source, response_code=200, response_flags="-")
        fail = labels(source, response_code=503, response_flags="URX")
        self.assertEqual(c_total.get(ok), 7, sorted(map(sorted, c_total)))
        self.assertEqual(c_total.get(fail), 3, sorted(map(sorted, c_total)))
        nr = pick(c_total, response_code=404)
        self.assertEqual(len(nr), 1, nr)
        nr_labels = dict(next(iter(nr)))
        self.assertEqual(nr_labels["response_flags"], "NR")
        self.assertEqual(nr_labels["destination_service"], "unknown")
        self.assertEqual(nr_labels["destination_workload"], "unknown")
        self.assertEqual(nr_labels["source_workload"], "productpage-v1")
        self.assertEqual(list(nr.values()), [2])

        # Destination reporter: the same request seen from the server, over mTLS; each of the
        # 3 failing requests reached it 3 times.
        dest = dict(source, reporter="destination", connection_security_policy="mutual_tls")
        s_ok = labels(dest, response_code=200, response_flags="-")
        s_fail = labels(dest, response_code=503, response_flags="-")
        self.assertEqual(s_total.get(s_ok), 7, sorted(map(sorted, s_total)))
        self.assertEqual(s_total.get(s_fail), 9, sorted(map(sorted, s_total)))
        self.assertEqual(sum(s_total.values()), 16)

        # Histograms agree with the counter per label set, buckets are Istio's, cumulative and
        # end in _count; byte sums are what went over the wire.
        for fams, total in ((client, c_total), (server, s_total)):
            for name, bounds in (("istio_request_duration_milliseconds", DURATION_BUCKETS),
                                 ("istio_request_bytes", SIZE_BUCKETS),
                                 ("istio_response_bytes", SIZE_BUCKETS)):
                counts = series(fams, name, "_count")
                self.assertEqual(counts, total, name)
                buckets = {}
                for s in fams[name].samples:
                    if s.name == name + "_bucket":
                        key = frozenset((k, v) for k, v in s.labels.items() if k != "le")
                        buckets.setdefault(key, []).append((float(s.labels["le"]), s.value))
                for key, bs in buckets.items():
                    les = [le for le, _ in bs]
                    self.assertEqual(les, bounds + [float("inf")], name)
                    values = [v for _, v in bs]
                    self.assertEqual(values, sorted(values), name)
                    self.assertEqual(values[-1], total[key], name)
        c_resp = series(client, "istio_response_bytes", "_sum")
        self.assertEqual(c_resp[ok], 7 * len(OK_BODY))
        self.assertEqual(sum(pick(c_resp, response_code=404).values()), bodies["nr"])
        s_resp = series(server, "istio_response_bytes", "_sum")
        self.assertEqual(s_resp[s_ok], 7 * len(OK_BODY))
        self.assertEqual(s_resp[s_fail], 9 * len(FAIL_BODY))
        # Response bodies of 9 bytes land in le=10, not le=1.
        ok_buckets = {float(s.labels["le"]): s.value for s in client["istio_response_bytes"].samples
                      if s.name.endswith("_bucket") and
                      frozenset((k, v) for k, v in s.labels.items() if k != "le") == ok}
        self.assertEqual(ok_buckets[1.0], 0)
        self.assertEqual(ok_buckets[10.0], 7)
        # Durations: each request took more than 0 ms and the server's are inside the client's.
        c_dur = series(client, "istio_request_duration_milliseconds", "_sum")
        s_dur = series(server, "istio_request_duration_milliseconds", "_sum")
        self.assertGreater(s_dur[s_ok], 0)
        self.assertGreater(c_dur[ok], s_dur[s_ok])

    def test_2_plain_text_peer_is_not_believed(self):
        # PERMISSIVE takes plain text: a client claiming to be someone is counted as unknown.
        before = series(families(scrape(self.server.port("stats"))), "istio_requests")
        resp, body = self.get(self.server.port("inbound"), "reviews", "/ok",
                              {PEER_HEADER: "w=impostor,n=default,a=impostor,v=v9"})
        self.assertEqual(resp.status, 200, body)
        self.assertIsNone(resp.getheader(PEER_HEADER), "metadata answered over plain text")
        self.assertNotIn(PEER_HEADER, self.app.seen[-1])
        _, after = requests_when(self.server.port("stats"),
                                 lambda t: sum(t.values()) > sum(before.values()))
        grown = {k: v - before.get(k, 0) for k, v in after.items() if v != before.get(k, 0)}
        self.assertEqual(list(grown.values()), [1], grown)
        got = dict(next(iter(grown)))
        self.assertEqual(got["source_workload"], "unknown")
        self.assertEqual(got["source_app"], "unknown")
        self.assertEqual(got["source_principal"], "unknown")
        self.assertEqual(got["destination_principal"], "unknown")
        self.assertEqual(got["destination_workload"], "reviews-v2")
        self.assertEqual(got["connection_security_policy"], "none")
        self.assertEqual(got["reporter"], "destination")

    def test_3_admin_port_serves_the_same_and_health_figures(self):
        text = self.client.admin("/stats/prometheus")
        fams = families(text)
        self.assertIn("istio_requests", fams)
        info = series(fams, "mesh_proxy_config_info")
        self.assertEqual(info, {frozenset({("version", "c1")}): 1.0})
        expiry = series(fams, "mesh_proxy_certificate_expiry_seconds")
        (left,) = expiry.values()
        self.assertGreater(left, 60)
        hosts = series(fams, "mesh_proxy_cluster_hosts")
        self.assertEqual(hosts[frozenset({("cluster", CLUSTER)})], 1)
        self.assertIn("mesh_proxy_cluster_outlier_ejections", fams)
        self.assertIn("mesh_proxy_cluster_upstream_connections_active", fams)

    def test_4_stats_port_answers_only_metrics(self):
        with self.assertRaises(urllib.error.HTTPError) as e:
            urllib.request.urlopen(f"http://127.0.0.1:{self.client.port('stats')}/config_dump",
                                   timeout=5)
        self.assertEqual(e.exception.code, 404)


class PlainUpstream(unittest.TestCase):
    def test_metadata_from_a_plain_text_upstream_is_removed_and_not_believed(self):
        seen = []
        app = Upstream("plain", lambda h: (seen.append(h.headers.get(PEER_HEADER)),
                                           reply(h, 200, b"hi", {PEER_HEADER: "w=liar,n=x"}))[1])
        fqdn = "plain.default.svc.cluster.local"
        proxy = Proxy({"version": "p1",
                       "clusters": [{"name": "outbound|80||" + fqdn, "service": fqdn,
                                     "endpoints": [{"address": "127.0.0.1", "port": app.port}]}],
                       "routeTables": [{"name": "rt", "virtualHosts": [
                           {"name": "plain", "domains": ["plain"],
                            "routes": [{"route": [{"cluster": "outbound|80||" + fqdn}]}]}]}],
                       "listeners": [{"name": "outbound", "port": 0, "routeTable": "rt"}]},
                      "--workload", "web", "--stats", "127.0.0.1:0")
        try:
            resp, body = proxy.request(host="plain", headers={PEER_HEADER: "w=me"})
            self.assertEqual((resp.status, body), (200, b"hi"))
            self.assertIsNone(resp.getheader(PEER_HEADER))
            self.assertEqual(seen, [None])  # the app's own header did not go upstream
            _, total = requests_when(proxy.port("stats"), lambda t: sum(t.values()) >= 1)
            (labels,) = total
            labels = dict(labels)
            self.assertEqual(labels["destination_workload"], "unknown")
            self.assertEqual(labels["destination_principal"], "unknown")
            self.assertEqual(labels["source_workload"], "web")
            self.assertEqual(labels["source_principal"], "unknown")  # no certificate in play
            self.assertEqual(labels["destination_service"], fqdn)
        finally:
            proxy.stop()
            app.stop()


class TcpMetrics(unittest.TestCase):
    def test_tcp_connection_bytes_and_open_close(self):
        server = socket.create_server(("127.0.0.1", 0))
        port = server.getsockname()[1]

        def serve():
            conn, _ = server.accept()
            data = b""
            while len(data) < 100:
                data += conn.recv(4096)
            conn.sendall(b"r" * 250)  # answers 250 bytes for the 100 it got
            conn.recv(10)  # until the client closes
            conn.close()

        threading.Thread(target=serve, daemon=True).start()
        fqdn = "db.default.svc.cluster.local"
        proxy = Proxy({"version": "t1",
                       "clusters": [{"name": "outbound|5432||" + fqdn, "service": fqdn,
                                     "protocol": "tcp",
                                     "endpoints": [{"address": "127.0.0.1", "port": port}]}],
                       "listeners": [{"name": "db", "port": 0, "protocol": "tcp",
                                      "cluster": "outbound|5432||" + fqdn}]},
                      "--workload", "billing", "--namespace", "shop", "--stats", "127.0.0.1:0")
        try:
            c = socket.create_connection(("127.0.0.1", proxy.port("db")), timeout=10)
            c.sendall(b"q" * 100)
            got = b""
            while len(got) < 250:
                got += c.recv(4096)
            c.close()
            want = {"opened": 1, "closed": 1, "received_bytes": 100, "sent_bytes": 250}
            deadline = time.time() + 5
            while True:
                fams = families(scrape(proxy.port("stats")))
                values = {}
                for what in want:
                    name = f"istio_tcp_{what}" if "bytes" in what else f"istio_tcp_connections_{what}"
                    got_series = series(fams, name) if name in fams else {}
                    values[what] = got_series
                flat = {k: sum(v.values()) for k, v in values.items()}
                if flat == want or time.time() > deadline:
                    break
                time.sleep(0.05)
            self.assertEqual(flat, want)
            labels = dict(next(iter(values["opened"])))
            self.assertEqual(labels["reporter"], "source")
            self.assertEqual(labels["request_protocol"], "tcp")
            self.assertEqual(labels["source_workload"], "billing")
            self.assertEqual(labels["source_workload_namespace"], "shop")
            self.assertEqual(labels["destination_service"], fqdn)
            self.assertEqual(labels["destination_service_name"], "db")
            self.assertEqual(labels["destination_workload"], "unknown")
            self.assertNotIn("response_code", labels)
        finally:
            proxy.stop()
            server.close()


if __name__ == "__main__":
    main()
