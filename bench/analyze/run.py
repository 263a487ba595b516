#!/usr/bin/env python3
"""Times `mesh analyze -o json` over 10,000 generated resources (generate.py), three runs,
reporting wall-clock and CPU time (user + system) of the child. Not run in CI: the figure
depends on the machine and its load; on a shared machine the CPU time is the steadier one.
Usage: bench/analyze/run.py [path/to/mesh] [--resources N]"""
import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("mesh", nargs="?", default="build/cmd/mesh")
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        made = subprocess.run([sys.executable, os.path.join(HERE, "generate.py"), tmp,
                               "--resources", str(args.resources)],
                              check=True, capture_output=True, text=True).stdout.strip()
        size = sum(os.path.getsize(os.path.join(tmp, f)) for f in os.listdir(tmp))
        print(f"{made} resources, {size} bytes of YAML")
        for run in range(1, args.runs + 1):
            before = resource.getrusage(resource.RUSAGE_CHILDREN)
            start = time.monotonic()
            out = subprocess.run([args.mesh, "analyze", "-o", "json", tmp],
                                 capture_output=True, text=True)
            wall = time.monotonic() - start
            after = resource.getrusage(resource.RUSAGE_CHILDREN)
            cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
            if out.returncode != 0:
                print(out.stderr, out.stdout[:2000])
                sys.exit(1)
            messages = len(json.loads(out.stdout))
            print(f"run {run}: wall {wall:.3f} s, cpu {cpu:.3f} s, {messages} messages, "
                  f"max rss {after.ru_maxrss // 1024} MiB")


if __name__ == "__main__":
    main()
