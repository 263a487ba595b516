#!/usr/bin/env python3
"""mesh proxy against haproxy and nginx, in the same run, on the same cores.

Layout on a 2-core machine: the proxies under test run on CPU 0 (one worker thread each);
the origin (an nginx answering a small 200) and the load generator (wrk, one thread) share
CPU 1. Each peer is measured in turn with the same load:
  one hop:  wrk -> proxy -> origin                             (plain HTTP/1.1, keep-alive)
  two hops: wrk -> client proxy =mTLS=> server proxy -> origin (TLS 1.3 with client certs from
            the bench's own `mesh ca`; mesh also checks the server's SPIFFE identity, and
            multiplexes the mTLS hop; haproxy runs twice, with HTTP/1.1 on that hop and, as
            "haproxy-h2", with HTTP/2)
and reported as requests/s, p50 and p99 latency and the proxies' CPU time per request (user +
system, all their processes; steadier than requests/s when other work shares the cores),
with the ratios mesh/haproxy and mesh/nginx.

Then the sidecar's cost at a fixed rate: 1000 requests/s (h2load --rps) for --cost-seconds
through one proxy whose config holds --services services (mesh only; haproxy and nginx with
their one route, for reference): resident memory after the run (VmRSS) and CPU seconds per
second (utime + stime from /proc).

    bench/proxy/run.py [--mesh build/cmd/mesh] [--seconds 10] [--connections 64]

Needs wrk, h2load (nghttp2-client), haproxy, nginx: `scripts/install-deps --bench`.
Not part of CI: the figures depend on the machine."""
import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from peers import Haproxy, HaproxyH2, Mesh, Nginx, free_port, pinned  # noqa: E402

TOOLS = ("wrk", "h2load", "haproxy", "nginx", "taskset")


