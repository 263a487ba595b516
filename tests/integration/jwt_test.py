"""RequestAuthentication through real sidecars: a `reviews` workload (namespace bar) behind
its sidecar, called through the sidecar of `sleep` (namespace foo), both with certificates
from a real `mesh ca`. The issuer's keys are made here with the openssl tool (RS256, ES256,
EdDSA) and served as a JWKS by a small HTTP server, which the server sidecar fetches itself
(jwksUri) and fetches again every half second (--jwks-refresh-seconds). An
AuthorizationPolicy requires a request principal of that issuer and the `admins` group claim.
"""
import base64
import http.client
import json
import os
import signal
import ssl
import subprocess
import tempfile
import threading
import time
import unittest
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from authz_test import client_snapshot, policy, server_snapshot
from ca_test import Ca
from meshtest import main
from proxy_http_test import Upstream, free_port
from proxy_mtls_test import Sidecar

ISSUER = "https://accounts.example.com"
AUDIENCE = "reviews.bar"


def b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def openssl(*args, data=None):
    return subprocess.run(["openssl", *args], input=data, check=True,
                          capture_output=True).stdout


class Key:
    """A signing key made by the openssl tool, its public JWK, and tokens signed with it."""

    def __init__(self, directory, alg, kid):
        self.alg, self.kid = alg, kid
        self.path = os.path.join(directory, kid + ".pem")
        spec = {"RS256": ["-algorithm", "RSA", "-pkeyopt", "rsa_keygen_bits:2048"],
                "ES256": ["-algorithm", "EC", "-pkeyopt", "ec_paramgen_curve:P-256"],
                "EdDSA": ["-algorithm", "ed25519"]}[alg]
        openssl("genpkey", *spec, "-out", self.path)
        public = openssl("pkey", "-in", self.path, "-pubout", "-outform", "DER")
        if alg == "RS256":
            modulus = openssl("rsa", "-in", self.path, "-noout", "-modulus").decode()
            n = bytes.fromhex(modulus.strip().split("=", 1)[1])
            self.jwk = {"kty": "RSA", "n": b64(n), "e": b64(b"\x01\x00\x01")}
        elif alg == "ES256":
            point = public[-65:]  # 04 || x || y
            self.jwk = {"kty": "EC", "crv": "P-256", "x": b64(point[1:33]), "y": b64(point[33:])}
        else:
            self.jwk = {"kty": "OKP", "crv": "Ed25519", "x": b64(public[-32:])}
        self.jwk.update({"kid": kid, "alg": alg, "use": "sig"})

    def sign(self, data):
        if self.alg == "EdDSA":
            with tempfile.NamedTemporaryFile() as f:
                f.write(data)
                f.flush()
                return openssl("pkeyutl", "-sign", "-inkey", self.path, "-rawin", "-in", f.name)
        der = openssl("dgst", "-sha256", "-sign", self.path, data=data)
        if self.alg == "RS256":
            return der
        return der_to_raw(der)

    def token(self, **claims):
        now = int(time.time())
        payload = {"iss": ISSUER, "sub": "alice", "aud": AUDIENCE, "iat": now,
                   "exp": now + 600, "groups": ["admins"]}
        payload.update(claims)
        payload = {k: v for k, v in payload.items() if v is not None}
        header = {"alg": self.alg, "kid": self.kid, "typ": "JWT"}
        signing_input = (b64(json.dumps(header).encode()) + "." +
                         b64(json.dumps(payload).encode())).encode()
        return signing_input.decode() + "." + b64(self.sign(signing_input))


def der_to_raw(der):
    """ECDSA-Sig-Value (DER SEQUENCE of two INTEGERs) to JWS's r || s, 32 bytes each."""
    assert der[0] == 0x30
    at = 2 if der[1] < 0x80 else 2 + (der[1] & 0x7F)
    out = b""
    for _ in range(2):
        assert der[at] == 0x02
        length = der[at + 1]
        value = der[at + 2:at + 2 + length].lstrip(b"\x00")
        out += value.rjust(32, b"\x00")
        at += 2 + length
    return out


