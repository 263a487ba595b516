"""`mesh analyze` run as a real process over Bookinfo-style files: Istio's samples analyse
clean, broken variants give the codes istioctl gives, with its exit codes and JSON shape."""
import json
import os
import tempfile
import unittest

from meshtest import main, mesh

DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data")
BOOKINFO = os.path.join(DATA, "bookinfo")
BROKEN = os.path.join(DATA, "broken")
BASE = [os.path.join(BOOKINFO, f) for f in
        ("bookinfo.yaml", "destination-rule-all.yaml", "bookinfo-gateway.yaml")]

# Broken variant -> (codes expected, exit status with the default failure threshold).
BROKEN_CASES = {
    "vs-unknown-subset.yaml": ({"IST0101"}, 79),
    "vs-unknown-host.yaml": ({"IST0101"}, 79),
    "vs-unknown-gateway.yaml": ({"IST0101"}, 79),
    "vs-conflicting-hosts.yaml": ({"IST0109"}, 79),
    "vs-unreachable-rule.yaml": ({"IST0130", "IST0131"}, 0),
    "gateway-wrong-selector.yaml": ({"IST0101"}, 79),
    "dr-subset-no-pods.yaml": ({"IST0173"}, 79),
    "namespace-not-injected.yaml": ({"IST0102"}, 0),
    "service-port-name.yaml": ({"IST0118"}, 0),
    "vs-bad-weights.yaml": ({"IST0106"}, 79),
}


def analyze_json(*args, **kwargs):
    out = mesh("analyze", "-o", "json", *args, **kwargs)
    return out, json.loads(out.stdout) if out.stdout.strip() else None


class BookinfoTest(unittest.TestCase):
    def test_each_sample_analyses_clean(self):
        samples = sorted(f for f in os.listdir(BOOKINFO) if f.startswith("virtual-service-"))
        self.assertGreaterEqual(len(samples), 10)
        for sample in samples:
            with self.subTest(sample=sample):
                out, messages = analyze_json(*BASE, os.path.join(BOOKINFO, sample))
                self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
                self.assertEqual(messages, [])

    def test_mtls_rules_analyse_clean(self):
        out = mesh("analyze", os.path.join(BOOKINFO, "bookinfo.yaml"),
                   os.path.join(BOOKINFO, "destination-rule-all-mtls.yaml"),
                   os.path.join(BOOKINFO, "virtual-service-reviews-v3.yaml"))
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(out.stdout, "")
        self.assertIn("No validation issues found", out.stderr)

    def test_whole_directory_later_files_win(self):
        # Every sample at once: same-named objects replace each other, as kubectl apply would.
        out, messages = analyze_json(BOOKINFO)
        self.assertEqual(out.returncode, 0, out.stdout + out.stderr)
        self.assertEqual(messages, [])

    def test_stdin(self):
        with open(os.path.join(BROKEN, "vs-unknown-host.yaml")) as f:
            text = f.read()
        out, messages = analyze_json(*BASE, "-", input=text)
        self.assertEqual(out.returncode, 79)
        self.assertEqual([m["code"] for m in messages], ["IST0101"])
        self.assertEqual(messages[0]["reference"], "-:12")


