"""TCP between two `mesh proxy` sidecars over mutual TLS, on loopback: a client sidecar's tcp
listener reaches the server sidecar's inbound listener with the workload certificate, and the
server sidecar hands the decrypted stream to an app where the server speaks first. The
expected identity is checked, STRICT refuses plain text, and an AuthorizationPolicy can deny
the TCP port."""
import json
import socket
import tempfile
import threading
import unittest

from ca_test import Ca
from meshtest import main
from proxy_mtls_test import SERVER_ID, TD, Sidecar

SERVICE = "db.default.svc.cluster.local"
CLUSTER = "outbound|9090||" + SERVICE


class Greeter:
    """A server that speaks first: it names the address the connection came from, then
    answers one line in upper case."""

    def __init__(self):
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self):
        while True:
            try:
                conn, peer = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self._talk, args=(conn, peer), daemon=True).start()

    @staticmethod
    def _talk(conn, peer):
        with conn:
            try:
                conn.sendall(("HELLO %s\n" % peer[0]).encode())
                conn.sendall(conn.makefile("rb").readline().upper())
            except OSError:
                pass

    def stop(self):
        self.sock.close()


def server_snapshot(app_port, policies=()):
    return {
        "version": "s1",
        "listeners": [{"name": "inbound", "address": "127.0.0.1", "port": 0,
                       "direction": "INBOUND", "defaultMtls": "STRICT",
                       "inboundPorts": [{"port": 9090, "protocol": "tcp",
                                         "cluster": "inbound|9090||", "mtls": "STRICT"}]}],
        "clusters": [{"name": "inbound|9090||", "service": SERVICE, "port": 9090, "protocol": "tcp",
                      "endpoints": [{"address": "127.0.0.1", "port": app_port}]}],
        "authorizationPolicies": list(policies),
    }


def client_snapshot(sidecar_port):
    """`db` expects the server's identity; `impostor` expects another one from the same
    sidecar, so its handshake must fail."""
    def cluster(name, identity):
        return {"name": name, "service": SERVICE, "port": 9090, "protocol": "tcp",
                "tls": {"mode": "ISTIO_MUTUAL", "identities": [identity]},
                "endpoints": [{"address": "127.0.0.1", "port": 9090, "sidecarPort": sidecar_port,
                               "identity": SERVER_ID}]}
    return {
        "version": "c1",
        "listeners": [
            {"name": "db", "address": "127.0.0.1", "port": 0, "protocol": "tcp", "cluster": CLUSTER},
            {"name": "impostor", "address": "127.0.0.1", "port": 0, "protocol": "tcp",
             "cluster": "outbound|9090||impostor"}],
        "clusters": [cluster(CLUSTER, SERVER_ID),
                     cluster("outbound|9090||impostor", TD + "/ns/default/sa/ratings")],
    }


def talk(port, send_first=False):
    """(greeting, answer) from a server-first exchange; ("", "") when the connection closed."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        f = s.makefile("rb")
        if send_first:
            s.sendall(b"ping\n")
        try:
            greeting = f.readline().decode().strip()
            if not send_first:
                s.sendall(b"ping\n")
            answer = f.readline().decode().strip()
        except (ConnectionResetError, BrokenPipeError):
            return "", ""
        return greeting, answer


DENY_PRODUCTPAGE = {"name": "no-db-for-productpage", "namespace": "default", "spec": {
    "action": "DENY",
    "rules": [{"from": [{"source": {"principals": ["cluster.local/ns/default/sa/productpage"]}}],
               "to": [{"operation": {"ports": ["9090"]}}]}]}}


class TcpBetweenSidecars(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp()
        cls.ca = Ca(cls.dir)
        cls.app = Greeter()
        cls.sidecars = []
        cls.server = cls.sidecar("reviews", server_snapshot(cls.app.port))
        cls.client = cls.sidecar("productpage", client_snapshot(cls.server.port("inbound")))

    @classmethod
    def sidecar(cls, sa, snapshot):
        s = Sidecar(cls.ca, sa, snapshot)
        cls.sidecars.append(s)
        s.wait_ready()
        return s

    @classmethod
    def tearDownClass(cls):
        for s in cls.sidecars:
            s.stop()
        cls.app.stop()
        cls.ca.stop()

    def test_the_server_speaks_first_through_two_sidecars_and_mtls(self):
        greeting, answer = talk(self.client.port("db"))
        self.assertEqual((greeting, answer), ("HELLO 127.0.0.1", "PING"))

    def test_a_server_with_an_unexpected_identity_gets_nothing(self):
        self.assertEqual(talk(self.client.port("impostor")), ("", ""))

    def test_strict_refuses_plain_text_on_the_tcp_port(self):
        self.assertEqual(talk(self.server.port("inbound"), send_first=True), ("", ""))

    def test_authorization_policy_denies_the_tcp_port(self):
        guarded = self.sidecar("reviews", server_snapshot(self.app.port, [DENY_PRODUCTPAGE]))
        client = self.sidecar("productpage", client_snapshot(guarded.port("inbound")))
        self.assertEqual(talk(client.port("db")), ("", ""))
        self.assertEqual(guarded.counter("mesh_proxy_rbac_denied_total", 'protocol="tcp"'), 1)
        # Another identity is not denied.
        other = self.sidecar("ratings", client_snapshot(guarded.port("inbound")))
        self.assertEqual(talk(other.port("db")), ("HELLO 127.0.0.1", "PING"))


if __name__ == "__main__":
    main()
