#!/usr/bin/env python3
"""`mesh up` with --workloads generated Deployments (mesh echo apps, each calling the next)
and the ingress gateway: the time until mesh up says "mesh is up" (every sidecar ready), then,
after one request through the whole chain and a few seconds idle, the memory of everything it
runs: PSS (shared pages split among the processes that map them, so the one static binary
counts once) per kind of process and in total, and RSS (which counts the binary once per
process). The goal: all of it in less than one Istio sidecar, 60 MB.

    bench/up/run.py [--mesh build/cmd/mesh] [--workloads 50]

Reuses the mesh up driver of tests/integration/up_test.py. Not part of CI."""
import argparse
import os
import shutil
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
sys.path.insert(0, os.path.join(ROOT, "tests", "integration"))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--mesh", default="build/cmd/mesh")
    parser.add_argument("--workloads", type=int, default=50)
    args = parser.parse_args()
    os.environ["MESH_BIN"] = os.path.abspath(args.mesh)
    import mesh_up  # after MESH_BIN is set: the driver reads it at import
    import up_test

    work = tempfile.mkdtemp(prefix="mesh-bench-up-")
    try:
        docs = []
        for i in range(args.workloads):
            call = ", --call, http://svc%d:9080/" % (i + 1) if i + 1 < args.workloads else ""
            docs.append(up_test.DEPLOYMENT.format(i=i, call=call))
        with open(os.path.join(work, "services.yaml"), "w") as f:
            f.write("---\n".join(docs))
        mesh = mesh_up.MeshUp(work, "--ingress-port", "0", unset=("MALLOC_PERTURB_",))  # as a user runs it
        try:
            mesh.wait_up(120)
            status, _ = up_test.get(mesh.pods["svc0-v1-0"]["outbound"], "/", "svc0:9080",
                                    proxy=True)
            # Idle: apps and sidecars give back their free heap within 2 s of the last request.
            time.sleep(3)
            pods = [p for p in mesh.info["pods"] if p["name"] != "istio-ingressgateway"]
            kinds = {
                "pilot": [mesh.info["pilotPid"]],
                "sidecars": [p["pids"]["sidecar"] for p in pods],
                "apps": [p["pids"]["app"] for p in pods],
                "gateway": [p["pids"]["sidecar"] for p in mesh.info["pods"]
                            if p["name"] == "istio-ingressgateway"],
            }
            children = up_test.children_of(mesh.proc.pid)
            mib = lambda pids, field: sum(up_test.memory_kib(p, field) for p in pids) / 1024  # noqa: E731
            print(f"{args.workloads} workloads started in {mesh.up_seconds:.1f} s "
                  f"({len(children)} processes); a request through the chain: {status}")
            for kind, pids in kinds.items():
                print(f"  {kind:9} {len(pids):3} x {mib(pids, 'Pss') / max(len(pids), 1):6.2f} MiB"
                      f" PSS = {mib(pids, 'Pss'):6.1f} MiB")
            own = mib([mesh.proc.pid], 'Pss')
            total = mib(children, 'Pss') + own
            print(f"total PSS {total:.1f} MiB = {total * 1.048576:.1f} MB with mesh up itself "
                  f"({own:.1f} MiB); goal: under 60 MB, one Istio sidecar; "
                  f"total RSS of the children {mib(children, 'VmRSS'):.1f} MiB")
        finally:
            mesh.stop()
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
