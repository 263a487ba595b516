"""mesh manifest generate / install / uninstall / inject, checked with tools others wrote:
the published Kubernetes and Istio schemas (npm packages kubernetes-models and
@kubernetes-models/istio, run by schema/validate.mjs) and, when this build has it, mesh analyze."""
import os
import re
import shutil
import subprocess
import tempfile
import unittest

from meshtest import main, mesh

HERE = os.path.dirname(os.path.abspath(__file__))
SCHEMA_DIR = os.path.join(HERE, "schema")
PROFILES = ["default", "demo", "minimal"]

# Every workload kind, with the documents around them that inject must leave alone.
WORKLOADS = """\
# shop: one of each workload kind
apiVersion: v1
kind: Namespace
metadata:
  name: shop
  labels:
    istio-injection: enabled
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: shop
spec:
  selector: {app: web}
  ports: [{name: http, port: 80, targetPort: 8080}]
---
apiVersion: networking.istio.io/v1
kind: VirtualService
metadata:
  name: web
  namespace: shop
spec:
  hosts: [web]
  http:
    - route:
        - destination: {host: web}
          weight: 100
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web, version: v1}
    spec:
      serviceAccountName: web
      containers:
        - name: web
          image: nginx:1.25
          ports: [{name: http, containerPort: 8080}]
          readinessProbe:
            httpGet: {path: /ready, port: http}
          livenessProbe:
            tcpSocket: {port: 8080}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  serviceName: db
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec:
      containers: [{name: db, image: "postgres:16", ports: [{containerPort: 5432}]}]
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: agent, namespace: shop}
spec:
  selector: {matchLabels: {app: agent}}
  template:
    metadata: {labels: {app: agent}}
    spec:
      containers: [{name: agent, image: "agent:1"}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata: {name: rs, namespace: shop}
spec:
  selector: {matchLabels: {app: rs}}
  template:
    metadata: {labels: {app: rs}}
    spec:
      containers: [{name: rs, image: "rs:1"}]
---
apiVersion: batch/v1
kind: Job
metadata: {name: migrate, namespace: shop}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: migrate, image: "migrate:1"}]
---
apiVersion: batch/v1
kind: CronJob
metadata: {name: report, namespace: shop}
spec:
  schedule: "0 3 * * *"
  jobTemplate:
    spec:
      template:
        spec:
          restartPolicy: OnFailure
          containers: [{name: report, image: "report:1"}]
---
apiVersion: v1
kind: Pod
metadata:
  name: debug
  namespace: shop
  annotations:
    sidecar.istio.io/inject: "false"
spec:
  containers: [{name: debug, image: "busybox:1"}]
---
apiVersion: v1
kind: Pod
metadata: {name: client, namespace: shop}
spec:
  containers: [{name: client, image: "curl:8"}]
"""


def schema_tools():
    """Why schema checks cannot run here, or None when they can."""
    if shutil.which("node") is None or shutil.which("npm") is None:
        return "node and npm are not installed: the schema validation needs them"
    if not os.path.isdir(os.path.join(SCHEMA_DIR, "node_modules")):
        out = subprocess.run(["npm", "ci", "--no-audit", "--no-fund"], cwd=SCHEMA_DIR,
                             capture_output=True, text=True, timeout=600)
        if out.returncode != 0:
            raise RuntimeError(f"npm ci failed in {SCHEMA_DIR}:\n{out.stdout}\n{out.stderr}")
    return None


class KubeTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.no_schema = schema_tools()
        cls.tmp = tempfile.mkdtemp(prefix="mesh-kube-test-")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def write(self, name, text):
        path = os.path.join(self.tmp, name)
        with open(path, "w", encoding="utf-8") as f:
            f.write(text)
        return path

    def generate(self, *sets):
        args = ["manifest", "generate"]
        for s in sets:
            args += ["--set", s]
        out = mesh(*args)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def validate(self, path):
        if self.no_schema:
            self.skipTest(self.no_schema)
        out = subprocess.run(["node", os.path.join(SCHEMA_DIR, "validate.mjs"), path],
                             capture_output=True, text=True, timeout=120, cwd=SCHEMA_DIR)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertNotIn("FAIL", out.stdout)
        return out.stdout

    def test_each_profile_passes_the_published_schemas(self):
        for profile in PROFILES:
            with self.subTest(profile=profile):
                path = self.write(f"{profile}.yaml", self.generate(f"profile={profile}"))
                report = self.validate(path)
                for expected in ["CustomResourceDefinition /virtualservices.networking.istio.io",
                                 "Namespace /mesh-system", "Deployment mesh-system/mesh-pilot",
                                 "Deployment mesh-system/mesh-ca", "Service mesh-system/mesh-pilot",
                                 "MutatingWebhookConfiguration /mesh-sidecar-injector"]:
                    self.assertIn(f"ok {path}: {expected}", report)

    def test_profiles_differ(self):
        default, demo, minimal = (self.generate(f"profile={p}") for p in PROFILES)
        self.assertIn("name: mesh-ingressgateway", default)
        self.assertNotIn("name: mesh-ingressgateway", minimal)
        self.assertIn("name: mesh-egressgateway", demo)
        self.assertNotIn("name: mesh-egressgateway", default)
        self.assertIn("kind: PodDisruptionBudget", default)
        self.assertNotIn("kind: PodDisruptionBudget", demo)

    def test_set_overrides_are_rendered(self):
        text = self.generate("hub=registry.example.com/team", "tag=2.0.0", "pilot.replicas=3")
        self.assertIn("image: registry.example.com/team/mesh:2.0.0", text)
        pilot = re.search(r"kind: Deployment\nmetadata:\n  name: mesh-pilot\n(.*?)\n---", text, re.S)
        self.assertIsNotNone(pilot)
        self.assertIn("  replicas: 3\n", pilot.group(1))
        path = self.write("overrides.yaml", text)
        self.validate(path)

    def test_bad_set_is_refused(self):
        out = mesh("manifest", "generate", "--set", "pilot.replica=3")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown key 'pilot.replica'", out.stderr)
        self.assertEqual(out.stdout, "")
        out = mesh("manifest", "generate", "--set", "profile=huge")
        self.assertEqual(out.returncode, 2)
        self.assertIn("unknown profile", out.stderr)

    def test_generate_works_from_any_directory(self):
        out = mesh("manifest", "generate", cwd="/")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertIn("kind: CustomResourceDefinition", out.stdout)

    def test_install_dry_run_prints_what_generate_prints(self):
        out = mesh("install", "--dry-run", "--set", "profile=demo")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(out.stdout, self.generate("profile=demo"))

    def test_install_without_kubectl_says_so(self):
        empty = tempfile.mkdtemp(dir=self.tmp)
        out = mesh("install", env={**os.environ, "PATH": empty})
        self.assertNotEqual(out.returncode, 0)
        self.assertIn("kubectl not found", out.stderr)
        self.assertEqual(out.stdout, "")

    def fake_kubectl(self, exit_code=0):
        """A kubectl stand-in that records its arguments and the file it was given."""
        bindir = tempfile.mkdtemp(dir=self.tmp)
        script = os.path.join(bindir, "kubectl")
        with open(script, "w", encoding="utf-8") as f:
            f.write(f"""#!/bin/sh
echo "$@" > {bindir}/args
for last; do :; done
cp "$last" {bindir}/manifests
exit {exit_code}
""")
        os.chmod(script, 0o755)
        return bindir

    def read(self, path):
        with open(path, encoding="utf-8") as f:
            return f.read()

    def test_install_applies_with_kubectl(self):
        bindir = self.fake_kubectl()
        out = mesh("install", "--set", "profile=minimal",
                   env={**os.environ, "PATH": bindir + ":" + os.environ.get("PATH", "")})
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(self.read(os.path.join(bindir, "args")), r"^apply -f /")
        self.assertEqual(self.read(os.path.join(bindir, "manifests")),
                         self.generate("profile=minimal"))

    def test_install_reports_kubectl_failure(self):
        bindir = self.fake_kubectl(exit_code=1)
        out = mesh("install", "--kubectl", os.path.join(bindir, "kubectl"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("kubectl exited with status 1", out.stderr)

    def test_uninstall_keeps_crds_unless_purged(self):
        out = mesh("uninstall", "--dry-run")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertNotIn("kind: CustomResourceDefinition", out.stdout)
        self.assertIn("name: mesh-pilot", out.stdout)
        # Reverse order: the webhook goes first, the namespace last.
        self.assertLess(out.stdout.index("kind: MutatingWebhookConfiguration"),
                        out.stdout.index("kind: Namespace"))
        purged = mesh("uninstall", "--dry-run", "--purge")
        self.assertIn("kind: CustomResourceDefinition", purged.stdout)
        bindir = self.fake_kubectl()
        out = mesh("uninstall", "--kubectl", os.path.join(bindir, "kubectl"))
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(self.read(os.path.join(bindir, "args")), r"^delete --ignore-not-found -f /")

    def inject(self, path, *extra):
        out = mesh("inject", "-f", path, *extra)
        self.assertEqual(out.returncode, 0, out.stderr)
        return out.stdout

    def test_injected_workloads_pass_the_published_schemas(self):
        injected = self.inject(self.write("workloads.yaml", WORKLOADS))
        path = self.write("injected.yaml", injected)
        report = self.validate(path)
        for kind in ["Deployment shop/web", "StatefulSet shop/db", "DaemonSet shop/agent",
                     "ReplicaSet shop/rs", "Job shop/migrate", "CronJob shop/report",
                     "Pod shop/client", "VirtualService shop/web"]:
            self.assertIn(f"ok {path}: {kind}", report)
        # Seven pods get the sidecar; the opted-out one does not.
        self.assertEqual(injected.count("name: istio-proxy"), 7)
        self.assertEqual(injected.count("restartPolicy: Always"), 7)
        self.assertIn("/app-health/web/readyz", injected)

    def test_inject_keeps_other_documents_and_order_and_is_idempotent(self):
        first = self.inject(self.write("w.yaml", WORKLOADS))
        # Documents it does not inject come through byte for byte.
        self.assertTrue(first.startswith(WORKLOADS[:WORKLOADS.index("apiVersion: apps/v1")]))
        self.assertIn(WORKLOADS[WORKLOADS.index("apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug"):
                                WORKLOADS.index("---\napiVersion: v1\nkind: Pod\nmetadata: {name: client")],
                      first)
        kinds = re.findall(r"(?m)^kind: (\w+)", first)
        self.assertEqual(kinds, re.findall(r"(?m)^kind: (\w+)", WORKLOADS))
        second = self.inject(self.write("w2.yaml", first))
        self.assertEqual(second, first)

    def test_inject_reads_stdin_and_writes_a_file(self):
        target = os.path.join(self.tmp, "out.yaml")
        out = mesh("inject", "-f", "-", "-o", target, input=WORKLOADS)
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(self.read(target), self.inject(self.write("s.yaml", WORKLOADS)))

    def test_inject_bad_input_fails_cleanly(self):
        out = mesh("inject", "-f", self.write("bad.yaml", "a: 1\n---\nb: [1, 2\nc: d: e\n"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("line", out.stderr)
        self.assertEqual(out.stdout, "")
        out = mesh("inject", "-f", os.path.join(self.tmp, "missing.yaml"))
        self.assertEqual(out.returncode, 1)
        self.assertIn("cannot read", out.stderr)

    def test_analyze_finds_no_error_in_the_manifests(self):
        probe = mesh("analyze", "--help")
        if probe.returncode != 0 or "not available" in probe.stderr + probe.stdout:
            self.skipTest("this build has no mesh analyze")
        for profile in PROFILES:
            with self.subTest(profile=profile):
                path = self.write(f"analyze-{profile}.yaml", self.generate(f"profile={profile}"))
                out = mesh("analyze", path)
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertNotRegex(out.stdout + out.stderr, r"(?m)^Error")
        # A pod in an injected namespace lacks its proxy (IST0103) until `mesh inject` runs.
        before = self.write("analyze-before.yaml", WORKLOADS)
        self.assertIn("IST0103", mesh("analyze", before).stdout)
        after = self.write("analyze-after.yaml", self.inject(before))
        out = mesh("analyze", after)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertNotIn("IST0103", out.stdout)
        self.assertNotIn("IST0144", out.stdout)


if __name__ == "__main__":
    main()
