"""`mesh ca` as a real process, checked with tools we did not write: openssl issues CSRs and
verifies what comes back, Python's ssl module speaks the protocol, Prometheus' own parser
reads /metrics."""
import json
import os
import re
import socket
import ssl
import struct
import subprocess
import tempfile
import time
import unittest
import urllib.request

from meshtest import MESH, main, mesh


def openssl(*args, **kwargs):
    return subprocess.run(["openssl", *args], capture_output=True, text=True, timeout=30, **kwargs)


class Ca:
    """A running `mesh ca` on loopback ports chosen by the OS."""

    def __init__(self, workdir, trust_domain="cluster.local", *extra, listen="127.0.0.1:0"):
        self.data = os.path.join(workdir, "ca-" + trust_domain)
        self.trust_domain = trust_domain
        self.proc = subprocess.Popen(
            [MESH, "ca", "--data-dir", self.data, "--trust-domain", trust_domain,
             "--listen", listen, "--monitoring", "127.0.0.1:0",
             "--reload-interval-ms", "100", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.address = self._read_line("listening")
        self.monitoring = self._read_line("monitoring")
        self.host, port = self.address.rsplit(":", 1)
        self.port = int(port)
        self.root = os.path.join(self.data, "root-cert.pem")

    def _read_line(self, word):
        line = self.proc.stdout.readline()
        if not line.startswith(word + " "):
            self.proc.kill()
            raise AssertionError(f"mesh ca said {line!r}; stderr: {self.proc.stderr.read()}")
        return line.split()[1]

    def token(self, ns="default", sa="web", ttl="10m"):
        out = mesh("ca", "--data-dir", self.data, "--trust-domain", self.trust_domain, "token",
                   "create", "--namespace", ns, "--service-account", sa, "--ttl", ttl)
        assert out.returncode == 0, out.stderr
        return out.stdout.strip()

    def metrics(self):
        with urllib.request.urlopen(f"http://{self.monitoring}/metrics", timeout=5) as r:
            return r.read().decode()

    def refusals(self, reason):
        m = re.search(rf'^mesh_ca_refusals_total{{reason="{reason}"}} (\d+)$', self.metrics(), re.M)
        return int(m.group(1))

    def alive(self):
        return self.proc.poll() is None

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()


def make_csr(workdir, uri, name="w"):
    """An ECDSA P-256 key and a CSR asking for `uri`, made by openssl."""
    key = os.path.join(workdir, name + ".key")
    csr = os.path.join(workdir, name + ".csr")
    out = openssl("req", "-new", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                  "-keyout", key, "-out", csr, "-subj", "/O=test",
                  "-addext", f"subjectAltName=URI:{uri}")
    assert out.returncode == 0, out.stderr
    with open(csr) as f:
        return key, f.read()


class Client:
    """The CA protocol from Python's ssl module: 4-byte length + JSON."""

    def __init__(self, ca, cert=None, key=None):
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.check_hostname = False  # the CA is identified by its SPIFFE id, not a DNS name
        ctx.load_verify_locations(ca.root)
        if cert:
            ctx.load_cert_chain(cert, key)
        raw = socket.create_connection((ca.host, ca.port), timeout=10)
        self.sock = ctx.wrap_socket(raw)

    def send_raw(self, data):
        self.sock.sendall(data)

    def send(self, message):
        body = json.dumps(message).encode()
        self.send_raw(struct.pack(">I", len(body)) + body)

    def receive(self):
        header = self._exactly(4)
        if header is None:
            return None
        return json.loads(self._exactly(struct.unpack(">I", header)[0]))

    def _exactly(self, n):
        data = b""
        while len(data) < n:
            try:
                chunk = self.sock.recv(n - len(data))
            except (ConnectionResetError, ssl.SSLError):
                return None
            if not chunk:
                return None
            data += chunk
        return data

    def closed(self):
        return self._exactly(1) is None

    def close(self):
        self.sock.close()


class CaTest(unittest.TestCase):
    def setUp(self):
        self.tmp = tempfile.TemporaryDirectory()
        self.dir = self.tmp.name
        self.ca = Ca(self.dir)

    def tearDown(self):
        self.ca.stop()
        self.tmp.cleanup()

    def csr_command(self, token, out, *extra):
        return mesh("ca", "csr", "--ca", self.ca.address, "--ca-root", self.ca.root,
                    "--token", token, "--out", out, *extra)

    def test_csr_files_verify_with_openssl(self):
        out_dir = os.path.join(self.dir, "certs")
        res = self.csr_command(self.ca.token(ns="shop", sa="cart"), out_dir, "--ttl", "2h")
        self.assertEqual(res.returncode, 0, res.stderr)
        chain = os.path.join(out_dir, "cert-chain.pem")
        root = os.path.join(out_dir, "root-cert.pem")
        key = os.path.join(out_dir, "key.pem")
        verify = openssl("verify", "-CAfile", root, chain)
        self.assertEqual(verify.returncode, 0, verify.stdout + verify.stderr)
        self.assertIn(": OK", verify.stdout)
        text = openssl("x509", "-in", chain, "-noout", "-text").stdout
        san = re.search(r"Subject Alternative Name:.*\n\s*(.*)\n", text).group(1).strip()
        self.assertEqual(san, "URI:spiffe://cluster.local/ns/shop/sa/cart")
        self.assertRegex(text, r"Key Usage: critical\n\s*Digital Signature, Key Encipherment")
        self.assertRegex(text, r"TLS Web Server Authentication, TLS Web Client Authentication")
        dates = openssl("x509", "-in", chain, "-noout", "-startdate", "-enddate").stdout
        start, end = (ssl.cert_time_to_seconds(v) for v in re.findall(r"=(.*)", dates))
        # notBefore is dated 5 minutes back (clock skew); the 2 h count from the issue.
        self.assertEqual(end - start, 2 * 3600 + 300)
        self.assertAlmostEqual(end, time.time() + 2 * 3600, delta=60)
        self.assertEqual(os.stat(key).st_mode & 0o777, 0o600)
        self.assertEqual(os.stat(os.path.join(self.ca.data, "root-key.pem")).st_mode & 0o777, 0o600)
        pub_cert = openssl("x509", "-in", chain, "-noout", "-pubkey").stdout
        pub_key = openssl("pkey", "-in", key, "-pubout").stdout
        self.assertEqual(pub_cert, pub_key)

    def test_renewal_with_the_current_certificate(self):
        out_dir = os.path.join(self.dir, "certs")
        self.assertEqual(self.csr_command(self.ca.token(), out_dir).returncode, 0)
        client = Client(self.ca, os.path.join(out_dir, "cert-chain.pem"),
                        os.path.join(out_dir, "key.pem"))
        _, csr = make_csr(self.dir, "spiffe://cluster.local/ns/default/sa/web")
        client.send({"type": "csr", "csr": csr})  # no token
        answer = client.receive()
        self.assertEqual(answer["type"], "certificate", answer)
        self.assertEqual(answer["identity"], "spiffe://cluster.local/ns/default/sa/web")
        _, other = make_csr(self.dir, "spiffe://cluster.local/ns/default/sa/db", "db")
        client.send({"type": "csr", "csr": other})
        refused = client.receive()
        self.assertEqual(refused["type"], "error")
        self.assertEqual(refused["code"], "denied")
        client.close()

    def test_token_for_another_identity_and_expired_token(self):
        client = Client(self.ca)
        _, csr = make_csr(self.dir, "spiffe://cluster.local/ns/default/sa/db")
        client.send({"type": "csr", "csr": csr, "token": self.ca.token(sa="web")})
        answer = client.receive()
        self.assertEqual((answer["type"], answer["code"]), ("error", "denied"))
        self.assertIn("credential is for spiffe://cluster.local/ns/default/sa/web", answer["reason"])

        short = self.ca.token(sa="db", ttl="1s")
        time.sleep(1.1)
        client.send({"type": "csr", "csr": csr, "token": short})
        answer = client.receive()
        self.assertEqual((answer["type"], answer["code"]), ("error", "denied"))
        self.assertIn("expired", answer["reason"])
        client.close()
        res = self.csr_command(short, os.path.join(self.dir, "none"))
        self.assertNotEqual(res.returncode, 0)
        self.assertIn("token expired", res.stderr)
        self.assertEqual(self.ca.refusals("identity_mismatch"), 1)
        self.assertEqual(self.ca.refusals("token_expired"), 2)

    def test_every_bad_input_in_one_run(self):
        ca = self.ca
        uri = "spiffe://cluster.local/ns/default/sa/web"
        _, csr = make_csr(self.dir, uri)

        with socket.create_connection((ca.host, ca.port), timeout=10) as raw:  # not TLS at all
            raw.sendall(b"\x00garbage\xff" * 100)
            raw.settimeout(5)
            try:
                while raw.recv(4096):
                    pass
            except ConnectionResetError:
                pass

        c = Client(ca)  # garbage inside TLS
        c.send_raw(b"\x00\x00\x00\x04\xff\xfe\x00\x01")
        self.assertEqual(c.receive()["code"], "invalid")
        self.assertTrue(c.closed())
        c.close()

        c = Client(ca)  # oversized frame
        c.send_raw(struct.pack(">I", 64 * 1024 * 1024))
        self.assertEqual(c.receive()["code"], "too_large")
        self.assertTrue(c.closed())
        c.close()

        c = Client(ca)  # malformed JSON
        c.send_raw(struct.pack(">I", 10) + b'{"type":"c')
        self.assertEqual(c.receive()["code"], "invalid")
        self.assertTrue(c.closed())
        c.close()

        c = Client(ca)  # refusals that keep the connection open
        c.send({"type": "csr", "csr": "-----BEGIN CERTIFICATE REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n",
                "token": ca.token()})
        self.assertEqual(c.receive()["code"], "invalid")
        broken = csr.replace(csr.splitlines()[3], csr.splitlines()[3][::-1])  # signature no longer matches
        c.send({"type": "csr", "csr": broken, "token": ca.token()})
        self.assertEqual(c.receive()["type"], "error")
        head, payload, sig = ca.token().split(".")
        forged = head + "." + payload + "." + sig[::-1]
        c.send({"type": "csr", "csr": csr, "token": forged})
        self.assertEqual(c.receive()["code"], "denied")
        c.send({"type": "csr", "csr": csr})
        self.assertEqual(c.receive()["code"], "denied")  # no credential at all
        c.send({"type": "frobnicate"})
        self.assertEqual(c.receive()["code"], "invalid")
        c.send({"type": "csr", "csr": csr, "token": ca.token()})
        self.assertEqual(c.receive()["type"], "certificate")
        c.close()

        other = Ca(self.dir, "other.mesh")  # a client certificate of another trust domain
        try:
            out_dir = os.path.join(self.dir, "foreign")
            res = mesh("ca", "csr", "--ca", other.address, "--ca-root", other.root,
                       "--token", other.token(), "--out", out_dir)
            self.assertEqual(res.returncode, 0, res.stderr)
        finally:
            other.stop()
        c = Client(ca, os.path.join(out_dir, "cert-chain.pem"), os.path.join(out_dir, "key.pem"))
        c.send({"type": "csr", "csr": csr})
        answer = c.receive()
        self.assertEqual(answer["code"], "denied")
        self.assertIn("other.mesh", answer["reason"])
        c.close()

        self.assertTrue(ca.alive())
        res = self.csr_command(ca.token(), os.path.join(self.dir, "after"))
        self.assertEqual(res.returncode, 0, res.stderr)
        expected = {"tls_handshake": 1, "malformed_frame": 2, "frame_too_large": 1, "bad_csr": 2,
                    "token_forged": 1, "no_credential": 1, "unknown_message": 1,
                    "foreign_trust_domain": 1}
        for reason, count in expected.items():
            self.assertEqual(ca.refusals(reason), count, reason)

    def test_metrics_parse_with_prometheus_client(self):
        parser = "/usr/bin/python3"
        code = ("import sys\nfrom prometheus_client.parser import text_string_to_metric_families\n"
                "for f in text_string_to_metric_families(sys.stdin.read()):\n"
                "    for s in f.samples: print(s.name, s.labels.get('reason', '-'), s.value)\n")
        if subprocess.run([parser, "-c", "import prometheus_client"], capture_output=True).returncode:
            self.skipTest("python3-prometheus-client is not installed")
        self.assertEqual(self.csr_command(self.ca.token(), os.path.join(self.dir, "c")).returncode, 0)
        res = subprocess.run([parser, "-c", code], input=self.ca.metrics(), capture_output=True,
                             text=True, timeout=30)
        self.assertEqual(res.returncode, 0, res.stderr)
        samples = {}
        for line in res.stdout.splitlines():
            name, reason, value = line.split()
            samples[(name, reason)] = float(value)
        self.assertEqual(samples[("citadel_server_success_cert_issuance_count_total", "-")], 1)
        self.assertGreater(samples[("citadel_server_root_cert_expiry_seconds", "-")], 9 * 365 * 86400)
        self.assertEqual(samples[("mesh_ca_refusals_total", "token_expired")], 0)


if __name__ == "__main__":
    main()
