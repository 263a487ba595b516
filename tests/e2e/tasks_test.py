"""docs/tasks/ run as written: one `mesh up` on a copy of examples/bookinfo, and each task page's
configuration applied the way the page says (copying Istio's YAML into the watched
directory), then undone. Asserts what each page says the user sees: reviews pinned to v1 and
jason sent to v2; 90/10 and 50/50 splits over 500 requests (within 6 points) and a new split
in force within 1 s of the file write; a delay and an abort for jason; a timeout cutting a
slow call short; a circuit breaker answering 503 with flag UO; STRICT mTLS refusing a
plain-text client while mesh traffic goes on; deny by default, then allow by principal,
method and path; istio_requests_total on a sidecar's metrics page.

Runs without root, on loopback, with ports picked by the kernel.

With --netns (suite e2e, root): the same pages against `mesh up --netns`, every pod in its own
network namespace with its traffic captured by iptables. Requests "from a pod" then come from a
socket in the pod's namespace to the Service's address, as its app's own calls do, instead of
through the sidecar's port as an HTTP proxy; the plain-text client of the mTLS page calls the
pod's address from the host. A first test checks that capture is really transparent: the apps
have no http_proxy and live in their pods' namespaces, the sidecars run as uid 1337, every hop
of a request carries the caller's identity from mTLS, and the sidecar counts captured
connections. At the end nothing of the run is left on the host."""
import http.client
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import unittest
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from pods import PodConnection, leftovers

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from mesh_up import MeshUp  # noqa: E402
from meshtest import MESH  # noqa: E402

NETNS = "--netns" in sys.argv
if NETNS:
    sys.argv.remove("--netns")

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BOOKINFO = os.path.join(ROOT, "examples", "bookinfo")
TASKS = os.path.join(ROOT, "docs", "tasks", "yaml")
TD = "spiffe://cluster.local"
REQUESTS = 500
# Each request draws its destination at random: over 500 requests a 50/50 share has a
# standard deviation of 2.2 points, so 8 points (3.6 deviations) fails by chance about once
# in 3000 runs, while a split that did not change is still far outside it.
TOLERANCE = 0.08