class Ca:
    """The bench's certificate authority: `mesh ca`, plus files for haproxy and nginx."""

    def __init__(self, binary, workdir):
        self.binary = binary
        self.data = os.path.join(workdir, "ca")
        self.proc = subprocess.Popen(
            [binary, "ca", "--data-dir", self.data, "--listen", "127.0.0.1:0",
             "--monitoring", "127.0.0.1:0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
            text=True)
        line = self.proc.stdout.readline()
        if not line.startswith("listening "):
            raise RuntimeError("mesh ca did not start: " + line)
        self.address = line.split()[1]
        self.root = os.path.join(self.data, "root-cert.pem")

    def token(self, sa):
        out = subprocess.run([self.binary, "ca", "--data-dir", self.data, "token", "create",
                              "--namespace", "bench", "--service-account", sa, "--ttl", "1h"],
                             check=True, capture_output=True, text=True)
        return out.stdout.strip()

    def files(self, sa, out_dir):
        """key.pem, cert-chain.pem and root-cert.pem for `sa`, as Istio lays them out."""
        os.makedirs(out_dir, exist_ok=True)
        subprocess.run([self.binary, "ca", "csr", "--ca", self.address, "--ca-root", self.root,
                        "--token", self.token(sa), "--out", out_dir, "--ttl", "2h"],
                       check=True, capture_output=True)
        return out_dir

    def stop(self):
        self.proc.terminate()
        self.proc.wait()


def duration_ms(text):
    value, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()
    return float(value) * {"us": 0.001, "ms": 1, "s": 1000, "m": 60000}[unit]


def wrk(port, seconds, connections, load_cpu):
    out = subprocess.run(pinned(load_cpu, ["wrk", "-t1", f"-c{connections}", f"-d{seconds}s",
                                           "--latency", f"http://127.0.0.1:{port}/"]),
                         check=True, capture_output=True, text=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    p50 = duration_ms(re.search(r"^\s+50%\s+(\S+)", out, re.M).group(1))
    p99 = duration_ms(re.search(r"^\s+99%\s+(\S+)", out, re.M).group(1))
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    failed = int(errors.group(1)) if errors else 0
    if socket_errors:
        failed += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return {"rps": rps, "p50": p50, "p99": p99, "failed": failed}


def cpu_seconds(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        kb = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return kb / 1024


def fixed_rate_cost(peer, port, seconds, load_cpu, rate=1000, clients=10):
    """CPU seconds per second and RSS of the peer's processes under `rate` requests/s."""
    pids = peer.pids()
    before = sum(cpu_seconds(p) for p in pids)
    start = time.time()
    out = subprocess.run(pinned(load_cpu, ["h2load", "--h1", f"-c{clients}",
                                           f"--rps={rate // clients}", f"-D{seconds}",
                                           f"http://127.0.0.1:{port}/"]),
                         check=True, capture_output=True, text=True).stdout
    elapsed = time.time() - start
    done = re.search(r"requests: \d+ total, \d+ started, (\d+) done, (\d+) succeeded", out)
    used = sum(cpu_seconds(p) for p in pids) - before
    return {"cpu_per_s": used / elapsed, "rss": sum(rss_mb(p) for p in pids),
            "rps": int(done.group(2)) / elapsed if done else 0.0}


def ratio(a, b):
    return a / b if b else float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mesh", default=os.environ.get("MESH_BIN", "build/cmd/mesh"))
    parser.add_argument("--seconds", type=int, default=10)
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--connections", type=int, default=64)
    parser.add_argument("--services", type=int, default=1000)
    parser.add_argument("--cost-seconds", type=int, default=10)
    parser.add_argument("--proxy-cpu", type=int, default=0)
    parser.add_argument("--load-cpu", type=int, default=1)
    args = parser.parse_args()
    missing = [t for t in TOOLS if not shutil.which(t)]
    if missing:
        sys.exit(f"missing {', '.join(missing)}: run scripts/install-deps --bench")
    binary = os.path.abspath(args.mesh)

    workdir = tempfile.mkdtemp(prefix="mesh-bench-proxy-")
    ca = Ca(binary, workdir)
    origin = Nginx(os.path.join(workdir, "origin"), args.load_cpu)
    try:
        origin_port = free_port()
        origin.run(origin_port, f"""
  server {{
    listen 127.0.0.1:{origin_port} reuseport;
    location / {{ return 200 "hello from the origin\\n"; }}
  }}""")
        certs = {role: ca.files(role, os.path.join(workdir, "certs", role))
                 for role in ("client", "server")}
        peers = [lambda: Mesh(workdir, args.proxy_cpu, binary, ca),
                 lambda: Haproxy(workdir, args.proxy_cpu),
                 lambda: Nginx(workdir, args.proxy_cpu)]
        # On two hops, haproxy also runs with HTTP/2 between its proxies: mesh multiplexes
        # that hop (proxy/mux), and this is haproxy's way of doing the same.
        two_hop_peers = peers + [lambda: HaproxyH2(workdir, args.proxy_cpu)]
        results = {}
        for scenario in ("one hop", "two hops mTLS"):
            for make in (peers if scenario == "one hop" else two_hop_peers):
                peer = make()
                try:
                    if scenario == "one hop":
                        port = peer.start_one_hop(origin_port)
                    else:
                        port = peer.start_two_hops(origin_port, certs)
                    wrk(port, args.warmup, args.connections, args.load_cpu)
                    # CPU time per request is steadier than requests/s on a shared machine:
                    # other work on the proxy core lowers the rate, not the cost.
                    cpu = sum(cpu_seconds(p) for p in peer.pids())
                    r = wrk(port, args.seconds, args.connections, args.load_cpu)
                    used = sum(cpu_seconds(p) for p in peer.pids()) - cpu
                    r["us_per_req"] = used / (r["rps"] * args.seconds) * 1e6 if r["rps"] else 0.0
                    results[(scenario, peer.name)] = r
                finally:
                    peer.stop()
        costs = {}
        for make in peers:
            peer = make()
            try:
                if isinstance(peer, Mesh):
                    port = peer.start_one_hop(origin_port, extra_services=args.services)
                else:
                    port = peer.start_one_hop(origin_port)
                wrk(port, 1, 8, args.load_cpu)
                costs[peer.name] = fixed_rate_cost(peer, port, args.cost_seconds, args.load_cpu)
            finally:
                peer.stop()
    finally:
        origin.stop()
        ca.stop()
        shutil.rmtree(workdir, ignore_errors=True)

    print(f"proxy on CPU {args.proxy_cpu}, origin and wrk on CPU {args.load_cpu}; "
          f"wrk -t1 -c{args.connections} -d{args.seconds}s")
    print(f"{'scenario':<15}{'proxy':<11}{'requests/s':>12}{'p50 ms':>9}{'p99 ms':>9}"
          f"{'failed':>8}{'CPU us/req':>12}")
    for (scenario, name), r in results.items():
        print(f"{scenario:<15}{name:<11}{r['rps']:>12.0f}{r['p50']:>9.2f}{r['p99']:>9.2f}"
              f"{r['failed']:>8}{r['us_per_req']:>12.1f}")
    for scenario in ("one hop", "two hops mTLS"):
        m = results[(scenario, "mesh")]
        for peer in ("haproxy", "haproxy-h2", "nginx"):
            if (scenario, peer) not in results:
                continue
            o = results[(scenario, peer)]
            print(f"{scenario}: mesh/{peer} throughput {ratio(m['rps'], o['rps']):.2f}x, "
                  f"p99 {ratio(m['p99'], o['p99']):.2f}x, "
                  f"CPU per request {ratio(m['us_per_req'], o['us_per_req']):.2f}x")
    print(f"at 1000 requests/s for {args.cost_seconds}s (mesh with {args.services} services "
          "configured):")
    for name, c in costs.items():
        print(f"  {name:<8} RSS {c['rss']:6.1f} MB   CPU {c['cpu_per_s']:.4f} s/s   "
              f"served {c['rps']:.0f}/s")


if __name__ == "__main__":
    main()
