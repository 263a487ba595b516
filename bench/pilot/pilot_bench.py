#!/usr/bin/env python3
"""`mesh pilot` at scale: 1000 services x 5 endpoints, 2000 proxies over real mTLS connections.

The mesh: --services Kubernetes Services (HTTP port 8080) spread over 10 namespaces, each
with --endpoints WorkloadEntries, and one VirtualService per service. The proxies: pilot_client
processes (tests/integration/pilot_client.cpp) in load mode, each holding its share of
--proxies connections with a certificate from pilot's in-process CA; they say hello with
delta support, ACK every snapshot or delta at once and print the time of each ACK.

Measured, with the default debounce (100 ms) included as a user would see it:
  - pilot's RSS once every proxy has ACKed its first snapshot, and its peak;
  - for each of --rounds changes (one VirtualService's weights edited on disk), the time from
    the file write to each proxy's ACK: p50, p99 and the last;
  - pilot's CPU seconds (user + system, from /proc) per push round.

    bench/pilot/pilot_bench.py [--mesh build/cmd/mesh] [--client build/tests/integration/pilot_client]

Not part of CI: the figures depend on the machine.
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request


def write(path, text):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def generate(config_dir, services, endpoints):
    docs = []
    for i in range(services):
        ns = "ns%d" % (i % 10)
        name = "svc%d" % i
        docs.append("""apiVersion: v1
kind: Service
metadata: {name: %s, namespace: %s}
spec:
  selector: {app: %s}
  ports: [{port: 8080, name: http}]
""" % (name, ns, name))
        for e in range(endpoints):
            docs.append("""apiVersion: networking.istio.io/v1
kind: WorkloadEntry
metadata: {name: %s-%d, namespace: %s}
spec:
  address: 10.%d.%d.%d
  labels: {app: %s, version: v1}
  serviceAccount: %s
""" % (name, e, ns, i // 250, i % 250, e + 1, name, name))
    write(os.path.join(config_dir, "mesh.yaml"), "---\n".join(docs))
    for i in range(services):
        write_route(config_dir, i, 100)


def write_route(config_dir, i, weight):
    ns = "ns%d" % (i % 10)
    write(os.path.join(config_dir, "route-%d.yaml" % i), """apiVersion: networking.istio.io/v1
kind: VirtualService
metadata: {name: svc%d, namespace: %s}
spec:
  hosts: [svc%d]
  http:
  - timeout: %ds
    route:
    - destination: {host: svc%d}
