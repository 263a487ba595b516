"""Ingress gateway end to end, with real processes: `mesh pilot` (CA inside), two backend
apps each behind a `mesh proxy` sidecar that registers with pilot, and `mesh proxy --gateway`
in istio-system serving a Gateway of namespace default on ports the test picks. Requests go
client -> gateway -> mTLS -> backend sidecar -> app, routed by the VirtualServices bound to
the Gateway: header and weighted routes, 404 for unknown hosts, httpsRedirect, HTTPS with
certificate files made by openssl and checked by curl (SNI between two certificates, MUTUAL
with client certificates), a TCP server to a ServiceEntry, a PASSTHROUGH server that
routes TLS by SNI to two backends terminating it themselves, a bad certificate path NACKed,
and a re-route after a file edit."""
import base64
import http.client
import json
import os
import re
import socket
import socketserver
import subprocess
import threading
import time
import unittest
import urllib.error
import urllib.request

from meshtest import MESH, main
from pilot_harness import Pilot, TempDir, write_atomically
from proxy_http_test import Upstream, free_port

TD = "spiffe://cluster.local"
GATEWAY_ID = TD + "/ns/istio-system/sa/istio-ingressgateway-service-account"

SERVICES = """apiVersion: v1
kind: Service
metadata: {{name: web, namespace: default}}
spec:
  selector: {{app: web}}
  ports: [{{port: 80, name: http, targetPort: {web}}}]
---
apiVersion: v1
kind: Service
metadata: {{name: web-next, namespace: default}}
spec:
  selector: {{app: web-next}}
  ports: [{{port: 80, name: http, targetPort: {next}}}]
---
apiVersion: networking.istio.io/v1
kind: Gateway
metadata: {{name: web-gateway, namespace: default}}
spec:
  selector: {{istio: ingressgateway}}
  servers:
  - port: {{number: {port}, name: http, protocol: HTTP}}
    hosts: ["web.example.com", "other/*"]
  - port: {{number: {redirect_port}, name: http-redirect, protocol: HTTP}}
    hosts: ["*"]
    tls: {{httpsRedirect: true}}
  - port: {{number: {https_port}, name: https, protocol: HTTPS}}
    hosts: ["web.example.com"]
    tls: {{mode: SIMPLE, serverCertificate: {cert}, privateKey: {key}}}
  - port: {{number: {https_port}, name: https-shop, protocol: HTTPS}}
    hosts: ["shop.example.com"]
    tls: {{mode: SIMPLE, serverCertificate: {shop_cert}, privateKey: {shop_key}}}
  - port: {{number: {mutual_port}, name: https-mutual, protocol: HTTPS}}
    hosts: ["web.example.com"]
    tls: {{mode: MUTUAL, serverCertificate: {cert}, privateKey: {key}, caCertificates: {client_ca}}}
  - port: {{number: {tcp_port}, name: tcp, protocol: TCP}}
    hosts: ["*"]
  - port: {{number: {secret_port}, name: https-credential, protocol: HTTPS}}
    hosts: ["web.example.com"]
    tls: {{mode: SIMPLE, credentialName: web-credential}}
  - port: {{number: {passthrough_port}, name: tls-passthrough, protocol: TLS}}
    hosts: ["web.example.com", "shop.example.com"]
    tls: {{mode: PASSTHROUGH}}
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: tls-backends, namespace: default}}
spec:
  hosts: [web.tls.example.internal]
  ports: [{{number: {web_tls}, name: tls-web, protocol: TLS}}]
  resolution: STATIC
  endpoints: [{{address: 127.0.0.1}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: shop-tls-backend, namespace: default}}
spec:
  hosts: [shop.tls.example.internal]
  ports: [{{number: {shop_tls}, name: tls-shop, protocol: TLS}}]
  resolution: STATIC
  endpoints: [{{address: 127.0.0.1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: passthrough, namespace: default}}
spec:
  hosts: ["web.example.com", "shop.example.com"]
  gateways: [web-gateway]
  tls:
  - match: [{{port: {passthrough_port}, sniHosts: [web.example.com]}}]
    route: [{{destination: {{host: web.tls.example.internal, port: {{number: {web_tls}}}}}}}]
  - match: [{{port: {passthrough_port}, sniHosts: [shop.example.com]}}]
    route: [{{destination: {{host: shop.tls.example.internal, port: {{number: {shop_tls}}}}}}}]
---
apiVersion: networking.istio.io/v1
kind: ServiceEntry
metadata: {{name: echo, namespace: default}}
spec:
  hosts: [echo.example.internal]
  ports: [{{number: {echo_port}, name: tcp-echo, protocol: TCP}}]
  resolution: STATIC
  endpoints: [{{address: 127.0.0.1}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: echo, namespace: default}}
spec:
  hosts: ["*"]
  gateways: [web-gateway]
  tcp: [{{route: [{{destination: {{host: echo.example.internal, port: {{number: {echo_port}}}}}}}]}}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {{name: shop, namespace: default}}
spec:
  hosts: ["shop.example.com"]
  gateways: [web-gateway]
  http: [{{route: [{{destination: {{host: web-next}}}}]}}]
"""

