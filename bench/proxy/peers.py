"""The three proxies under comparison, each started the same way: one worker thread pinned to
the proxy core, keep-alive to the upstream, and (for the two-hop case) mutual TLS between a
client-side and a server-side instance using the same certificates.

  mesh     `mesh proxy --config` with certificates from a running `mesh ca`
  haproxy  `haproxy -f` (nbthread 1)
  nginx    `nginx -c` (worker_processes 1)

Every class has start_one_hop(upstream_port) and start_two_hops(upstream_port, certs); both
return the port the load generator talks to. stop() ends every process it started."""
import json
import os
import socket
import subprocess
import time
import urllib.request


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_port(port, proc, timeout=10):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{proc.args[0]} exited with {proc.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f"nothing listens on {port}")


def pinned(cpu, argv):
    return ["taskset", "-c", str(cpu), *argv]


class Peer:
    name = ""

    def __init__(self, workdir, cpu):
        self.dir = os.path.join(workdir, self.name)
        os.makedirs(self.dir, exist_ok=True)
        self.cpu = cpu
        self.procs = []

    def spawn(self, argv, **kwargs):
        log = open(os.path.join(self.dir, f"proc{len(self.procs)}.log"), "w")
        proc = subprocess.Popen(pinned(self.cpu, argv), stderr=log,
                                stdout=kwargs.pop("stdout", log), **kwargs)
        self.procs.append(proc)
        return proc

    def pids(self):
        return [p.pid for p in self.procs]

    def stop(self):
        for p in self.procs:
            if p.poll() is None:
                p.terminate()
        for p in self.procs:
            try:
                p.wait(timeout=5)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.procs = []


class Nginx(Peer):
    name = "nginx"

    def conf(self, port, body):
        return f"""
daemon off;
master_process off;
worker_processes 1;
pid {self.dir}/nginx-{port}.pid;
error_log {self.dir}/error-{port}.log warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
  client_body_temp_path {self.dir}/body;
  proxy_temp_path {self.dir}/proxy;
  fastcgi_temp_path {self.dir}/fastcgi;
  uwsgi_temp_path {self.dir}/uwsgi;
  scgi_temp_path {self.dir}/scgi;
  keepalive_requests 1000000;
{body}
}}
"""

    def run(self, port, body):
        path = os.path.join(self.dir, f"nginx-{port}.conf")
        with open(path, "w") as f:
            f.write(self.conf(port, body))
        proc = self.spawn(["nginx", "-c", path, "-e", os.path.join(self.dir, f"error-{port}.log")])
        wait_port(port, proc)

    @staticmethod
    def upstream(name, address, tls=False):
        return f"""
  upstream {name} {{ server {address}; keepalive 256; }}"""

    def start_one_hop(self, upstream_port):
        port = free_port()
        self.run(port, self.upstream("origin", f"127.0.0.1:{upstream_port}") + f"""
  server {{
    listen 127.0.0.1:{port} reuseport;
    location / {{ proxy_pass http://origin; proxy_http_version 1.1;
                 proxy_set_header Connection ""; }}
  }}""")
        return port

    def start_two_hops(self, upstream_port, certs):
        server_port, client_port = free_port(), free_port()
        server, client = certs["server"], certs["client"]
        self.run(server_port, self.upstream("origin", f"127.0.0.1:{upstream_port}") + f"""
  server {{
    listen 127.0.0.1:{server_port} ssl reuseport;
    ssl_certificate {server}/cert-chain.pem;
    ssl_certificate_key {server}/key.pem;
    ssl_client_certificate {server}/root-cert.pem;
    ssl_verify_client on;
    ssl_protocols TLSv1.3;
    location / {{ proxy_pass http://origin; proxy_http_version 1.1;
                 proxy_set_header Connection ""; }}
  }}""")
        # nginx cannot check a SPIFFE URI SAN, so it verifies nothing of the server's identity.
        self.run(client_port, self.upstream("sidecar", f"127.0.0.1:{server_port}") + f"""
  server {{
    listen 127.0.0.1:{client_port} reuseport;
    location / {{ proxy_pass https://sidecar; proxy_http_version 1.1;
                 proxy_set_header Connection "";
                 proxy_ssl_certificate {client}/cert-chain.pem;
                 proxy_ssl_certificate_key {client}/key.pem;
                 proxy_ssl_protocols TLSv1.3;
                 proxy_ssl_session_reuse on; }}
  }}""")
        return client_port


class Haproxy(Peer):
    name = "haproxy"

    def run(self, port, frontend_bind, backend_server):
        path = os.path.join(self.dir, f"haproxy-{port}.cfg")
        with open(path, "w") as f:
            f.write(f"""global
  nbthread 1
  maxconn 4096
  tune.ssl.default-dh-param 2048
defaults
  mode http
  timeout connect 10s
  timeout client 60s
  timeout server 60s
  http-reuse always
frontend in
  bind {frontend_bind}
  default_backend out
backend out
  server s1 {backend_server}
""")
        proc = self.spawn(["haproxy", "-db", "-f", path])
        wait_port(port, proc)

    @staticmethod
    def pem(identity):
        combined = os.path.join(identity, "haproxy.pem")
        with open(combined, "w") as out:
            for part in ("cert-chain.pem", "key.pem"):
                with open(os.path.join(identity, part)) as f:
                    out.write(f.read())
        os.chmod(combined, 0o600)
        return combined

    def start_one_hop(self, upstream_port):
        port = free_port()
        self.run(port, f"127.0.0.1:{port}", f"127.0.0.1:{upstream_port}")
        return port

    def start_two_hops(self, upstream_port, certs):
        server_port, client_port = free_port(), free_port()
        server, client = certs["server"], certs["client"]
        self.run(server_port,
                 f"127.0.0.1:{server_port} ssl crt {self.pem(server)} "
                 f"ca-file {server}/root-cert.pem verify required ssl-min-ver TLSv1.3",
                 f"127.0.0.1:{upstream_port}")
        self.run(client_port, f"127.0.0.1:{client_port}",
                 f"127.0.0.1:{server_port} ssl crt {self.pem(client)} "
                 f"ca-file {client}/root-cert.pem verify required ssl-min-ver TLSv1.3")
        return client_port