class BrokenTest(unittest.TestCase):
    def test_broken_variants_give_their_codes(self):
        self.assertEqual(set(BROKEN_CASES) - set(os.listdir(BROKEN)), set())
        for name, (codes, status) in BROKEN_CASES.items():
            with self.subTest(variant=name):
                out, messages = analyze_json(*BASE, os.path.join(BROKEN, name))
                self.assertEqual({m["code"] for m in messages}, codes, out.stdout)
                self.assertEqual(out.returncode, status, out.stderr)
                for m in messages:
                    self.assertTrue(m["reference"].startswith(os.path.join(BROKEN, name) + ":"),
                                    m)

    def test_json_shape(self):
        path = os.path.join(BROKEN, "vs-unknown-subset.yaml")
        _, messages = analyze_json(*BASE, path)
        self.assertEqual(messages, [{
            "code": "IST0101",
            "documentationUrl": "https://istio.io/latest/docs/reference/config/analysis/ist0101/",
            "level": "Error",
            "message": 'Referenced host+subset in destinationrule not found: "reviews+v4"',
            "origin": "VirtualService reviews",
            "reference": path + ":13",
        }])

    def test_log_format(self):
        path = os.path.join(BROKEN, "vs-unknown-subset.yaml")
        out = mesh("analyze", *BASE, path)
        self.assertEqual(out.returncode, 79)
        self.assertEqual(out.stdout,
                         f"Error [IST0101] (VirtualService reviews {path}:13) Referenced "
                         'host+subset in destinationrule not found: "reviews+v4"\n')
        self.assertIn("Analyzers found issues", out.stderr)

    def test_yaml_format(self):
        try:
            import yaml  # PyYAML, when the machine has it
        except ImportError:
            self.skipTest("PyYAML is not installed")
        out = mesh("analyze", "-o", "yaml", *BASE, os.path.join(BROKEN, "vs-unreachable-rule.yaml"))
        self.assertEqual(out.returncode, 0)
        messages = yaml.safe_load(out.stdout)
        self.assertEqual(sorted(m["code"] for m in messages), ["IST0130", "IST0131"])
        self.assertEqual(set(messages[0]), {"code", "documentationUrl", "level", "message",
                                            "origin", "reference"})

    def test_thresholds(self):
        ns = os.path.join(BROKEN, "namespace-not-injected.yaml")
        out, messages = analyze_json(*BASE, ns, "--failure-threshold", "Info")
        self.assertEqual(out.returncode, 79)
        self.assertEqual([m["code"] for m in messages], ["IST0102"])
        out, messages = analyze_json(*BASE, ns, "--output-threshold", "Warning")
        self.assertEqual(out.returncode, 0)
        self.assertEqual(messages, [])
        out = mesh("analyze", *BASE, "--failure-threshold", "Fatal")
        self.assertEqual(out.returncode, 1)

    def test_suppress(self):
        host = os.path.join(BROKEN, "vs-unknown-host.yaml")
        out, messages = analyze_json(*BASE, host, "-S", "IST0101=VirtualService *")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertEqual(messages, [])
        out, messages = analyze_json(*BASE, host, "--suppress", "IST0101=VirtualService other")
        self.assertEqual(out.returncode, 79)
        out = mesh("analyze", *BASE, "--suppress", "IST0101")
        self.assertEqual(out.returncode, 1)
        self.assertIn("must be <code>=<kind> <name>", out.stderr)

    def test_mesh_config_root_namespace(self):
        policy = ("apiVersion: security.istio.io/v1\nkind: AuthorizationPolicy\nmetadata:\n"
                  "  name: ratings\n  namespace: mesh-system\nspec:\n  selector:\n"
                  "    matchLabels:\n      app: ratings\n  action: ALLOW\n")
        with tempfile.TemporaryDirectory() as tmp:
            mesh_config = os.path.join(tmp, "mesh.yaml")
            with open(mesh_config, "w") as f:
                f.write("rootNamespace: mesh-system\n")
            # Outside the root namespace the selector looks only in mesh-system, which is empty.
            _, messages = analyze_json(*BASE, "-", input=policy)
            self.assertEqual([m["code"] for m in messages], ["IST0127"])
            # As the root namespace, it applies mesh-wide and finds ratings in default.
            out, messages = analyze_json(*BASE, "-", "--meshConfigFile", mesh_config,
                                         input=policy)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(messages, [])

    def test_unreadable_input(self):
        with tempfile.TemporaryDirectory() as tmp:
            bad = os.path.join(tmp, "bad.yaml")
            with open(bad, "w") as f:
                f.write("apiVersion: v1\nkind: [unclosed\n")
            out = mesh("analyze", bad)
            self.assertEqual(out.returncode, 1)
            self.assertIn(bad + ":", out.stderr)
        out = mesh("analyze", "/nonexistent/file.yaml")
        self.assertEqual(out.returncode, 1)
        out = mesh("analyze")
        self.assertEqual(out.returncode, 1)

    def test_list_analyzers(self):
        out = mesh("analyze", "--list-analyzers")
        self.assertEqual(out.returncode, 0)
        self.assertTrue(out.stdout.startswith("Available analyzers:\n"))
        for code in ("IST0101", "IST0109", "IST0130", "IST0173", "IST0118", "IST0102"):
            self.assertIn(code, out.stdout)


if __name__ == "__main__":
    main()