# The canary header goes to web-next; everything else to web, tagged on the way.
ROUTES = """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: web, namespace: default}
spec:
  hosts: ["web.example.com"]
  gateways: [web-gateway]
  http:
  - match: [{headers: {x-canary: {exact: "yes"}}}]
    route: [{destination: {host: web-next}}]
  - route:
    - destination: {host: web}
      weight: %d
      headers: {request: {set: {x-routed-by: gateway}}}
    - destination: {host: web-next}
      weight: %d
"""
ROUTES_WEB = ROUTES % (100, 0)

# Istio's "Secure Gateways" way: a TLS Secret in the gateway's namespace, named by
# credentialName (kubectl create -n istio-system secret tls web-credential --cert --key).
SECRET = """apiVersion: v1
kind: Secret
metadata: {name: web-credential, namespace: istio-system}
type: kubernetes.io/tls
data:
  tls.crt: %s
  tls.key: %s
"""
ROUTES_NEXT = ROUTES % (0, 100)


class MeshProxy:
    """`mesh proxy` connected to pilot, with its certificate from pilot's CA."""

    def __init__(self, pilot, workdir, name, ns, sa, *extra):
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        token = os.path.join(self.dir, "token")
        with open(token, "w") as f:
            f.write(pilot.token(ns, sa) + "\n")
        self.log = open(os.path.join(self.dir, "stderr.log"), "w+")
        self.proc = subprocess.Popen(
            [MESH, "proxy", "--pilot-address", pilot.listen, "--ca-address", pilot.ca,
             "--ca-root", pilot.root(), "--token-file", token, "--namespace", ns,
             "--service-account", sa, "--node", name + "." + ns, "--admin", "127.0.0.1:0",
             "--readiness", "127.0.0.1:0", "--concurrency", "1", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening"):
            raise AssertionError(name + " did not start: " + line + self.stderr())
        self.addresses = dict(item.split("=", 1) for item in line.split()[1:])

    def stderr(self):
        self.log.flush()
        self.log.seek(0)
        return self.log.read()

    def port(self, name):
        return int(self.addresses[name].rsplit(":", 1)[1])

    def wait_ready(self, timeout=20):
        url = "http://127.0.0.1:%d/healthz/ready" % self.port("readiness")
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                with urllib.request.urlopen(url, timeout=5) as r:
                    if r.status == 200:
                        return
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                pass
            time.sleep(0.05)
        raise AssertionError(self.dir + " never became ready:\n" + self.stderr())

    def stat(self, name, labels):
        url = "http://127.0.0.1:%d/stats" % self.port("admin")
        with urllib.request.urlopen(url, timeout=5) as r:
            m = re.search(r"^%s\{%s\} (\d+)$" % (name, re.escape(labels)), r.read().decode(), re.M)
        return int(m.group(1)) if m else 0

    def config_dump(self):
        url = "http://127.0.0.1:%d/config_dump" % self.port("admin")
        with urllib.request.urlopen(url, timeout=5) as r:
            return json.loads(r.read())

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class EchoHandler(socketserver.BaseRequestHandler):
    """Answers every chunk with "echo: " and the chunk."""

    def handle(self):
        while True:
            data = self.request.recv(4096)
            if not data:
                return
            self.request.sendall(b"echo: " + data)


def openssl(*args):
    subprocess.run(["openssl", *args], check=True, capture_output=True, timeout=30)


def get(port, host, headers=None, path="/hello"):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    try:
        conn.request("GET", path, headers={"Host": host, **(headers or {})})
        resp = conn.getresponse()
        return resp, resp.read()
    finally:
        conn.close()


class IngressGateway(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = TempDir()
        cls.dir = cls.tmp.__enter__()
        cls.config = os.path.join(cls.dir, "config")
        os.makedirs(cls.config)
        cls.apps = {"web": Upstream("web-app"), "web-next": Upstream("web-next-app")}
        cls.port = free_port()
        cls.redirect_port = free_port()
        cls.https_port = free_port()
        # The HTTPS server's certificate: self-signed for web.example.com, by openssl.
        cls.cert = os.path.join(cls.dir, "web-cert.pem")
        cls.key = os.path.join(cls.dir, "web-key.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", cls.key, "-out", cls.cert, "-days", "1", "-subj", "/CN=web.example.com",
                "-addext", "subjectAltName=DNS:web.example.com")
        # A second HTTPS server on the same port, told apart by SNI.
        cls.shop_cert = os.path.join(cls.dir, "shop-cert.pem")
        cls.shop_key = os.path.join(cls.dir, "shop-key.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", cls.shop_key, "-out", cls.shop_cert, "-days", "1", "-subj",
                "/CN=shop.example.com", "-addext", "subjectAltName=DNS:shop.example.com")
        # The MUTUAL server's clients: a CA of their own and one client certificate from it.
        cls.mutual_port = free_port()
        path = lambda name: os.path.join(cls.dir, name)
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path("client-ca-key.pem"), "-out", path("client-ca.pem"), "-days", "1",
                "-subj", "/CN=web clients")
        openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", path("client-key.pem"), "-out", path("client.csr"), "-subj", "/CN=client")
        openssl("x509", "-req", "-in", path("client.csr"), "-CA", path("client-ca.pem"), "-CAkey",
                path("client-ca-key.pem"), "-CAcreateserial", "-out", path("client.pem"), "-days", "1")
        # The credentialName server's certificate, for the same name, from a Secret.
        cls.secret_port = free_port()
        cls.secret = os.path.join(cls.config, "secret.yaml")
        cls.secret_cert = cls.write_secret("secret-1")
        # A TCP service outside the mesh (a ServiceEntry), reached through a TCP server.
        cls.echo = socketserver.ThreadingTCPServer(("127.0.0.1", 0), EchoHandler)
        cls.echo.daemon_threads = True
        threading.Thread(target=cls.echo.serve_forever, daemon=True).start()
        cls.tcp_port = free_port()
        # Two backends that terminate TLS themselves (openssl s_server), each with a
        # certificate of its own that the gateway does not have, behind a PASSTHROUGH server.
        cls.passthrough_port = free_port()
        cls.tls_backends = {}
        for host in ("web", "shop"):
            cert, key = path(host + "-backend-cert.pem"), path(host + "-backend-key.pem")
            openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
                    "-nodes", "-keyout", key, "-out", cert, "-days", "1", "-subj",
                    "/CN=%s.example.com" % host, "-addext", "subjectAltName=DNS:%s.example.com" % host)
            port = free_port()
            server = subprocess.Popen(
                ["openssl", "s_server", "-accept", "127.0.0.1:%d" % port, "-cert", cert, "-key",
                 key, "-www", "-quiet"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            cls.tls_backends[host] = (port, cert, server)
        write_atomically(os.path.join(cls.config, "services.yaml"), SERVICES.format(
            tcp_port=cls.tcp_port, echo_port=cls.echo.server_address[1],
            web=cls.apps["web"].port, next=cls.apps["web-next"].port, port=cls.port,
            redirect_port=cls.redirect_port, https_port=cls.https_port, cert=cls.cert,
            key=cls.key, mutual_port=cls.mutual_port, client_ca=path("client-ca.pem"),
            shop_cert=cls.shop_cert, shop_key=cls.shop_key, secret_port=cls.secret_port,
            passthrough_port=cls.passthrough_port, web_tls=cls.tls_backends["web"][0],
            shop_tls=cls.tls_backends["shop"][0]))
        cls.routes = os.path.join(cls.config, "routes.yaml")
        write_atomically(cls.routes, ROUTES_WEB)
        cls.pilot = Pilot(cls.dir, cls.config)
        cls.proxies = []
        try:
            for name, app in cls.apps.items():
                cls.proxies.append(MeshProxy(
                    cls.pilot, cls.dir, name, "default", name, "--label", "app=" + name,
                    "--address", "127.0.0.1", "--port", str(app.port),
                    "--sidecar-port", str(free_port()),
                    # Pilot puts every sidecar's capture listener on 15001: move it aside.
                    "--listener-port", "15001=127.0.0.1:%d" % free_port()))
            cls.gateway = MeshProxy(
                cls.pilot, cls.dir, "ingress", "istio-system",
                "istio-ingressgateway-service-account", "--gateway", "--gateway-address",
                "127.0.0.1", "--label", "istio=ingressgateway", "--label", "app=istio-ingressgateway",
                "--request-headers-timeout-ms", "1000")
            cls.proxies.append(cls.gateway)
            for p in cls.proxies:
                p.wait_ready()
        except Exception:
            cls.tearDownClass()
            raise

    @classmethod
    def write_secret(cls, name):
        """A new certificate for web.example.com, written as the Secret web-credential; its
        certificate file, for curl to trust."""
        cert = os.path.join(cls.dir, name + "-cert.pem")
        key = os.path.join(cls.dir, name + "-key.pem")
        openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=web.example.com",
                "-addext", "subjectAltName=DNS:web.example.com")
        encoded = []
        for f in (cert, key):
            with open(f, "rb") as pem:
                encoded.append(base64.b64encode(pem.read()).decode())
        write_atomically(cls.secret, SECRET % tuple(encoded))
        with open(key) as pem:
            cls.secret_key_text = pem.read()
        return cert

    @classmethod
    def tearDownClass(cls):
        for p in cls.proxies:
            p.stop()
        cls.pilot.stop()
        for app in cls.apps.values():
            app.stop()
        cls.echo.shutdown()
        cls.echo.server_close()
        for _, _, server in cls.tls_backends.values():
            server.kill()
            server.wait()
        cls.tmp.__exit__(None, None, None)

    def wait_for(self, check, timeout, what):
        """Polls check() until it returns a true value; the value and the time it took."""
        start = time.monotonic()
        last = None
        while time.monotonic() - start < timeout:
            try:
                last = check()
            except (ConnectionError, http.client.HTTPException) as e:
                last = e
            else:
                if last:
                    return last, time.monotonic() - start
            time.sleep(0.02)
        self.fail("%s: not within %.1f s (last: %r)\ngateway log:\n%s" % (
            what, timeout, last, self.gateway.stderr()[-3000:]))

    def served_by(self, headers=None):
        resp, body = get(self.port, "web.example.com", headers)
        if resp.status != 200:
            return None
        return json.loads(body)

    def test_gateway_config_has_only_gateway_listeners(self):
        dump = self.gateway.config_dump()
        listeners = dump["listeners"]
        self.assertEqual({(l["address"], l["port"], l["direction"]) for l in listeners},
                         {("127.0.0.1", self.port, "GATEWAY"),
                          ("127.0.0.1", self.redirect_port, "GATEWAY"),
                          ("127.0.0.1", self.https_port, "GATEWAY"),
                          ("127.0.0.1", self.mutual_port, "GATEWAY"),
                          ("127.0.0.1", self.secret_port, "GATEWAY"),
                          ("127.0.0.1", self.tcp_port, "GATEWAY"),
                          ("127.0.0.1", self.passthrough_port, "GATEWAY")})

    def curl_https(self, host, port=None, *extra, cacert=None):
        port = port or self.https_port
        return subprocess.run(
            ["curl", "-sS", "--cacert", cacert or self.cert, "--resolve",
             "%s:%d:127.0.0.1" % (host, port),
             "-w", "\n%{http_code}", *extra, "https://%s:%d/secure" % (host, port)],
            capture_output=True, text=True, timeout=30)

    def test_tcp_server_forwards_bytes_to_its_destination(self):
        def echoed():
            with socket.create_connection(("127.0.0.1", self.tcp_port), timeout=5) as s:
                s.sendall(b"ping")
                return s.recv(100)
        answer, _ = self.wait_for(echoed, 10, "an echo through the TCP server")
        self.assertEqual(answer, b"echo: ping")

    def test_passthrough_server_forwards_tls_by_sni_to_the_backend_that_terminates_it(self):
        # curl trusts only each backend's own certificate: a 200 means that backend, not the
        # gateway, terminated TLS, and that the SNI picked it.
        for host in ("web", "shop"):
            _, cert, _ = self.tls_backends[host]
            name = host + ".example.com"

            def ok():
                r = self.curl_https(name, self.passthrough_port, cacert=cert)
                return r if r.returncode == 0 and r.stdout.endswith("\n200") else None
            r, _ = self.wait_for(ok, 10, "a TLS connection to " + name + " through the gateway")
            self.assertIn("<HTML>", r.stdout)  # s_server's own page
        # A name no route takes, and bytes that are not TLS, are refused and counted.
        label = 'reason="no_route"'
        before = self.gateway.stat("mesh_proxy_gateway_passthrough_refusals_total", label)
        r = self.curl_https("other.example.com", self.passthrough_port)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(
            self.gateway.stat("mesh_proxy_gateway_passthrough_refusals_total", label), before + 1)
        with socket.create_connection(("127.0.0.1", self.passthrough_port), timeout=5) as s:
            s.sendall(b"GET / HTTP/1.1\r\nHost: web.example.com\r\n\r\n")
            self.assertEqual(s.recv(100), b"")  # closed without an answer
        self.assertGreaterEqual(
            self.gateway.stat("mesh_proxy_gateway_passthrough_refusals_total", 'reason="not_tls"'), 1)

    def test_a_client_that_never_finishes_its_handshake_is_dropped(self):
        self.wait_for(lambda: self.curl_https("web.example.com").stdout.endswith("\n200"), 10,
                      "the HTTPS listener answering")
        name, labels = "mesh_proxy_gateway_tls_failures_total", 'reason="timeout"'
        before = self.gateway.stat(name, labels)
        start = time.monotonic()
        with socket.create_connection(("127.0.0.1", self.https_port), timeout=10) as s:
            s.sendall(b"\x16\x03\x01")  # the start of a TLS record, and then nothing
            self.assertEqual(s.recv(100), b"")  # closed by the gateway
        self.assertLess(time.monotonic() - start, 5)
        self.assertEqual(self.gateway.stat(name, labels), before + 1)

    def test_mutual_https_server_wants_a_client_certificate_from_its_ca(self):
        def ok():
            r = self.curl_https("web.example.com", self.mutual_port, "--cert",
                                os.path.join(self.dir, "client.pem"), "--key",
                                os.path.join(self.dir, "client-key.pem"))
            return r.returncode == 0 and r.stdout.endswith("\n200") and r
        r, _ = self.wait_for(ok, 10, "curl with a client certificate through the MUTUAL server")
        self.assertEqual(json.loads(r.stdout.rsplit("\n", 1)[0])["server"], "web-app")
        # Without a certificate, or with one from another CA (the gateway's own), no answer.
        anonymous = self.curl_https("web.example.com", self.mutual_port)
        self.assertFalse(anonymous.stdout.endswith("\n200"), anonymous.stdout)
        stranger = self.curl_https("web.example.com", self.mutual_port, "--cert", self.cert,
                                   "--key", self.key)
        self.assertFalse(stranger.stdout.endswith("\n200"), stranger.stdout)

    def test_https_server_terminates_tls_with_its_certificate_files(self):
        def ok():
            r = self.curl_https("web.example.com")
            return r.returncode == 0 and r.stdout.endswith("\n200") and r
        r, _ = self.wait_for(ok, 10, "curl over https through the gateway")
        seen = json.loads(r.stdout.rsplit("\n", 1)[0])
        self.assertEqual(seen["server"], "web-app")
        self.assertEqual(seen["path"], "/secure")
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        self.assertIn("URI=" + GATEWAY_ID, headers["x-forwarded-client-cert"])
        self.assertEqual(headers["x-forwarded-proto"], "https")
        # curl checks the certificate against the name it asked for: another name fails.
        wrong = self.curl_https("shop.example.com")
        self.assertNotEqual(wrong.returncode, 0)
        self.assertIn("certificate", wrong.stderr.lower())
        # shop.example.com on the same port presents its own certificate (SNI) and routes by
        # its own VirtualService.
        shop = self.curl_https("shop.example.com", cacert=self.shop_cert)
        self.assertTrue(shop.stdout.endswith("\n200"), shop.stderr)
        self.assertEqual(json.loads(shop.stdout.rsplit("\n", 1)[0])["server"], "web-next-app")
        # Plain HTTP on the TLS port gets no HTTP answer.
        with self.assertRaises((ConnectionError, http.client.HTTPException, TimeoutError)):
            get(self.https_port, "web.example.com")

    def test_request_reaches_the_backend_over_mtls_with_the_gateways_identity(self):
        seen, _ = self.wait_for(self.served_by, 10, "a 200 from web through the gateway")
        self.assertEqual(seen["server"], "web-app")
        headers = {k.lower(): v for k, v in seen["headers"].items()}
        self.assertEqual(headers["x-routed-by"], "gateway")
        self.assertEqual(headers["x-forwarded-proto"], "http")
        # The backend's sidecar terminated mTLS and names the gateway as the peer.
        self.assertEqual(headers["x-forwarded-client-cert"],
                         "By=%s/ns/default/sa/web;URI=%s" % (TD, GATEWAY_ID))
        canary, _ = self.wait_for(lambda: self.served_by({"x-canary": "yes"}), 10,
                                  "the canary header routed to web-next")
        self.assertEqual(canary["server"], "web-next-app")
        self.assertIn("URI=" + GATEWAY_ID,
                      {k.lower(): v for k, v in canary["headers"].items()}["x-forwarded-client-cert"])

    def test_https_server_with_a_credential_name_serves_the_secrets_certificate(self):
        def ok(cert):
            r = self.curl_https("web.example.com", self.secret_port, cacert=cert)
            return r.returncode == 0 and r.stdout.endswith("\n200") and r
        r, _ = self.wait_for(lambda: ok(self.secret_cert), 10, "curl trusting the Secret's cert")
        self.assertEqual(json.loads(r.stdout.rsplit("\n", 1)[0])["server"], "web-app")
        # The private key is in neither the gateway's /config_dump nor pilot's /debug/configz.
        dump = self.gateway.config_dump()
        tls = [l["tls"] for l in dump["listeners"] if l["port"] == self.secret_port][0]
        self.assertEqual(tls["privateKeyPem"], "[redacted]")
        self.assertIn("BEGIN CERTIFICATE", tls["serverCertificatePem"])
        key_body = self.secret_key_text.splitlines()[1]
        self.assertNotIn(key_body, json.dumps(dump))
        self.assertNotIn(key_body, self.pilot.get("/debug/configz"))
        # A renewed Secret (cert-manager's way) is served without a restart; the old
        # certificate is not trusted for it any more.
        renewed = type(self).write_secret("secret-2")
        self.wait_for(lambda: ok(renewed), 10, "curl trusting the renewed Secret's cert")
        stale = self.curl_https("web.example.com", self.secret_port, cacert=self.secret_cert)
        self.assertNotEqual(stale.returncode, 0)

    def test_unknown_host_is_404_no_route(self):
        for host in ("unknown.example.com", "web.example.com.evil", "other.example.com"):
            resp, body = get(self.port, host)
            self.assertEqual(resp.status, 404, host)
            self.assertEqual(resp.getheader("x-mesh-response-flags"), "NR", body)

    def test_authorization_policy_selecting_the_gateway_applies_at_the_gateway(self):
        # Istio's usual ingress policy: selected by the gateway's labels in its namespace.
        path = os.path.join(self.config, "ingress-policy.yaml")
        write_atomically(path, """apiVersion: security.istio.io/v1
kind: AuthorizationPolicy
metadata: {name: ingress-deny, namespace: istio-system}
spec:
  selector: {matchLabels: {istio: ingressgateway}}
  action: DENY
  rules: [{to: [{operation: {paths: ["/admin*"]}}]}]
""")
        try:
            def denied():
                resp, body = get(self.port, "web.example.com", path="/admin/users")
                return (resp.status, body) if resp.status == 403 else None
            (status, body), _ = self.wait_for(denied, 5, "the gateway's DENY policy")
            self.assertEqual(body, b"RBAC: access denied")
            resp, body = get(self.port, "web.example.com", path="/hello")
            self.assertEqual(resp.status, 200, body)
        finally:
            os.unlink(path)
        self.wait_for(lambda: get(self.port, "web.example.com", path="/admin/users")[0].status == 200,
                      5, "the policy's removal")

    def test_https_redirect_answers_301(self):
        resp, body = get(self.redirect_port, "shop.example.com", path="/cart?id=1")
        self.assertEqual(resp.status, 301, body)
        self.assertEqual(resp.getheader("location"), "https://shop.example.com/cart?id=1")

    def test_a_missing_certificate_file_is_nacked_and_the_gateway_serves_on(self):
        self.wait_for(self.served_by, 10, "a 200 from web through the gateway")
        services = os.path.join(self.config, "services.yaml")
        with open(services) as f:
            good = f.read()
        missing = os.path.join(self.dir, "no-such-cert.pem")
        try:
            write_atomically(services, good.replace(self.cert, missing))
            state = self.pilot.wait_sync("ingress.istio-system", "NACKED", timeout=5)
            # Both HTTPS servers name the file; the reason names the first listener.
            self.assertRegex(state["nack_reason"], r"^listener 127\.0\.0\.1_(%d|%d): %s: " % (
                self.https_port, self.mutual_port, re.escape(missing)))
            # The last good config stays: plain HTTP and HTTPS both still answer.
            self.assertEqual(self.served_by()["server"], "web-app")
            r = self.curl_https("web.example.com")
            self.assertTrue(r.stdout.endswith("\n200"), r.stderr)
        finally:
            write_atomically(services, good)
        self.pilot.wait_sync("ingress.istio-system", "SYNCED", timeout=5)

    def test_zz_changing_the_virtual_service_reroutes_within_a_second(self):
        self.wait_for(self.served_by, 10, "a 200 from web through the gateway")
        self.assertEqual(self.served_by()["server"], "web-app")
        try:
            write_atomically(self.routes, ROUTES_NEXT)
            seen, took = self.wait_for(
                lambda: (s := self.served_by()) and s["server"] == "web-next-app" and s, 5,
                "requests re-routed to web-next")
            self.assertLess(took, 1.0, "re-routing took %.2f s" % took)
            # Every later request goes to web-next: the old route is gone, not racing.
            for _ in range(20):
                self.assertEqual(self.served_by()["server"], "web-next-app")
        finally:
            write_atomically(self.routes, ROUTES_WEB)


if __name__ == "__main__":
    main()