""" % (i, ns, i, weight, i))


def proc_stat(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    ticks = os.sysconf("SC_CLK_TCK")
    return (int(fields[11]) + int(fields[12])) / ticks


def rss_mb(pid, field="VmRSS"):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0


def metric(monitor, name):
    with urllib.request.urlopen("http://%s/metrics" % monitor) as m:
        for line in m.read().decode().splitlines():
            if line.startswith(name + " "):
                return float(line.split()[1])
    return 0


def percentile(values, p):
    values = sorted(values)
    return values[min(len(values) - 1, int(round(p / 100 * (len(values) - 1))))]


class Acks:
    """Collects {"node", "t"} lines from the load clients."""

    def __init__(self):
        self.lock = threading.Lock()
        self.events = []

    def reader(self, stream):
        for line in stream:
            if not line.startswith('{"event":"'):
                continue
            try:
                e = json.loads(line)
            except ValueError:  # a line cut short by a client that died
                continue
            if "t" in e:
                with self.lock:
                    self.events.append(e)

    def since(self, t0):
        with self.lock:
            return [e for e in self.events if e["t"] >= t0]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mesh", default="build/cmd/mesh")
    ap.add_argument("--client", default="build/tests/integration/pilot_client")
    ap.add_argument("--services", type=int, default=1000)
    ap.add_argument("--endpoints", type=int, default=5)
    ap.add_argument("--proxies", type=int, default=2000)
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    work = tempfile.mkdtemp(prefix="mesh-pilot-bench-")
    config = os.path.join(work, "config")
    os.makedirs(config)
    generate(config, args.services, args.endpoints)
    log = open(os.path.join(work, "pilot.log"), "w")
    pilot = subprocess.Popen(
        [args.mesh, "pilot", "--config-dir", config, "--ca-data-dir", os.path.join(work, "ca"),
         "--ca-listen", "127.0.0.1:0", "--listen", "127.0.0.1:0", "--monitor", "127.0.0.1:0"],
        stdout=subprocess.PIPE, stderr=log, text=True)
    ports = dict(pilot.stdout.readline().split() for _ in range(3))
    monitor = ports["monitoring"]
    acks = Acks()
    clients = []
    try:
        per = args.proxies // args.processes
        started = time.time()
        for p in range(args.processes):
            token = subprocess.run(
                [args.mesh, "ca", "token", "create", "--data-dir", os.path.join(work, "ca"),
                 "--namespace", "ns%d" % p, "--service-account", "load%d" % p],
                capture_output=True, text=True, check=True).stdout.strip()
            c = subprocess.Popen(
                [args.client, "--ca", ports["ca"], "--ca-root", os.path.join(work, "ca", "trust-bundle.pem"),
                 "--token", token, "--pilot", ports["listening"], "--node", "load%d" % p,
                 "--connections", str(per), "--bench", "1", "--delta", "1"],
                stdout=subprocess.PIPE, stderr=open(os.path.join(work, "client%d.log" % p), "w"), text=True)
            threading.Thread(target=acks.reader, args=(c.stdout,), daemon=True).start()
            clients.append(c)
        total = per * args.processes
        while len({e["node"] for e in acks.since(0)}) < total:
            dead = [c.args[-7] for c in clients if c.poll() is not None]
            if time.time() - started > 600 or dead:
                for p in range(args.processes):
                    with open(os.path.join(work, "client%d.log" % p)) as f:
                        sys.stderr.write("client %d: %s\n" % (p, f.read()[-2000:]))
                sys.exit("not every proxy got its first snapshot (client exit codes %r)"
                         % [c.poll() for c in clients])
            time.sleep(0.2)
        initial = time.time() - started
        time.sleep(2)
        rss_steady = rss_mb(pilot.pid)
        print("services %d x %d endpoints, %d proxies over mTLS (%d client processes)"
              % (args.services, args.endpoints, total, args.processes))
        print("initial sync (handshakes + full snapshots): %.1f s" % initial)
        print("pilot RSS after initial sync: %.1f MB (heap in use %.1f MB)"
              % (rss_steady, metric(monitor, "pilot_heap_in_use_bytes") / 1e6))

        all_latencies, cpu_rounds, lasts = [], [], []
        for r in range(args.rounds):
            cpu0 = proc_stat(pilot.pid)
            t0 = int(time.time() * 1000)
            write_route(config, r % args.services, 10 + r)
            deadline = time.time() + 60
            while True:
                got = {}
                for e in acks.since(t0):
                    got.setdefault(e["node"], e["t"])
                if len(got) >= total or time.time() > deadline:
                    break
                time.sleep(0.05)
            time.sleep(0.3)  # let pilot finish its bookkeeping before reading its CPU time
            cpu_rounds.append(proc_stat(pilot.pid) - cpu0 - 0)
            lat = [t - t0 for t in got.values()]
            all_latencies += lat
            lasts.append(max(lat))
            print("round %d: %d/%d ACKed, p50 %d ms, p99 %d ms, last %d ms, pilot CPU %.3f s, "
                  "RSS %.1f MB, heap in use %.1f MB"
                  % (r + 1, len(got), total, percentile(lat, 50), percentile(lat, 99), max(lat),
                     cpu_rounds[-1], rss_mb(pilot.pid),
                     metric(monitor, "pilot_heap_in_use_bytes") / 1e6))
            time.sleep(0.5)
        print("change to ACK over %d rounds: p50 %d ms, p99 %d ms, last ACK (median round) %d ms"
              % (args.rounds, percentile(all_latencies, 50), percentile(all_latencies, 99),
                 percentile(lasts, 50)))
        print("pilot CPU per push round: median %.3f s" % percentile(cpu_rounds, 50))
        print("pilot RSS now %.1f MB, peak %.1f MB" % (rss_mb(pilot.pid), rss_mb(pilot.pid, "VmHWM")))
        with urllib.request.urlopen("http://%s/metrics" % monitor) as m:
            for line in m.read().decode().splitlines():
                if line.startswith(("pilot_xds_pushes", "pilot_proxy_convergence_time_count",
                                    "pilot_proxy_convergence_time_sum", "pilot_xds ",
                                    "pilot_heap_", "pilot_xds_refusals_total")):
                    print("  " + line)
    finally:
        for c in clients:
            c.terminate()
        pilot.terminate()
        for c in clients:
            c.wait()
        pilot.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
