"""Transparent capture end to end: two pods made of network namespaces on a bridge, each with
`mesh proxy iptables` and a sidecar running as uid 1337, and `mesh pilot` (with its CA) in the
root namespace. The client in pod A knows nothing of the mesh: it calls http://reviews:9080/
(its /etc/hosts names the Service's clusterIP) with curl, and the request crosses both
sidecars with mutual TLS to the app in pod B. Also: plain text straight to B's pod IP under
PERMISSIVE and then STRICT, a declared TCP port whose server speaks first, and an unknown
destination passed through unchanged.

Needs root and `ip netns`; exits 77 (skipped) without them."""
import ipaddress
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import unittest
import urllib.request

MESH = os.path.abspath(os.environ.get("MESH_BIN", "build/cmd/mesh"))
PROXY_UID = 1337
TD = "spiffe://cluster.local"
CLIENT_ID = TD + "/ns/default/sa/sleep"
SERVER_ID = TD + "/ns/default/sa/reviews"
PYTHON = "/usr/bin/python3" if os.path.exists("/usr/bin/python3") else sys.executable
TAG = "mesh-e2e-%d" % os.getpid()


def run(*args, check=True, timeout=30, **kwargs):
    r = subprocess.run(list(args), capture_output=True, text=True, timeout=timeout, **kwargs)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(args), r.returncode, r.stdout, r.stderr))
    return r


def skip_unless_possible():
    if os.geteuid() != 0:
        print("SKIP: needs root (network namespaces, iptables)")
        sys.exit(77)
    for tool in ("ip", "iptables", "iptables-save", "iptables-restore", "setpriv", "curl"):
        if not shutil.which(tool):
            print("SKIP: %s is not installed" % tool)
            sys.exit(77)
    probe = TAG + "-probe"
    if subprocess.run(["ip", "netns", "add", probe], capture_output=True).returncode != 0:
        print("SKIP: ip netns is not available here")
        sys.exit(77)
    subprocess.run(["ip", "netns", "del", probe], capture_output=True)


