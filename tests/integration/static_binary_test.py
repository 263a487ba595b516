"""The release binary is one static executable that works with nothing around it."""
import os
import shutil
import subprocess
import tempfile
import unittest

from meshtest import MESH, main

STATIC = os.environ.get("MESH_STATIC") == "1"


@unittest.skipUnless(STATIC, "sanitizer builds link dynamically")
class StaticBinaryTest(unittest.TestCase):
    def test_file_says_statically_linked(self):
        out = subprocess.run(["file", "-L", MESH], capture_output=True, text=True, check=True)
        self.assertIn("statically linked", out.stdout)

    def test_ldd_says_not_dynamic(self):
        out = subprocess.run(["ldd", MESH], capture_output=True, text=True)
        self.assertIn("not a dynamic executable", out.stdout + out.stderr)

    def test_no_openssl_inside(self):
        # BoringSSL only: OpenSSL 3 would bring its provider strings.
        with open(MESH, "rb") as f:
            blob = f.read()
        self.assertNotIn(b"OpenSSL 3.", blob)
        self.assertNotIn(b"libssl.so", blob)

    @unittest.skipUnless(os.geteuid() == 0, "chroot needs root")
    def test_resolves_localhost_in_empty_chroot(self):
        root = tempfile.mkdtemp(prefix="mesh-chroot-")
        try:
            os.mkdir(os.path.join(root, "etc"))
            shutil.copy(MESH, os.path.join(root, "mesh"))
            with open(os.path.join(root, "etc", "hosts"), "w") as f:
                f.write("127.0.0.1 localhost\n::1 localhost ip6-localhost\n"
                        "127.0.0.7 only-in-hosts.test\n")
            with open(os.path.join(root, "etc", "resolv.conf"), "w") as f:
                f.write("nameserver 127.0.0.1\noptions timeout:1 attempts:1\n")
            self.assertEqual(sorted(os.listdir(root)), ["etc", "mesh"])

            out = subprocess.run(["chroot", root, "/mesh", "resolve", "localhost"],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
            self.assertEqual(out.stdout.split(), ["127.0.0.1", "::1"])

            out = subprocess.run(["chroot", root, "/mesh", "resolve", "only-in-hosts.test"],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.stdout.split(), ["127.0.0.7"], out.stderr)

            out = subprocess.run(["chroot", root, "/mesh", "version"],
                                 capture_output=True, text=True, timeout=30)
            self.assertEqual(out.returncode, 0, out.stderr)
        finally:
            shutil.rmtree(root)


if __name__ == "__main__":
    main()
