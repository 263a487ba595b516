#!/usr/bin/env python3
"""Certificates issued per second by `mesh ca` over TLS, the CA pinned to one core.

Client processes on the other core(s) keep TLS connections to the CA and pipeline `csr`
requests (one CSR and one token reused: the CA does the full work for each: parse and verify
the CSR, verify the token's ES256 signature, sign a new certificate, encode the chain). With
--handshake-per-cert every certificate comes over a new TLS connection instead.

    bench/ca/ca_bench.py [--mesh build/cmd/mesh] [--seconds 10] [--clients 2]

Not part of CI: the figure depends on the machine. Run it on an idle machine.
"""
import argparse
import json
import multiprocessing
import os
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time


def frame(message):
    body = json.dumps(message).encode()
    return struct.pack(">I", len(body)) + body


def read_frame(sock, buf):
    while True:
        if len(buf) >= 4:
            n = struct.unpack(">I", buf[:4])[0]
            if len(buf) >= 4 + n:
                msg = bytes(buf[4:4 + n])
                del buf[:4 + n]
                return msg
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError("CA closed the connection")
        buf += chunk


def connect(host, port, root):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.load_verify_locations(root)
    raw = socket.create_connection((host, port))
    raw.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    return ctx.wrap_socket(raw)


def client(args, host, port, root, request, deadline, out):
    if args.client_cpus:
        os.sched_setaffinity(0, args.client_cpus)
    done = 0
    errors = 0
    if args.handshake_per_cert:
        while time.time() < deadline:
            with connect(host, port, root) as s:
                s.sendall(request)
                answer = read_frame(s, bytearray())
                if b'"type":"certificate"' in answer:
                    done += 1
                else:
                    errors += 1
        out.put((done, errors))
        return
    socks = [connect(host, port, root) for _ in range(args.connections)]
    bufs = [bytearray() for _ in socks]
    for s in socks:
        s.sendall(request * args.depth)
    while time.time() < deadline:
        for s, buf in zip(socks, bufs):
            answer = read_frame(s, buf)
            if b'"type":"certificate"' in answer:
                done += 1
            else:
                errors += 1
            s.sendall(request)
    out.put((done, errors))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--mesh", default=os.environ.get("MESH_BIN", "build/cmd/mesh"))
    p.add_argument("--seconds", type=float, default=10)
    p.add_argument("--clients", type=int, default=2, help="client processes")
    p.add_argument("--connections", type=int, default=4, help="TLS connections per client")
    p.add_argument("--depth", type=int, default=8, help="requests in flight per connection")
    p.add_argument("--ca-cpu", type=int, default=0)
    p.add_argument("--handshake-per-cert", action="store_true")
    args = p.parse_args()
    cpus = sorted(os.sched_getaffinity(0))
    args.client_cpus = {c for c in cpus if c != args.ca_cpu} or None

    with tempfile.TemporaryDirectory() as tmp:
        data = os.path.join(tmp, "ca")
        ca = subprocess.Popen(["taskset", "-c", str(args.ca_cpu), args.mesh, "ca", "--data-dir", data,
                               "--listen", "127.0.0.1:0", "--monitoring", "127.0.0.1:0"],
                              stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        try:
            host, port = ca.stdout.readline().split()[1].rsplit(":", 1)
            ca.stdout.readline()
            token = subprocess.run([args.mesh, "ca", "--data-dir", data, "token", "create",
                                    "--namespace", "bench", "--service-account", "load", "--ttl", "1h"],
                                   capture_output=True, text=True, check=True).stdout.strip()
            key, csr = os.path.join(tmp, "k.pem"), os.path.join(tmp, "c.csr")
            subprocess.run(["openssl", "req", "-new", "-newkey", "ec", "-pkeyopt",
                            "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", csr,
                            "-subj", "/O=bench", "-addext",
                            "subjectAltName=URI:spiffe://cluster.local/ns/bench/sa/load"],
                           check=True, capture_output=True)
            request = frame({"type": "csr", "csr": open(csr).read(), "token": token})
            root = os.path.join(data, "root-cert.pem")
            out = multiprocessing.Queue()
            deadline = time.time() + args.seconds
            start = time.time()
            procs = [multiprocessing.Process(target=client, args=(args, host, int(port), root, request, deadline, out))
                     for _ in range(args.clients)]
            for pr in procs:
                pr.start()
            results = [out.get() for _ in procs]
            elapsed = time.time() - start
            for pr in procs:
                pr.join()
            ticks = os.sysconf("SC_CLK_TCK")
            with open(f"/proc/{ca.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ca_cpu = (int(fields[11]) + int(fields[12])) / ticks  # utime + stime
        finally:
            ca.terminate()
            ca.wait()
    issued = sum(r[0] for r in results)
    errors = sum(r[1] for r in results)
    mode = "a new TLS connection per certificate" if args.handshake_per_cert else \
        f"{args.clients}x{args.connections} TLS connections, {args.depth} in flight each"
    print(f"{issued / elapsed:.0f} certificates/s on 1 CA core ({issued} in {elapsed:.1f} s, "
          f"{errors} errors; {mode})")
    # Below 100% the clients, not the CA, were the limit; this is the CA's own cost.
    print(f"CA busy {100 * ca_cpu / elapsed:.0f}% of its core: {ca_cpu / max(issued, 1) * 1e6:.0f} us "
          f"of CPU per certificate, {issued / max(ca_cpu, 1e-9):.0f} certificates per CPU-second")
    return 0 if errors == 0 and issued else 1


if __name__ == "__main__":
    sys.exit(main())