def free_subnet():
    """A /24 in 10/8 that no address or route of this host overlaps."""
    used = []
    for line in run("ip", "-4", "-o", "addr").stdout.splitlines() + run("ip", "-4", "route").stdout.splitlines():
        for word in line.split():
            try:
                used.append(ipaddress.ip_network(word, strict=False))
            except ValueError:
                pass
    pid = os.getpid()
    for i in range(200):
        net = ipaddress.ip_network("10.%d.%d.0/24" % (100 + (pid + i) % 150, (pid // 150 + i) % 250))
        if not any(net.overlaps(u) for u in used if u.prefixlen > 0):
            return net
    raise AssertionError("no free /24 in 10.0.0.0/8")


APP = r'''
import http.server, json, sys
class Handler(http.server.BaseHTTPRequestHandler):
    def do_GET(self):
        body = json.dumps({"server": sys.argv[2], "path": self.path, "client": self.client_address[0],
                           "headers": {k.lower(): v for k, v in self.headers.items()}}).encode()
        self.send_response(200)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def log_message(self, *args):
        pass
http.server.ThreadingHTTPServer(("0.0.0.0", int(sys.argv[1])), Handler).serve_forever()
'''

# A client of a protocol where the server speaks first: it reads the greeting before it sends
# anything, then sends a line and reads the answer.
SERVER_FIRST_CLIENT = r'''
import json, socket, sys
s = socket.create_connection((sys.argv[1], int(sys.argv[2])), timeout=10)
f = s.makefile("rb")
greeting = f.readline().decode().strip()
s.sendall(b"ping\n")
answer = f.readline().decode().strip()
print(json.dumps({"greeting": greeting, "answer": answer}))
'''


# The same server as a program, for pod B.
GREETER = r'''
import socket, sys, threading
def talk(conn, peer):
    with conn:
        conn.sendall(("HELLO %s\n" % peer[0]).encode())
        conn.sendall(conn.makefile("rb").readline().upper())
server = socket.create_server(("0.0.0.0", int(sys.argv[1])))
while True:
    conn, peer = server.accept()
    threading.Thread(target=talk, args=(conn, peer), daemon=True).start()
'''


class ServerFirst:
    """A TCP server in the root namespace that greets each client before reading, naming the
    address the connection came from, then answers one line in upper case."""

    def __init__(self, ip):
        self.sock = socket.socket()
        self.sock.bind((ip, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.peers = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            self.peers.append(peer[0])
            threading.Thread(target=self._talk, args=(conn, peer), daemon=True).start()

    def _talk(self, conn, peer):
        with conn:
            conn.settimeout(10)
            try:
                conn.sendall(("HELLO %s\n" % peer[0]).encode())
                line = conn.makefile("rb").readline()
                conn.sendall(line.upper())
            except OSError:
                pass

    def stop(self):
        self.sock.close()


class Mesh:
    """The namespaces, links, processes and files of one run; stop() undoes all of it."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix=TAG + "-")
        os.chmod(self.dir, 0o755)  # the sidecars (uid 1337) read their own subdirectories
        self.procs = []
        self.logs = {}
        self.namespaces = []
        self.links = []
        self.etc = []
        self.etc_netns_was_there = os.path.isdir("/etc/netns")
        self.server = None

    # --- network -------------------------------------------------------------------------
    def network(self):
        self.net = free_subnet()
        hosts = list(self.net.hosts())
        self.root_ip, self.ip_a, self.ip_b = str(hosts[0]), str(hosts[1]), str(hosts[2])
        self.reviews_vip, self.db_vip = str(hosts[99]), str(hosts[100])
        short = str(os.getpid())[-7:]
        self.bridge = "mb" + short
        run("ip", "link", "add", self.bridge, "type", "bridge")
        self.links.append(self.bridge)
        run("ip", "addr", "add", "%s/24" % self.root_ip, "dev", self.bridge)
        run("ip", "link", "set", self.bridge, "up")
        # Hosts with br_netfilter (Docker's) filter bridged frames in FORWARD, often with a
        # DROP policy: let the pods' frames cross our bridge for the length of the run.
        self.forward_rule = ["FORWARD", "-i", self.bridge, "-o", self.bridge, "-j", "ACCEPT"]
        run("iptables", "-I", *self.forward_rule)
        self.ns_a = self.pod("a", self.ip_a, short)
        self.ns_b = self.pod("b", self.ip_b, short)

    def pod(self, suffix, ip, short):
        ns = "%s-%s" % (TAG, suffix)
        run("ip", "netns", "add", ns)
        self.namespaces.append(ns)
        host_end, pod_end = "mv%s%s" % (short, suffix), "mp%s%s" % (short, suffix)
        run("ip", "link", "add", host_end, "type", "veth", "peer", "name", pod_end)
        self.links.append(host_end)
        run("ip", "link", "set", host_end, "master", self.bridge)
        run("ip", "link", "set", host_end, "up")
        run("ip", "link", "set", pod_end, "netns", ns)
        run("ip", "-n", ns, "link", "set", pod_end, "name", "eth0")
        run("ip", "-n", ns, "addr", "add", "%s/24" % ip, "dev", "eth0")
        run("ip", "-n", ns, "link", "set", "eth0", "up")
        run("ip", "-n", ns, "link", "set", "lo", "up")
        run("ip", "-n", ns, "route", "add", "default", "via", self.root_ip)
        # `ip netns exec` bind-mounts these over /etc/hosts: the pod's cluster DNS.
        etc = "/etc/netns/" + ns
        os.makedirs(etc, exist_ok=True)
        self.etc.append(etc)
        with open(os.path.join(etc, "hosts"), "w") as f:
            f.write("127.0.0.1 localhost\n%s reviews reviews.default.svc.cluster.local\n"
                    "%s legacy-db.example\n" % (self.reviews_vip, self.db_vip))
        return ns

    # --- processes ----------------------------------------------------------------------
    def start(self, name, args, stdout=None):
        log = open(os.path.join(self.dir, name + ".log"), "w+")
        self.logs[name] = log
        proc = subprocess.Popen(args, stdout=stdout or log, stderr=log, text=True)
        self.procs.append(proc)
        return proc

    def log(self, name):
        log = self.logs[name]
        log.flush()
        log.seek(0)
        return log.read()

    def pilot(self):
        self.config = os.path.join(self.dir, "config")
        os.makedirs(self.config)
        self.write_config("services.yaml", SERVICES.format(vip=self.reviews_vip, db_vip=self.db_vip,
                                                            root=self.root_ip, port=self.server.port))
        self.ca_dir = os.path.join(self.dir, "ca")
        proc = self.start("pilot", [
            MESH, "pilot", "--config-dir", self.config, "--ca-data-dir", self.ca_dir,
            # pilot fetches its own certificate from the CA over loopback.
            "--ca-listen", "0.0.0.0:0", "--listen", self.root_ip + ":0",
            "--monitor", "127.0.0.1:0", "--debounce-after", "50ms"],
            stdout=subprocess.PIPE)
        words = {}
        for _ in range(3):
            line = proc.stdout.readline()
            if not line:
                raise AssertionError("mesh pilot did not start:\n" + self.log("pilot"))
            words[line.split()[0]] = line.split()[1]
        self.ca = self.root_ip + ":" + words["ca"].rsplit(":", 1)[1]
        self.pilot_address = words["listening"]

    def write_config(self, name, text):
        path = os.path.join(self.config, name)
        with open(path + ".tmp~", "w") as f:
            f.write(text)
        os.rename(path + ".tmp~", path)

    def sidecar(self, ns, sa, ip, app, *extra):
        """`mesh proxy iptables` as the init container would, then the sidecar as uid 1337."""
        home = os.path.join(self.dir, sa)
        os.makedirs(home)
        token = run(MESH, "ca", "token", "create", "--data-dir", self.ca_dir, "--namespace",
                    "default", "--service-account", sa).stdout.strip()
        with open(os.path.join(home, "token"), "w") as f:
            f.write(token + "\n")
        shutil.copy(os.path.join(self.ca_dir, "trust-bundle.pem"), os.path.join(home, "root.pem"))
        for path in [home] + [os.path.join(home, f) for f in os.listdir(home)]:
            os.chown(path, PROXY_UID, PROXY_UID)
        run("ip", "netns", "exec", ns, MESH, "proxy", "iptables", "--proxy-uid=%d" % PROXY_UID,
            "--proxy-gid=%d" % PROXY_UID)
        self.start("proxy-" + sa, [
            "ip", "netns", "exec", ns, "setpriv", "--reuid=%d" % PROXY_UID,
            "--regid=%d" % PROXY_UID, "--clear-groups",
            MESH, "proxy", "--pilot-address", self.pilot_address, "--ca-address", self.ca,
            "--ca-root", os.path.join(home, "root.pem"), "--token-file", os.path.join(home, "token"),
            "--cert-dir", os.path.join(home, "certs"), "--namespace", "default",
            "--service-account", sa, "--label", "app=" + app, "--address", ip,
            "--admin", "127.0.0.1:15000", "--readiness", "0.0.0.0:15021", "--concurrency", "1",
            "--drain-seconds", "1", "--log-level", "debug", *extra])

    def wait_ready(self, ip, name):
        deadline = time.time() + 30
        while time.time() < deadline:
            try:
                with urllib.request.urlopen("http://%s:15021/healthz/ready" % ip, timeout=2) as r:
                    if r.status == 200:
                        return
            except OSError:
                pass
            time.sleep(0.1)
        raise AssertionError("%s never became ready:\n%s" % (name, self.log(name)))

    def stop(self):
        for proc in self.procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
            if proc.stdout:
                proc.stdout.close()
        for log in self.logs.values():
            log.close()
        if self.server:
            self.server.stop()
        for ns in self.namespaces:
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
        if getattr(self, "forward_rule", None):
            subprocess.run(["iptables", "-D", *self.forward_rule], capture_output=True)
        for link in self.links:
            subprocess.run(["ip", "link", "del", link], capture_output=True)
        for etc in self.etc:
            shutil.rmtree(etc, ignore_errors=True)
        if not self.etc_netns_was_there:
            try:
                os.rmdir("/etc/netns")
            except OSError:
                pass  # not empty: another run's pods are in it
        shutil.rmtree(self.dir, ignore_errors=True)


SERVICES = """\
apiVersion: v1
kind: Service
metadata:
  name: reviews
  namespace: default
spec:
  clusterIP: {vip}
  selector:
    app: reviews
  ports:
  - name: http
    port: 9080
    targetPort: 9080
  - name: http-admin
    port: 9081
    targetPort: 9081
  - name: tcp-greet
    port: 9090
    targetPort: 9090
---
apiVersion: networking.istio.io/v1beta1
kind: ServiceEntry
metadata:
  name: legacy-db
  namespace: default
spec:
  hosts: [legacy-db.example]
  addresses: [{db_vip}]
  location: MESH_EXTERNAL
  resolution: STATIC
  ports:
  - number: {port}
    name: tcp-db
    protocol: TCP
  endpoints:
  - address: {root}
"""

# Pod A's identity may not open reviews' TCP port; its HTTP ports stay open.
DENY_TCP = """\
apiVersion: security.istio.io/v1beta1
kind: AuthorizationPolicy
metadata:
  name: no-greetings-for-sleep
  namespace: default
spec:
  selector:
    matchLabels:
      app: reviews
  action: DENY
  rules:
  - from:
    - source:
        principals: ["cluster.local/ns/default/sa/sleep"]
    to:
    - operation:
        ports: ["9090"]
"""

# Sidecar's outboundTrafficPolicy for pod A only: destinations outside the registry are refused.
REGISTRY_ONLY = """\
apiVersion: networking.istio.io/v1beta1
kind: Sidecar
metadata:
  name: sleep
  namespace: default
spec:
  workloadSelector:
    labels:
      app: sleep
  egress:
  - hosts: ["./*"]
  outboundTrafficPolicy:
    mode: REGISTRY_ONLY
"""

STRICT = """\
apiVersion: security.istio.io/v1beta1
kind: PeerAuthentication
metadata:
  name: default
  namespace: default
spec:
  mtls:
    mode: STRICT
"""


class TransparentCapture(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        m = cls.mesh = Mesh()
        try:
            m.network()
            m.server = ServerFirst(m.root_ip)
            m.pilot()
            app = os.path.join(m.dir, "app.py")
            with open(app, "w") as f:
                f.write(APP)
            m.start("app-b", ["ip", "netns", "exec", m.ns_b, PYTHON, app, "9080", "reviews-b"])
            m.start("app-b-admin", ["ip", "netns", "exec", m.ns_b, PYTHON, app, "9081", "reviews-b-admin"])
            greeter = os.path.join(m.dir, "greeter.py")
            with open(greeter, "w") as f:
                f.write(GREETER)
            m.start("greeter-b", ["ip", "netns", "exec", m.ns_b, PYTHON, greeter, "9090"])
            m.sidecar(m.ns_b, "reviews", m.ip_b, "reviews", "--port", "9080", "--port", "9081",
                      "--port", "9090", "--sidecar-port", "15006")
            m.sidecar(m.ns_a, "sleep", m.ip_a, "sleep")
            m.wait_ready(m.ip_b, "proxy-reviews")
            m.wait_ready(m.ip_a, "proxy-sleep")
        except BaseException:
            m.stop()
            raise

    @classmethod
    def tearDownClass(cls):
        cls.mesh.stop()

    # --- helpers ---------------------------------------------------------------------------
    def in_a(self, *args, check=True):
        return run("ip", "netns", "exec", self.mesh.ns_a, *args, check=check)

    def curl_a(self, url, *extra):
        """curl in pod A as root (so its traffic is captured): (status, body)."""
        r = self.in_a("curl", "-s", "-m", "10", "-w", "\n%{http_code}", *extra, url, check=False)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body

    def call_reviews(self, timeout=20):
        """Retries while pilot's push with B's endpoint is on its way to A."""
        deadline = time.time() + timeout
        while True:
            status, body = self.curl_a("http://reviews:9080/hello")
            if status == 200 or time.time() > deadline:
                return status, body
            time.sleep(0.2)

    def stats(self, ns):
        return run("ip", "netns", "exec", ns, "curl", "-s", "-m", "5",
                   "http://127.0.0.1:15000/stats").stdout

    def counter(self, ns, name, label):
        m = re.search(r'^%s\{%s\} (\d+)$' % (name, label), self.stats(ns), re.M)
        return int(m.group(1)) if m else 0

    def captured(self, kind):
        return self.counter(self.mesh.ns_a, "mesh_proxy_capture_connections_total",
                            'destination="%s"' % kind)

    def plain_to_pod_b(self):
        """curl from the root namespace straight to B's pod IP, as a pod without a sidecar
        would: (status, body), status 0 when the connection was refused or cut."""
        r = run("curl", "-s", "-m", "10", "-w", "\n%{http_code}",
                "http://%s:9080/plain" % self.mesh.ip_b, check=False)
        body, _, code = r.stdout.rpartition("\n")
        return int(code or 0), body

    # --- tests (in name order: 6 turns STRICT on, 7 REGISTRY_ONLY) --------------------------------
    def test_1_iptables_is_idempotent_and_has_istios_chains(self):
        m = self.mesh
        self.in_a(MESH, "proxy", "iptables", "--proxy-uid=%d" % PROXY_UID)  # a second time
        saved = self.in_a("iptables-save", "-t", "nat").stdout
        self.assertEqual(saved.count("-A OUTPUT -p tcp -j ISTIO_OUTPUT"), 1, saved)
        self.assertEqual(saved.count("-A PREROUTING -p tcp -j ISTIO_INBOUND"), 1, saved)
        self.assertEqual(saved.count("-j REDIRECT --to-ports 15001"), 1, saved)
        self.assertIn("-A ISTIO_IN_REDIRECT -p tcp -j REDIRECT --to-ports 15006", saved)
        self.assertIn("--uid-owner %d -j RETURN" % PROXY_UID, saved)
        dry = run(MESH, "proxy", "iptables", "--dry-run").stdout
        self.assertIn("-A ISTIO_OUTPUT -j ISTIO_REDIRECT", dry)
        self.assertIsNotNone(m)

    def test_2_app_calls_a_service_by_name_through_both_sidecars_with_mtls(self):
        before = self.captured("http")
        status, body = self.call_reviews()
        self.assertEqual(status, 200, body + self.mesh.log("proxy-sleep")[-3000:])
        seen = json.loads(body)
        self.assertEqual(seen["server"], "reviews-b")
        self.assertEqual(seen["client"], "127.0.0.1")  # B's sidecar handed it over locally
        self.assertEqual(seen["headers"].get("x-forwarded-client-cert"),
                         "By=%s;URI=%s" % (SERVER_ID, CLIENT_ID))
        self.assertGreater(self.captured("http"), before)

    def test_2b_a_pod_calling_its_own_service_goes_through_its_inbound_side(self):
        # B's app calls the Service it backs: its call is captured like any other, B's sidecar
        # picks B's own endpoint and connects over lo to its own inbound port, where the
        # request arrives with mTLS and the port's policy, as a call from another pod would.
        m = self.mesh
        self.call_reviews()
        r = run("ip", "netns", "exec", m.ns_b, "curl", "-s", "-m", "10", "http://reviews:9080/self")
        seen = json.loads(r.stdout)
        self.assertEqual(seen["server"], "reviews-b")
        self.assertEqual(seen["headers"].get("x-forwarded-client-cert"),
                         "By=%s;URI=%s" % (SERVER_ID, SERVER_ID))

    def test_3_a_host_without_port_is_routed_by_the_original_port(self):
        # reviews has two HTTP ports, so the bare name "reviews" is no route's domain; the
        # port the client connected to picks the service port.
        self.call_reviews()
        for port, server in ((9080, "reviews-b"), (9081, "reviews-b-admin")):
            status, body = self.curl_a("http://reviews:%d/noport" % port, "-H", "Host: reviews")
            self.assertEqual(status, 200, body)
            seen = json.loads(body)
            self.assertEqual(seen["server"], server)
            self.assertEqual(seen["headers"]["host"], "reviews")  # forwarded as the client wrote it

    def test_4_declared_tcp_port_where_the_server_speaks_first(self):
        m = self.mesh
        before = self.captured("tcp")
        deadline = time.time() + 20
        while True:
            r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, "legacy-db.example",
                          str(m.server.port), check=False)
            if r.returncode == 0 or time.time() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(r.returncode, 0, r.stderr + m.log("proxy-sleep")[-3000:])
        out = json.loads(r.stdout)
        # The greeting arrived before the client sent a byte, and the connection to the
        # server came from pod A (its sidecar), not from the virtual IP.
        self.assertEqual(out["greeting"], "HELLO " + m.ip_a, m.log("proxy-sleep")[-4000:])
        self.assertEqual(out["answer"], "PING")
        self.assertGreater(self.captured("tcp"), before)

    def test_5_unknown_destination_passes_through(self):
        m = self.mesh
        before = self.captured("passthrough")
        r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, m.root_ip, str(m.server.port))
        out = json.loads(r.stdout)
        self.assertEqual(out, {"greeting": "HELLO " + m.ip_a, "answer": "PING"})
        self.assertGreater(self.captured("passthrough"), before)

    def test_5b_an_excluded_outbound_port_bypasses_the_sidecar(self):
        m = self.mesh
        self.in_a(MESH, "proxy", "iptables", "--proxy-uid=%d" % PROXY_UID,
                  "--exclude-outbound-ports=%d" % m.server.port)
        try:
            before = self.captured("passthrough")
            r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, m.root_ip, str(m.server.port))
            self.assertEqual(json.loads(r.stdout)["answer"], "PING")
            self.assertEqual(self.captured("passthrough"), before)  # the sidecar never saw it
        finally:
            self.in_a(MESH, "proxy", "iptables", "--proxy-uid=%d" % PROXY_UID)
        self.assertNotIn("--dport %d -j RETURN" % m.server.port,
                         self.in_a("iptables-save", "-t", "nat").stdout)

    def test_6_plain_text_to_the_pod_permissive_then_strict(self):
        m = self.mesh
        # PERMISSIVE (no PeerAuthentication): B's inbound capture takes plain text, finds the
        # port from the original destination and hands it to the app; no client certificate,
        # so no x-forwarded-client-cert.
        status, body = self.plain_to_pod_b()
        self.assertEqual(status, 200, body + m.log("proxy-reviews")[-3000:])
        self.assertNotIn("x-forwarded-client-cert", json.loads(body)["headers"])
        refusals = self.counter(m.ns_b, "mesh_proxy_inbound_refusals_total", 'reason="plaintext"')
        m.write_config("peer-authentication.yaml", STRICT)
        deadline = time.time() + 20
        while time.time() < deadline:
            status, body = self.plain_to_pod_b()
            if status == 0:
                break
            time.sleep(0.2)
        self.assertEqual(status, 0, "plain text still accepted under STRICT: " + body)
        self.assertGreater(
            self.counter(m.ns_b, "mesh_proxy_inbound_refusals_total", 'reason="plaintext"'), refusals)
        # The mesh client still gets through, over mTLS.
        status, body = self.call_reviews()
        self.assertEqual(status, 200, body)
        self.assertEqual(json.loads(body)["headers"]["x-forwarded-client-cert"],
                         "By=%s;URI=%s" % (SERVER_ID, CLIENT_ID))

    def test_6b_a_tcp_port_of_a_mesh_service_crosses_mtls_and_the_server_speaks_first(self):
        # STRICT is on (test 6): only mTLS gets into pod B. reviews:9090 is a declared TCP
        # port; A's sidecar connects to B's sidecar with mTLS at once, B's hands the stream
        # to the app, whose greeting reaches A's client before it sends a byte.
        m = self.mesh
        before = self.captured("tcp")
        r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, "reviews", "9090")
        self.assertEqual(json.loads(r.stdout), {"greeting": "HELLO 127.0.0.1", "answer": "PING"},
                         m.log("proxy-reviews")[-3000:])
        self.assertGreater(self.captured("tcp"), before)
        # Plain text straight to the pod's TCP port is refused under STRICT (the client sends
        # first: the inbound listener needs a byte to tell plain text from TLS).
        with socket.create_connection((m.ip_b, 9090), timeout=10) as plain:
            plain.sendall(b"ping\n")
            try:
                got = plain.recv(100)
            except ConnectionResetError:
                got = b""
        self.assertEqual(got, b"")

    def test_6c_authorization_policy_applies_to_a_tcp_port(self):
        m = self.mesh

        def greeting():
            r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, "reviews", "9090", check=False)
            return json.loads(r.stdout)["greeting"] if r.returncode == 0 else ""

        self.assertEqual(greeting(), "HELLO 127.0.0.1")
        m.write_config("deny-tcp.yaml", DENY_TCP)
        deadline = time.time() + 20
        while greeting() and time.time() < deadline:
            time.sleep(0.2)
        self.assertEqual(greeting(), "", "the DENY policy did not close the TCP connection")
        self.assertGreater(self.counter(m.ns_b, "mesh_proxy_rbac_denied_total", 'protocol="tcp"'), 0)
        status, body = self.call_reviews()
        self.assertEqual(status, 200, body)

    def test_7_registry_only_refuses_unknown_destinations(self):
        m = self.mesh

        def greeted():
            r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, m.root_ip, str(m.server.port), check=False)
            return r.returncode == 0 and json.loads(r.stdout)["greeting"] != ""

        self.assertTrue(greeted())
        m.write_config("sidecar-sleep.yaml", REGISTRY_ONLY)
        deadline = time.time() + 20
        while greeted() and time.time() < deadline:
            time.sleep(0.2)
        # The capture listener closed the connection without a byte: nothing reached the server.
        self.assertFalse(greeted(), "REGISTRY_ONLY let an unknown destination through")
        self.assertGreater(self.captured("refused"), 0)
        # What the registry knows still works.
        status, body = self.call_reviews()
        self.assertEqual(status, 200, body)
        r = self.in_a(PYTHON, "-c", SERVER_FIRST_CLIENT, "legacy-db.example", str(m.server.port))
        self.assertEqual(json.loads(r.stdout)["answer"], "PING")

    def test_8_cleanup_removes_the_rules(self):
        m = self.mesh
        ns = TAG + "-cleanup"
        run("ip", "netns", "add", ns)
        m.namespaces.append(ns)
        run("ip", "netns", "exec", ns, MESH, "proxy", "iptables")
        run("ip", "netns", "exec", ns, MESH, "proxy", "iptables", "--cleanup")
        saved = run("ip", "netns", "exec", ns, "iptables-save", "-t", "nat").stdout
        self.assertNotIn("ISTIO", saved)


if __name__ == "__main__":
    skip_unless_possible()
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