class HaproxyH2(Haproxy):
    """haproxy with HTTP/2 between its two proxies (ALPN h2 on the TLS hop): many requests
    multiplexed on one connection, its best setup for the two-hop path. Two hops only."""
    name = "haproxy-h2"

    def start_two_hops(self, upstream_port, certs):
        server_port, client_port = free_port(), free_port()
        server, client = certs["server"], certs["client"]
        self.run(server_port,
                 f"127.0.0.1:{server_port} ssl crt {self.pem(server)} "
                 f"ca-file {server}/root-cert.pem verify required ssl-min-ver TLSv1.3 "
                 "alpn h2,http/1.1",
                 f"127.0.0.1:{upstream_port}")
        self.run(client_port, f"127.0.0.1:{client_port}",
                 f"127.0.0.1:{server_port} ssl crt {self.pem(client)} "
                 f"ca-file {client}/root-cert.pem verify required ssl-min-ver TLSv1.3 alpn h2")
        return client_port


class Mesh(Peer):
    """mesh proxies from static snapshot files. For two hops both get their certificates from
    the bench's `mesh ca`, and the client checks the server's SPIFFE identity."""
    name = "mesh"

    def __init__(self, workdir, cpu, binary, ca=None):
        super().__init__(workdir, cpu)
        self.binary = binary
        self.ca = ca

    def run(self, snapshot, *extra):
        path = os.path.join(self.dir, f"snapshot{len(self.procs)}.json")
        with open(path, "w") as f:
            json.dump(snapshot, f)
        proc = self.spawn([self.binary, "proxy", "--config", path, "--concurrency", "1",
                           "--admin", "127.0.0.1:0", "--readiness", "127.0.0.1:0", "--log-level", "warn",
                           *extra], stdout=subprocess.PIPE, text=True)
        line = proc.stdout.readline()
        if not line.startswith("listening"):
            raise RuntimeError("mesh proxy did not start: " + line)
        addresses = dict(item.split("=", 1) for item in line.split()[1:])
        return {k: int(v.rsplit(":", 1)[1]) for k, v in addresses.items()}

    @staticmethod
    def outbound(clusters, routes):
        return {"version": "bench",
                "listeners": [{"name": "outbound", "address": "127.0.0.1", "port": 0,
                               "routeTable": "rt"}],
                "routeTables": [{"name": "rt", "virtualHosts": routes}],
                "clusters": clusters}

    @staticmethod
    def origin_cluster(upstream_port, name="origin"):
        return {"name": name, "service": name, "port": upstream_port,
                "endpoints": [{"address": "127.0.0.1", "port": upstream_port}]}

    def start_one_hop(self, upstream_port, extra_services=0):
        routes = [{"name": f"svc{i}", "domains": [f"svc{i}.bench.svc.cluster.local"],
                   "routes": [{"route": [{"cluster": f"svc{i}"}]}]}
                  for i in range(extra_services)]
        clusters = [self.origin_cluster(upstream_port, f"svc{i}") for i in range(extra_services)]
        routes.append({"name": "origin", "domains": ["*"],
                       "routes": [{"route": [{"cluster": "origin"}]}]})
        clusters.append(self.origin_cluster(upstream_port))
        return self.run(self.outbound(clusters, routes))["outbound"]

    def identity_flags(self, sa):
        token = os.path.join(self.dir, f"token-{sa}")
        with open(token, "w") as f:
            f.write(self.ca.token(sa) + "\n")
        return ["--ca-address", self.ca.address, "--ca-root", self.ca.root,
                "--token-file", token, "--namespace", "bench", "--service-account", sa]

    def start_two_hops(self, upstream_port, certs):
        server_id = "spiffe://cluster.local/ns/bench/sa/server"
        server = self.run({
            "version": "bench",
            "listeners": [{"name": "inbound", "address": "127.0.0.1", "port": 0,
                           "direction": "INBOUND", "defaultMtls": "STRICT",
                           "inboundPorts": [{"port": 8080, "protocol": "http",
                                             "cluster": "inbound|8080||", "mtls": "STRICT"}]}],
            "clusters": [{"name": "inbound|8080||", "service": "origin", "port": 8080,
                          "endpoints": [{"address": "127.0.0.1", "port": upstream_port}]}],
        }, *self.identity_flags("server"))
        wait_ready(server["readiness"])
        inbound = server["inbound"]
        cluster = {"name": "outbound|8080||origin", "service": "origin", "port": 8080,
                   "tls": {"mode": "ISTIO_MUTUAL", "identities": [server_id]},
                   "endpoints": [{"address": "127.0.0.1", "port": 8080,
                                  "sidecarPort": inbound, "identity": server_id}]}
        routes = [{"name": "origin", "domains": ["*"],
                   "routes": [{"route": [{"cluster": cluster["name"]}]}]}]
        ports = self.run(self.outbound([cluster], routes), *self.identity_flags("client"))
        wait_ready(ports["readiness"])
        return ports["outbound"]


def wait_ready(readiness_port, timeout=20):
    """/healthz/ready answers 200 once the proxy has its certificate and its config."""
    deadline = time.time() + timeout
    while time.time() < deadline:
        try:
            url = f"http://127.0.0.1:{readiness_port}/healthz/ready"
            with urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError("mesh proxy never became ready")
