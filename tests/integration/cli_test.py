"""The command line: every mode is listed, each has --help, unbuilt modes fail loudly."""
import re
import unittest

from meshtest import main, mesh

MODES = ["proxy", "pilot", "ca", "up", "install", "inject", "analyze", "proxy-status",
         "proxy-config", "echo", "version"]


class CliTest(unittest.TestCase):
    def test_help_lists_every_mode(self):
        out = mesh("--help")
        self.assertEqual(out.returncode, 0, out.stderr)
        for mode in MODES:
            self.assertRegex(out.stdout, rf"(?m)^\s+{re.escape(mode)}\s", mode)

    def test_each_mode_has_help(self):
        for mode in MODES:
            out = mesh(mode, "--help")
            self.assertEqual(out.returncode, 0, f"{mode}: {out.stderr}")
            self.assertIn("Usage:", out.stdout, mode)

    def test_no_mode_is_an_error(self):
        out = mesh()
        self.assertNotEqual(out.returncode, 0)

    def test_unknown_mode_is_an_error(self):
        out = mesh("frobnicate")
        self.assertNotEqual(out.returncode, 0)

    def test_version_names_the_libraries(self):
        out = mesh("version")
        self.assertEqual(out.returncode, 0, out.stderr)
        self.assertRegex(out.stdout, r"(?m)^mesh \d+\.\d+\.\d+$")
        self.assertRegex(out.stdout, r"(?m)^BoringSSL [0-9a-f]{40} \(API \d+\)$")
        self.assertRegex(out.stdout, r"(?m)^libuv 1\.\d+\.\d+$")
        self.assertRegex(out.stdout, r"(?m)^llhttp \d+\.\d+\.\d+$")


if __name__ == "__main__":
    main()
