#!/usr/bin/env python3
"""Writes N Istio and Kubernetes resources (default 10,000) shaped like a real mesh: per
application a Service, a Deployment with two versions' worth of labels, a DestinationRule
with subsets and a VirtualService splitting traffic, spread over namespaces, plus a
Namespace object for each namespace. Everything refers to things that exist, so a correct
analysis of the output is clean and the time measured is the time of a full analysis."""
import argparse
import os


def app_docs(ns, app):
    return [f"""apiVersion: v1
kind: Service
metadata:
  name: {app}
  namespace: {ns}
spec:
  selector:
    app: {app}
  ports:
  - name: http
    port: 8080
""", f"""apiVersion: apps/v1
kind: Deployment
metadata:
  name: {app}
  namespace: {ns}
spec:
  selector:
    matchLabels:
      app: {app}
  template:
    metadata:
      labels:
        app: {app}
        version: v1
    spec:
      containers:
      - name: {app}
        image: registry.example.com/{app}:1.0
        ports:
        - containerPort: 8080
""", f"""apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata:
  name: {app}
  namespace: {ns}
spec:
  host: {app}
  trafficPolicy:
    connectionPool:
      http:
        http1MaxPendingRequests: 100
    outlierDetection:
      consecutive5xxErrors: 5
      interval: 10s
      baseEjectionTime: 30s
  subsets:
  - name: v1
    labels:
      version: v1
""", f"""apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: {app}
  namespace: {ns}
spec:
  hosts:
  - {app}
  http:
  - match:
    - headers:
        end-user:
          exact: tester
    route:
    - destination:
        host: {app}
        subset: v1
    timeout: 2s
  - route:
    - destination:
        host: {app}
        subset: v1
      weight: 100
    retries:
      attempts: 3
      perTryTimeout: 500ms
"""]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("out", help="directory to write into (one file per namespace)")
    parser.add_argument("--resources", type=int, default=10000)
    parser.add_argument("--namespaces", type=int, default=50)
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    apps = -(-(args.resources - args.namespaces) // 4)  # ceiling: at least N resources
    total = 0
    for n in range(args.namespaces):
        ns = f"team-{n:03d}"
        docs = [f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
                f"  labels:\n    istio-injection: enabled\n"]
        for a in range(n, apps, args.namespaces):
            docs += app_docs(ns, f"app-{a:04d}")
        total += len(docs)
        with open(os.path.join(args.out, f"{ns}.yaml"), "w") as f:
            f.write("---\n".join(docs))
    print(total)


if __name__ == "__main__":
    main()