def request(port, path, host="127.0.0.1", method="GET", headers=None, proxy=False, timeout=15,
            address="127.0.0.1", netns=None):
    """One request on a new connection; proxy=True sends the absolute form, as `curl -x`;
    netns: from a socket in that network namespace."""
    if netns:
        conn = PodConnection(netns, address, port, timeout)
    else:
        conn = http.client.HTTPConnection(address, port, timeout=timeout)
    try:
        conn.request(method, "http://%s%s" % (host, path) if proxy else path,
                     headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp.status, dict(resp.getheaders()), resp.read().decode()
    finally:
        conn.close()


def reviews_call(answer):
    return [c for c in answer["calls"] if "reviews" in c["url"]][0]


def reviews_version(answer):
    call = reviews_call(answer)
    return call["answer"]["version"] if "answer" in call else None


class Collector:
    """A Zipkin collector: keeps the spans POSTed to /api/v2/spans."""

    def __init__(self):
        self.spans = []
        self.lock = threading.Lock()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                body = self.rfile.read(int(self.headers.get("content-length") or 0))
                with outer.lock:
                    outer.spans.extend(json.loads(body))
                self.send_response(202)
                self.send_header("content-length", "0")
                self.end_headers()

        # With --netns the sidecars reach the host's 127.0.0.1 as the bridge's address.
        self.server = ThreadingHTTPServer(("0.0.0.0" if NETNS else "127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.address = "127.0.0.1:%d" % self.server.server_address[1]
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def trace(self, trace_id):
        with self.lock:
            return [s for s in self.spans if s["traceId"] == trace_id]

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def skip_unless_netns_possible():
    if os.geteuid() != 0:
        print("SKIP: --netns needs root")
        sys.exit(77)
    for tool in ("ip", "iptables", "setpriv"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            sys.exit(77)
    probe = "mesh-tasks-probe-%d" % os.getpid()
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        print("SKIP: ip netns is not available here")
        sys.exit(77)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


class Tasks(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.work = tempfile.mkdtemp(prefix="mesh-tasks-")
        cls.dir = os.path.join(cls.work, "bookinfo")
        shutil.copytree(BOOKINFO, cls.dir)
        # docs/tasks/tracing.md: `mesh up --zipkin-address ... --trace-sampling 100`.
        cls.collector = Collector()
        cls.mesh = MeshUp(cls.dir, "--ingress-port", "0", "--zipkin-address", cls.collector.address,
                          "--trace-sampling", "100", *(["--netns"] if NETNS else []))
        try:
            cls.mesh.wait_for(lambda l: l.startswith("mesh is up"), 30 if NETNS else 20)
            cls.ingress = cls.mesh.state_info()["ingress"]["8080"]
            cls.tag = cls.mesh.state_info().get("bridge", {}).get("name")
        except BaseException:
            cls.tearDownClass()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()
        cls.collector.stop()
        shutil.rmtree(cls.work, ignore_errors=True)

    # What the pages do: `cp SRC DIR/DEST`, `rm DIR/DEST`.
    def cp(self, src, dest):
        shutil.copyfile(src, os.path.join(self.dir, dest))

    def rm(self, *paths):
        for p in paths:
            try:
                os.remove(os.path.join(self.dir, p))
            except FileNotFoundError:
                pass

    def from_pod(self, pod, path, host, method="GET"):
        """A request from `pod`'s app to http://<host><path>, through its sidecar: as an HTTP
        proxy on loopback; with --netns, straight to the Service's address, captured."""
        p = self.mesh.pod(pod)
        if not NETNS:
            return request(p["outbound"], path, host, method=method, proxy=True)
        name, port = host.split(":")
        vip = self.service_address("%s/%s" % (p["namespace"], name))
        return request(int(port), path, host, method=method, address=vip, netns=p["netns"])

    def service_address(self, key, timeout=10):
        """The cluster IP mesh up gave a Service; one just added to DIR gets it a moment after
        its pods are ready, when mesh up rewrites its state file."""
        deadline = time.time() + timeout
        while True:
            services = self.mesh.state_info().get("services", {})
            if key in services or time.time() > deadline:
                return services[key]
            time.sleep(0.05)

    def admin(self, pod, path):
        p = self.mesh.pod(pod)
        return request(p["admin"], path, address=p["address"])

    def sample(self, name):
        return os.path.join(self.dir, "samples", name)

    def task_yaml(self, name):
        return os.path.join(TASKS, name)

    def productpage(self, headers=None, method="GET"):
        """`curl -s 127.0.0.1:8080/productpage`: (status, answer or body)."""
        status, _, body = request(self.ingress, "/productpage", method=method, headers=headers)
        try:
            return status, json.loads(body)
        except ValueError:
            return status, body

    def version(self, headers=None):
        status, answer = self.productpage(headers)
        self.assertEqual(status, 200, answer)
        return reviews_version(answer)

    def until(self, what, predicate, timeout=5.0):
        """Polls until predicate() holds (the config reached the proxies)."""
        deadline = time.monotonic() + timeout
        last = None
        while time.monotonic() < deadline:
            last = predicate()
            if last:
                return
            time.sleep(0.05)
        self.fail("%s: not seen within %.0f s" % (what, timeout))

    def stable(self, headers, versions, n=20):
        return lambda: all(self.version(headers) in versions for _ in range(n))

    def split(self, n=REQUESTS):
        counts = {}
        for _ in range(n):
            v = self.version()
            counts[v] = counts.get(v, 0) + 1
        return counts

    def assertShare(self, counts, version, share):
        got = counts.get(version, 0) / sum(counts.values())
        self.assertLessEqual(abs(got - share), TOLERANCE, "%s: %.3f of %s" % (version, got, counts))

    @unittest.skipUnless(NETNS, "the pods of --netns")
    def test_0_netns_capture_is_transparent(self):
        pods = {name: p for name, p in self.mesh.live_pods().items() if not p["gateway"]}
        self.assertEqual(len(pods), 6, pods)
        home = os.stat("/proc/self/ns/net").st_ino
        addresses = set()
        for name, p in pods.items():
            addresses.add(p["address"])
            pod_ns = os.stat("/run/netns/" + p["netns"]).st_ino
            self.assertNotEqual(pod_ns, home)
            app, sidecar = p["pids"]["app"], p["pids"]["sidecar"]
            with open("/proc/%d/environ" % app, "rb") as f:
                env = dict(e.split(b"=", 1) for e in f.read().split(b"\0") if b"=" in e)
            self.assertNotIn(b"http_proxy", {k.lower() for k in env}, name)
            self.assertEqual(env[b"POD_NAME"].decode(), name)
            for pid in (app, sidecar):
                self.assertEqual(os.stat("/proc/%d/ns/net" % pid).st_ino, pod_ns, name)
            with open("/proc/%d/status" % sidecar) as f:
                uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
            self.assertEqual(uid, "1337", name)
            rules = subprocess.run(["ip", "netns", "exec", p["netns"], "iptables-save", "-t", "nat"],
                                   capture_output=True, text=True).stdout
            self.assertIn("-j REDIRECT --to-ports 15001", rules, name)
        self.assertEqual(len(addresses), 6)
        # One request through the ingress: each service names its caller, which its sidecar
        # took from the caller's certificate, so every hop was mTLS between the sidecars.
        before = self.captured("productpage-v1-0")
        for _ in range(6):
            status, answer = self.productpage()
            self.assertEqual(status, 200, answer)
            if reviews_version(answer) in ("v2", "v3"):
                break
        sa = TD + "/ns/default/sa/bookinfo-"
        self.assertEqual(answer["peer"], TD + "/ns/istio-system/sa/istio-ingressgateway-service-account")
        self.assertEqual([c["url"] for c in answer["calls"]],
                         ["http://details:9080/details/0", "http://reviews:9080/reviews/0"])
        self.assertEqual(answer["calls"][0]["answer"]["peer"], sa + "productpage")
        self.assertEqual(reviews_call(answer)["answer"]["peer"], sa + "productpage")
        ratings = reviews_call(answer)["answer"]["calls"][0]
        self.assertEqual(ratings["status"], 200, answer)
        self.assertEqual(ratings["answer"]["peer"], sa + "reviews")
        self.assertGreater(self.captured("productpage-v1-0"), before)

    def captured(self, pod):
        """The HTTP connections the pod's sidecar took from its capture listener."""
        _, _, text = self.admin(pod, "/stats")
        m = re.search(r'^mesh_proxy_capture_connections_total\{destination="http"\} (\d+)$',
                      text, re.M)
        return int(m.group(1)) if m else 0

    def test_1_request_routing_and_header_based_routing(self):
        try:
            self.cp(self.sample("virtual-service-all-v1.yaml"),
                    "networking/virtual-service-all-v1.yaml")
            self.until("all traffic to v1", self.stable(None, {"v1"}))
            self.assertEqual(self.split(30), {"v1": 30})
            self.rm("networking/virtual-service-all-v1.yaml")
            self.cp(self.sample("virtual-service-reviews-test-v2.yaml"), "networking/reviews.yaml")
            jason = {"end-user": "jason"}
            self.until("jason to v2", self.stable(jason, {"v2"}))
            self.assertEqual({self.version(jason) for _ in range(20)}, {"v2"})
            self.assertEqual({self.version() for _ in range(20)}, {"v1"})
        finally:
            self.rm("networking/reviews.yaml", "networking/virtual-service-all-v1.yaml")
        self.until("undone: round robin again", lambda: self.version() == "v3")

    def test_2_traffic_shifting_and_how_fast_a_new_split_applies(self):
        try:
            self.cp(self.sample("virtual-service-reviews-90-10.yaml"), "networking/reviews.yaml")
            self.until("90/10", self.stable(None, {"v1", "v2"}, 30))
            counts = self.split()
            self.assertShare(counts, "v1", 0.9)
            self.assertShare(counts, "v2", 0.1)
            self.assertNotIn("v3", counts)

            # Istio's traffic-shifting YAML, unchanged, over the running demo: from the write
            # until v2 is gone and v3 answers.
            written = time.monotonic()
            self.cp(self.sample("virtual-service-reviews-50-v3.yaml"), "networking/reviews.yaml")
            first_v3 = last_v2 = None
            while time.monotonic() - written < 3:
                v = self.version()
                now = time.monotonic() - written
                if v == "v3" and first_v3 is None:
                    first_v3 = now
                if v == "v2":
                    last_v2 = now
            self.assertIsNotNone(first_v3, "v3 never answered")
            switched = max(first_v3, last_v2 or 0)
            print("\nnew split in force %.0f ms after the file write "
                  "(last v2 %s ms, first v3 %.0f ms)"
                  % (switched * 1000, "-" if last_v2 is None else "%.0f" % (last_v2 * 1000),
                     first_v3 * 1000), file=sys.stderr)
            self.assertLess(switched, 1.0)
            counts = self.split()
            self.assertShare(counts, "v1", 0.5)
            self.assertShare(counts, "v3", 0.5)
            self.assertNotIn("v2", counts)

            self.cp(self.sample("virtual-service-reviews-v3.yaml"), "networking/reviews.yaml")
            self.until("all to v3", self.stable(None, {"v3"}))
        finally:
            self.rm("networking/reviews.yaml")
        self.until("undone: round robin again", lambda: self.version() == "v2")

    def test_3_fault_injection(self):
        jason = {"end-user": "jason"}
        try:
            self.cp(self.sample("virtual-service-reviews-test-v2.yaml"), "networking/reviews.yaml")
            self.until("jason to v2", self.stable(jason, {"v2"}, 5))
            self.cp(self.sample("virtual-service-ratings-test-delay.yaml"),
                    "networking/ratings.yaml")
            time.sleep(1)
            started = time.monotonic()
            status, answer = self.productpage(jason)
            took = time.monotonic() - started
            self.assertEqual(status, 200, answer)
            # The 7 s delay outlasts the apps' 5 s call timeout: after 5 s the page comes
            # back without ratings.
            self.assertGreater(took, 4.5)
            self.assertLess(took, 7.0)
            call = reviews_call(answer)
            failed = "error" in call or any("error" in c for c in call["answer"]["calls"])
            self.assertTrue(failed, answer)
            started = time.monotonic()
            self.assertEqual(self.version(), "v1")  # everybody else: no delay
            self.assertLess(time.monotonic() - started, 1.0)

            self.cp(self.sample("virtual-service-ratings-test-abort.yaml"),
                    "networking/ratings.yaml")

            def aborted():
                status, answer = self.productpage(jason)
                calls = reviews_call(answer).get("answer", {}).get("calls", [])
                # (a request sent before the abort applied still meets the delay)
                return status == 200 and calls and calls[0].get("status") == 500 and \
                    "fault filter abort" in json.dumps(calls[0])
            self.until("jason's ratings aborted", aborted, 15)
        finally:
            self.rm("networking/reviews.yaml", "networking/ratings.yaml")
        self.until("undone", lambda: self.version() == "v3")

    def test_4_request_timeouts(self):
        try:
            self.cp(self.sample("virtual-service-reviews-v2-v3.yaml"), "networking/reviews.yaml")
            self.cp(self.task_yaml("virtual-service-ratings-delay-2s.yaml"),
                    "networking/ratings.yaml")

            def slow():
                started = time.monotonic()
                status, answer = self.productpage()
                return status == 200 and time.monotonic() - started > 1.9 and \
                    reviews_call(answer)["status"] == 200
            self.until("ratings 2 s late", slow, 10)

            self.cp(self.task_yaml("virtual-service-reviews-v2-timeout.yaml"),
                    "networking/reviews.yaml")

            def cut_short():
                started = time.monotonic()
                status, answer = self.productpage()
                took = time.monotonic() - started
                call = reviews_call(answer)
                return status == 200 and took < 1.0 and call["status"] == 504 and \
                    "upstream request timeout" in json.dumps(call)
            self.until("reviews answers 504 after 0.5 s", cut_short, 10)
        finally:
            self.rm("networking/reviews.yaml", "networking/ratings.yaml")

    def test_5_circuit_breaking(self):
        try:
            self.cp(self.task_yaml("httpbin.yaml"), "httpbin.yaml")
            self.cp(self.task_yaml("destination-rule-httpbin-circuit-breaker.yaml"),
                    "networking/destination-rule-httpbin-circuit-breaker.yaml")
            self.mesh.wait_for(lambda l: l.startswith("httpbin-0 is ready"), 15)
            get = lambda: self.from_pod("productpage-v1-0", "/get", "httpbin:8000")  # noqa: E731
            self.until("httpbin answers", lambda: get()[0] == 200)
            time.sleep(0.5)  # the DestinationRule came with the Deployment; let it settle

            with ThreadPoolExecutor(max_workers=20) as pool:
                results = list(pool.map(lambda _: get(), range(60)))
            codes = [r[0] for r in results]
            overflow = [r for r in results
                        if r[0] == 503 and r[1].get("x-mesh-response-flags") == "UO"]
            self.assertIn(200, codes)
            self.assertGreater(len(overflow), 10, codes)
            self.assertIn("circuit breaker open", overflow[0][2])
            _, _, metrics = self.admin("productpage-v1-0", "/stats/prometheus")
            self.assertRegex(metrics, r'istio_requests_total\{reporter="source",[^}]*'
                                      r'destination_service_name="httpbin",[^}]*'
                                      r'response_code="503",[^}]*response_flags="UO"')
        finally:
            self.rm("httpbin.yaml", "networking/destination-rule-httpbin-circuit-breaker.yaml")

    def test_6_mtls_migration(self):
        details = self.mesh.pod("details-v1-0")

        def plain():
            try:
                # With --netns: the pod's address from the host, which its rules hand to the
                # sidecar's inbound port, as a pod without a sidecar would call it.
                if NETNS:
                    status, _, body = request(details["app"], "/details/0", timeout=3,
                                              address=details["address"])
                else:
                    status, _, body = request(details["sidecar"], "/details/0", timeout=3)
                return status, json.loads(body)["peer"]
            except (OSError, http.client.HTTPException):
                return None

        try:
            self.cp(self.task_yaml("peer-authentication-permissive.yaml"),
                    "networking/peer-authentication.yaml")
            time.sleep(0.5)
            self.assertEqual(plain(), (200, None))  # plain text, no caller identity
            self.cp(self.task_yaml("peer-authentication-strict.yaml"),
                    "networking/peer-authentication.yaml")
            self.until("STRICT refuses plain text", lambda: plain() is None)
            for _ in range(5):
                status, answer = self.productpage()
                self.assertEqual(status, 200)
                self.assertEqual(answer["calls"][0]["answer"]["peer"],
                                 TD + "/ns/default/sa/bookinfo-productpage")
        finally:
            self.rm("networking/peer-authentication.yaml")
        self.until("undone: plain text accepted", lambda: plain() == (200, None))

    def test_7_authorization(self):
        names = ["allow-nothing", "productpage-viewer", "details-viewer", "reviews-viewer",
                 "ratings-viewer"]
        files = ["networking/authorization-policy-%s.yaml" % n for n in names]
        apply = lambda i: self.cp(self.task_yaml(os.path.basename(files[i])), files[i])  # noqa
        try:
            apply(0)
            denied = (403, "RBAC: access denied")
            self.until("deny by default", lambda: self.productpage() == denied)
            apply(1)

            def only_productpage():
                status, answer = self.productpage()
                return status == 200 and [c["status"] for c in answer["calls"]] == [403, 403]
            self.until("productpage allowed, details and reviews denied", only_productpage)
            for i in (2, 3, 4):
                apply(i)

            def everything():
                status, answer = self.productpage()
                return status == 200 and reviews_version(answer) in ("v2", "v3") and \
                    reviews_call(answer)["answer"]["calls"][0]["status"] == 200 and \
                    answer["calls"][0]["status"] == 200
            self.until("productpage, details, reviews and ratings allowed", everything)
            self.assertEqual(self.productpage(method="POST"), denied)
            # reviews-viewer: productpage's identity, GET, /reviews/* only.
            pp = "productpage-v1-0"
            self.assertEqual(self.from_pod(pp, "/reviews/0", "reviews:9080")[0], 200)
            self.assertEqual(self.from_pod(pp, "/other", "reviews:9080")[0], 403)
            self.assertEqual(self.from_pod(pp, "/reviews/0", "reviews:9080", method="DELETE")[0],
                             403)
            # ...and ratings only for reviews's identity.
            self.assertEqual(self.from_pod(pp, "/ratings/0", "ratings:9080")[0], 403)
        finally:
            self.rm(*files)
        self.until("undone", lambda: self.productpage()[0] == 200)

    def test_8_metrics(self):
        for _ in range(5):
            self.productpage()
        status, _, text = self.admin("productpage-v1-0", "/stats/prometheus")
        self.assertEqual(status, 200)
        inbound = [l for l in text.splitlines() if l.startswith("istio_requests_total{")
                   and 'reporter="destination"' in l and 'response_code="200"' in l]
        self.assertTrue(inbound, text[:2000])
        labels = dict(re.findall(r'(\w+)="([^"]*)"', inbound[0]))
        self.assertEqual(labels["source_workload"], "istio-ingressgateway")
        self.assertEqual(labels["destination_workload"], "productpage-v1")
        self.assertEqual(labels["destination_principal"],
                         TD + "/ns/default/sa/bookinfo-productpage")
        self.assertEqual(labels["connection_security_policy"], "mutual_tls")
        self.assertGreaterEqual(float(inbound[0].rsplit(" ", 1)[1]), 5)
        outbound = [l for l in text.splitlines() if l.startswith("istio_requests_total{")
                    and 'reporter="source"' in l and 'destination_service_name="reviews"' in l]
        self.assertTrue(outbound, text[:2000])
        labels = dict(re.findall(r'(\w+)="([^"]*)"', outbound[0]))
        self.assertEqual(labels["destination_service"], "reviews.default.svc.cluster.local")
        self.assertRegex(labels["destination_workload"], r"^reviews-v[123]$")
        self.assertEqual(labels["destination_principal"], TD + "/ns/default/sa/bookinfo-reviews")
        self.assertEqual(labels["source_workload"], "productpage-v1")

    def test_9_tracing(self):
        # One request through the ingress: its x-request-id names the trace's spans.
        status, headers, body = request(self.ingress, "/productpage",
                                        headers={"x-request-id": "tracing-task-1"})
        self.assertEqual(status, 200, body)
        trace_id = None
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not trace_id:
            with self.collector.lock:
                for span in self.collector.spans:
                    if span["tags"].get("guid:x-request-id") == "tracing-task-1":
                        trace_id = span["traceId"]
            time.sleep(0.1)
        self.assertTrue(trace_id, "no span for the request reached the collector")
        # Spans are sent in batches: wait until the whole chain has arrived.
        services = set()
        while time.monotonic() < deadline:
            spans = self.collector.trace(trace_id)
            services = {s["localEndpoint"]["serviceName"] for s in spans}
            if {"productpage.default", "reviews.default", "details.default"} <= services:
                break
            time.sleep(0.1)
        self.assertLessEqual({"istio-ingressgateway.istio-system", "productpage.default",
                              "details.default", "reviews.default"}, services, spans)
        # Every span but the gateway's first has its parent in the same trace.
        ids = {s["id"] for s in spans}
        roots = [s for s in spans if "parentId" not in s]
        self.assertEqual(len(roots), 1, roots)
        for s in spans:
            if "parentId" in s:
                self.assertIn(s["parentId"], ids, s)
        # The server side of productpage is a child of the gateway's client span.
        gateway_client = [s for s in spans if s["kind"] == "CLIENT"
                          and s["localEndpoint"]["serviceName"].startswith("istio-ingressgateway")]
        productpage_server = [s for s in spans if s["kind"] == "SERVER"
                              and s["localEndpoint"]["serviceName"] == "productpage.default"]
        self.assertTrue(gateway_client and productpage_server, spans)
        self.assertEqual(productpage_server[0]["parentId"], gateway_client[0]["id"])


ONE_POD = """\
apiVersion: v1
kind: Service
metadata:
  name: echo
spec:
  ports:
  - port: 8080
    name: http
  selector:
    app: echo
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: echo
spec:
  selector:
    matchLabels:
      app: echo
  template:
    metadata:
      labels:
        app: echo
    spec:
      containers:
      - name: echo
        command: [mesh, echo, --port, "8080"]
        ports:
        - containerPort: 8080
"""


def running(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


class NetnsAfterACrash(unittest.TestCase):
    @unittest.skipUnless(NETNS, "--netns")
    def test_a_killed_run_is_cleaned_up_by_the_next(self):
        work = tempfile.mkdtemp(prefix="mesh-netns-crash-")
        with open(os.path.join(work, "echo.yaml"), "w") as f:
            f.write(ONE_POD)
        first = MeshUp(work, "--netns", "--no-ingress")
        second = None
        try:
            first.wait_for(lambda l: l.startswith("mesh is up"), 30)
            info = first.state_info()
            tag = info["bridge"]["name"]
            orphans = [info["pilotPid"]] + [p["pids"][k] for p in info["pods"] for k in p["pids"]]
            first.proc.kill()  # no teardown: namespaces, links, rules and children stay
            first.proc.wait()
            self.assertTrue(leftovers(tag))
            second = MeshUp(work, "--netns", "--no-ingress")
            second.wait_for(lambda l: l.startswith("mesh is up"), 30)
            self.assertEqual(leftovers(tag), [])
            pod = info["pods"][0]["pids"]
            for pid in (pod["app"], pod["sidecar"]):  # killed with their namespace
                self.assertFalse(running(pid), pid)
        finally:
            for pid in orphans if "orphans" in locals() else []:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            first.stop()
            if second:
                second.stop()
            shutil.rmtree(work, ignore_errors=True)


class NetnsRefusal(unittest.TestCase):
    @unittest.skipUnless(NETNS, "--netns")
    def test_refused_clearly_without_root(self):
        r = subprocess.run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", MESH,
                            "up", "--netns", "--no-ingress"], capture_output=True, text=True,
                           timeout=10)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--netns needs root", r.stderr)
        self.assertNotIn("mesh is up", r.stdout)


if __name__ == "__main__":
    if NETNS:
        skip_unless_netns_possible()
    result = unittest.main(exit=False, verbosity=2).result
    ok = result.wasSuccessful()
    tag = getattr(Tasks, "tag", None)
    if NETNS and tag:
        left = leftovers(tag)
        if left:
            print("mesh up --netns left behind: %s" % left, file=sys.stderr)
            ok = False
    sys.exit(0 if ok else 1)