def make_tls_files(directory):
    """A CA and a certificate for "localhost" it signed, made by the openssl tool."""
    ca_key, ca = os.path.join(directory, "ca.key"), os.path.join(directory, "ca.pem")
    key, csr = os.path.join(directory, "srv.key"), os.path.join(directory, "srv.csr")
    cert, ext = os.path.join(directory, "srv.pem"), os.path.join(directory, "srv.ext")
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    openssl("req", "-x509", *ec, "-keyout", ca_key, "-out", ca, "-days", "1",
            "-subj", "/CN=jwks test CA", "-addext", "basicConstraints=critical,CA:TRUE",
            "-addext", "keyUsage=critical,keyCertSign")
    openssl("req", *ec, "-keyout", key, "-out", csr, "-subj", "/CN=localhost")
    with open(ext, "w") as f:
        f.write("subjectAltName=DNS:localhost\n")
    openssl("x509", "-req", "-in", csr, "-CA", ca, "-CAkey", ca_key, "-CAcreateserial",
            "-out", cert, "-days", "1", "-extfile", ext)
    return ca, cert, key


class KeyServer:
    """The issuer's JWKS endpoint: serves whatever key set it holds now, counts fetches.
    With `tls` (certificate, key), over HTTPS as "localhost"."""

    def __init__(self, tls=None):
        self.body = b'{"keys": []}'
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                outer.fetches += 1
                body = outer.body
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{port}/.well-known/jwks.json"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
            self.url = f"https://localhost:{port}/.well-known/jwks.json"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def publish(self, *keys):
        self.body = json.dumps({"keys": [k.jwk for k in keys]}).encode()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


def request_authentication(jwks_uri, **extra):
    rule = {"issuer": ISSUER, "jwksUri": jwks_uri, "audiences": [AUDIENCE]}
    rule.update(extra)
    return {"name": "jwt", "namespace": "bar", "spec": {"jwtRules": [rule]}}


REQUIRE_ADMIN = policy("require-jwt", {"action": "ALLOW", "rules": [{
    "from": [{"source": {"requestPrincipals": [ISSUER + "/*"]}}],
    "when": [{"key": "request.auth.claims[groups]", "values": ["admins"]}]}]})


class RequestAuthenticationTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.rsa = Key(cls.dir, "RS256", "rsa-1")
        cls.ec = Key(cls.dir, "ES256", "ec-1")
        cls.ed = Key(cls.dir, "EdDSA", "ed-1")
        cls.rotated = Key(cls.dir, "ES256", "ec-2")
        cls.keys = KeyServer()
        cls.keys.publish(cls.rsa, cls.ec, cls.ed)
        os.mkdir(os.path.join(cls.dir, "tls"))
        tls_root, *tls = make_tls_files(os.path.join(cls.dir, "tls"))
        cls.tls_keys = KeyServer(tls)
        cls.tls_keys.publish(cls.ed)
        cls.ca = Ca(cls.dir)
        cls.app = Upstream("reviews-app")
        # The roots the server sidecar trusts for jwksUri over HTTPS: the test's own CA.
        os.environ["SSL_CERT_FILE"] = tls_root
        try:
            cls.server = Sidecar(cls.ca, "reviews", server_snapshot(cls.app.port, [], "s0"),
                                 "--jwks-refresh-seconds", "0.5", ns="bar")
        finally:
            del os.environ["SSL_CERT_FILE"]
        cls.client = Sidecar(cls.ca, "sleep", client_snapshot(cls.server.port("inbound")),
                             ns="foo")
        for s in (cls.server, cls.client):
            s.wait_ready()
        cls.version = 0

    @classmethod
    def tearDownClass(cls):
        cls.client.stop()
        cls.server.stop()
        cls.app.stop()
        cls.keys.stop()
        cls.tls_keys.stop()
        cls.ca.stop()

    def install(self, authentications, policies=(REQUIRE_ADMIN,)):
        type(self).version += 1
        version = f"jwt-{self.version}"
        snapshot = server_snapshot(self.app.port, list(policies), version)
        snapshot["requestAuthentications"] = authentications
        self.server.write(snapshot)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        while time.time() < deadline:
            if f'"{version}"' in self.server.admin("/config_dump"):
                return
            time.sleep(0.02)
        self.fail("the server sidecar did not load the snapshot:\n" + self.server.stderr())

    def request(self, token=None, headers=None, path="/reviews/1"):
        conn = http.client.HTTPConnection("127.0.0.1", self.client.port("outbound"), timeout=10)
        h = {"Host": "reviews"}
        if token is not None:
            h["Authorization"] = "Bearer " + token
        h.update(headers or {})
        conn.request("GET", path, headers=h)
        resp = conn.getresponse()
        body = resp.read().decode()
        conn.close()
        return resp.status, body, resp

    def eventually_status(self, token, status, timeout=10):
        deadline = time.time() + timeout
        while True:
            got = self.request(token)
            if got[0] == status or time.time() > deadline:
                return got
            time.sleep(0.1)

    def jwt_count(self, result):
        return self.server.counter("mesh_proxy_jwt_authn_total", f'result="{result}"')

    def setUp(self):
        self.keys.publish(self.rsa, self.ec, self.ed)
        self.install([request_authentication(self.keys.url)])
        # The keys are fetched by the proxy after the snapshot loads.
        status, body, _ = self.eventually_status(self.rsa.token(), 200)
        self.assertEqual(status, 200, body + self.server.stderr())

    def test_a_gateway_routes_by_the_claims_of_a_validated_token(self):
        # Istio's claim-based routing on a gateway listener: members of "admins" go to
        # another app; a forged or missing token routes on nothing it claims.
        admin_app = Upstream("admin-app")
        try:
            type(self).version += 1
            version = f"jwt-{self.version}"
            snapshot = server_snapshot(self.app.port, [], version)
            snapshot["requestAuthentications"] = [request_authentication(self.keys.url)]
            port = free_port()  # a listener added by a reload is not in the `listening` line
            snapshot["listeners"].append({"name": "gateway", "address": "127.0.0.1",
                                          "port": port, "direction": "GATEWAY",
                                          "routeTable": "claims"})
            snapshot["clusters"].append({"name": "admin", "service": "admin", "port": 80,
                                         "endpoints": [{"address": "127.0.0.1",
                                                        "port": admin_app.port}]})
            snapshot["routeTables"] = [{"name": "claims", "virtualHosts": [
                {"name": "site", "domains": ["*"], "routes": [
                    {"name": "admins", "match": [{"headers": {"@request.auth.claims.groups": {
                        "kind": "exact", "value": "admins"}}}], "route": [{"cluster": "admin"}]},
                    {"name": "everyone", "route": [{"cluster": "inbound|9080||"}]}]}]}]
            self.server.write(snapshot)
            self.server.proc.send_signal(signal.SIGHUP)

            def served_by(token, headers=None):
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
                h = {"Host": "site.example.com", **(headers or {})}
                if token is not None:
                    h["Authorization"] = "Bearer " + token
                conn.request("GET", "/", headers=h)
                resp = conn.getresponse()
                body = resp.read().decode()
                conn.close()
                return resp.status, json.loads(body)["server"] if resp.status == 200 else body

            deadline = time.time() + 10
            while time.time() < deadline:
                try:
                    if served_by(self.rsa.token()) == (200, "admin-app"):
                        break
                except (OSError, KeyError, http.client.HTTPException):
                    pass
                time.sleep(0.05)
            self.assertEqual(served_by(self.rsa.token()), (200, "admin-app"), self.server.stderr())
            self.assertEqual(served_by(self.ec.token(groups=["dev"])), (200, "reviews-app"))
            self.assertEqual(served_by(None), (200, "reviews-app"))
            # A token that does not verify is refused before any route is picked.
            forged = self.rsa.token()[:-4] + "AAAA"
            self.assertEqual(served_by(forged)[0], 401)
        finally:
            admin_app.stop()

    def test_valid_tokens_pass_and_the_app_never_sees_them(self):
        for key in (self.rsa, self.ec, self.ed):
            with self.subTest(key.alg):
                status, body, _ = self.request(key.token())
                self.assertEqual(status, 200, body)
                seen = {k.lower(): v for k, v in json.loads(body)["headers"].items()}
                self.assertEqual(json.loads(body)["server"], "reviews-app")
                self.assertNotIn("authorization", seen)
        # Also as Istio's default query parameter.
        status, body, _ = self.request(path="/reviews/1?access_token=" + self.ec.token())
        self.assertEqual(status, 200, body)

    def test_invalid_tokens_are_refused_with_401_and_counted(self):
        now = int(time.time())
        cases = [
            ("expired", self.ec.token(exp=now - 120), "Jwt is expired", "expired"),
            ("not yet valid", self.ec.token(nbf=now + 600), "Jwt not yet valid", "not_yet_valid"),
            ("wrong issuer", self.ec.token(iss="https://evil.example.com"),
             "Jwt issuer is not configured", "unknown_issuer"),
            ("wrong audience", self.ec.token(aud="ratings.bar"),
             "Audiences in Jwt are not allowed", "audience"),
            ("bad signature", self.ec.token()[:-8] + "AAAAAAAA", "Jwt verification fails",
             "bad_signature"),
            ("unknown kid", self.rotated.token(),
             "Jwks doesn't have key to match kid or alg from Jwt", "unknown_kid"),
            ("malformed", "not-a-jwt",
             "Jwt is not in the form of Header.Payload.Signature with two dots and 3 sections",
             "malformed"),
        ]
        for name, token, message, reason in cases:
            with self.subTest(name):
                before = self.jwt_count(reason)
                status, body, resp = self.request(token)
                self.assertEqual(status, 401, body)
                self.assertEqual(body, message)
                self.assertIn('error="invalid_token"', resp.getheader("www-authenticate"))
                self.assertEqual(self.jwt_count(reason), before + 1)

    def test_authorization_policy_sees_principal_and_claims(self):
        # No token: authentication lets it through, the policy wants a request principal.
        status, body, _ = self.request()
        self.assertEqual((status, body), (403, "RBAC: access denied"))
        # A valid token without the admins group: authenticated, then denied by the claim.
        status, body, _ = self.request(self.rsa.token(groups=["dev"]))
        self.assertEqual((status, body), (403, "RBAC: access denied"))
        # Policies on the exact principal.
        self.install([request_authentication(self.keys.url)], [policy("bob-only", {
            "action": "ALLOW",
            "rules": [{"from": [{"source": {"requestPrincipals": [ISSUER + "/bob"]}}]}]})])
        self.assertEqual(self.eventually_status(self.rsa.token(sub="bob"), 200)[0], 200)
        self.assertEqual(self.request(self.rsa.token(sub="alice"))[0], 403)

    def test_jwks_rotation_on_the_issuer(self):
        old = self.ec.token()
        new = self.rotated.token()
        self.assertEqual(self.request(new)[1], "Jwks doesn't have key to match kid or alg from Jwt")
        fetches = self.keys.fetches
        self.keys.publish(self.rotated)
        status, body, _ = self.eventually_status(new, 200)
        self.assertEqual(status, 200, body)
        self.assertGreater(self.keys.fetches, fetches)
        status, body, _ = self.request(old)
        self.assertEqual((status, body), (401, "Jwks doesn't have key to match kid or alg from Jwt"))

    def test_forward_original_token_and_output_payload(self):
        self.install([request_authentication(self.keys.url, forwardOriginalToken=True,
                                             outputPayloadToHeader="x-jwt-payload")])
        token = self.ed.token()
        status, body, _ = self.eventually_status(token, 200)
        self.assertEqual(status, 200, body)
        seen = {k.lower(): v for k, v in json.loads(body)["headers"].items()}
        self.assertEqual(seen["authorization"], "Bearer " + token)
        payload = seen["x-jwt-payload"]
        claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
        self.assertEqual(claims["sub"], "alice")

    def test_jwks_over_https_checks_the_server(self):
        self.install([request_authentication(self.tls_keys.url)])
        status, body, _ = self.eventually_status(self.ed.token(), 200)
        self.assertEqual(status, 200, body + self.server.stderr())
        # The same server under a name its certificate does not carry: no keys, ever.
        by_ip = self.tls_keys.url.replace("localhost", "127.0.0.1")
        self.install([request_authentication(by_ip)])
        deadline = time.time() + 10
        while "IP address mismatch" not in self.server.stderr() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn("TLS handshake with 127.0.0.1: IP address mismatch", self.server.stderr())
        self.assertEqual(self.request(self.ed.token())[1], "Jwks remote fetch is failed")

    def test_unreachable_jwks_refuses_tokens_and_a_bad_rule_keeps_the_last_config(self):
        self.install([request_authentication("http://127.0.0.1:1/keys")])
        status, body, _ = self.request(self.ec.token())
        self.assertEqual((status, body), (401, "Jwks remote fetch is failed"))
        # A rule without an issuer cannot be enforced: the snapshot is refused, and the
        # rules in force stay.
        snapshot = server_snapshot(self.app.port, [REQUIRE_ADMIN], "no-issuer")
        snapshot["requestAuthentications"] = [{"name": "broken", "namespace": "bar",
                                               "spec": {"jwtRules": [{"jwksUri": self.keys.url}]}}]
        self.server.write(snapshot)
        self.server.proc.send_signal(signal.SIGHUP)
        deadline = time.time() + 10
        reason = "requestAuthentications[0] (bar/broken): jwtRules[0]: issuer is required"
        while reason not in self.server.stderr() and time.time() < deadline:
            time.sleep(0.05)
        self.assertIn(reason, self.server.stderr())
        self.assertNotIn('"no-issuer"', self.server.admin("/config_dump"))
        self.assertEqual(self.request(self.ec.token())[1], "Jwks remote fetch is failed")


if __name__ == "__main__":
    main()
