#!/usr/bin/env python3
"""`mesh up` with --workloads generated Deployments (mesh echo apps, each calling the next):
the time until mesh up says "mesh is up" (every sidecar ready), and the memory of everything
it runs, summed over its children (pilot with its CA, the sidecars, the apps): RSS, which
counts the shared static binary once per process, and PSS, which splits shared pages among
the processes that map them (the fairer total).

    bench/up/run.py [--mesh build/cmd/mesh] [--workloads 50]

Reuses the mesh up driver of tests/integration/up_test.py. Not part of CI."""
import argparse
import os
import shutil
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mesh", default="build/cmd/mesh")
    parser.add_argument("--workloads", type=int, default=50)
    args = parser.parse_args()
    os.environ["MESH_BIN"] = os.path.abspath(args.mesh)
    import up_test  # after MESH_BIN is set: the driver reads it at import

    work = tempfile.mkdtemp(prefix="mesh-bench-up-")
    try:
        docs = []
        for i in range(args.workloads):
            call = ", --call, http://svc%d:9080/" % (i + 1) if i + 1 < args.workloads else ""
            docs.append(up_test.DEPLOYMENT.format(i=i, call=call))
        with open(os.path.join(work, "services.yaml"), "w") as f:
            f.write("---\n".join(docs))
        mesh = up_test.MeshUp(work, "--no-ingress")
        try:
            mesh.wait_up(120)
            children = up_test.children_of(mesh.proc.pid)
            rss = sum(up_test.memory_kib(p, "VmRSS") for p in children) / 1024
            pss = sum(up_test.memory_kib(p, "Pss") for p in children) / 1024
            sidecars = [p["pids"]["sidecar"] for p in mesh.info["pods"]]
            sidecar_pss = sum(up_test.memory_kib(p, "Pss") for p in sidecars) / 1024
            pilot_pss = up_test.memory_kib(mesh.info["pilotPid"], "Pss") / 1024
            print(f"{args.workloads} workloads started in {mesh.up_seconds:.1f} s "
                  f"({len(children)} processes)")
            print(f"total RSS {rss:.1f} MB, total PSS {pss:.1f} MB "
                  f"(pilot {pilot_pss:.1f} MB, sidecars {sidecar_pss:.1f} MB, "
                  f"{sidecar_pss / max(len(sidecars), 1):.2f} MB each)")
        finally:
            mesh.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
