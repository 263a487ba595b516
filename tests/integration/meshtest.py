"""Small helpers shared by the integration tests: where the binary is, and running it."""
import os
import subprocess
import sys
import unittest

MESH = os.environ.get("MESH_BIN", "build/cmd/mesh")


def mesh(*args, timeout=30, **kwargs):
    """Runs `mesh ARGS` and returns the CompletedProcess (text mode, output captured)."""
    return subprocess.run([MESH, *args], capture_output=True, text=True, timeout=timeout,
                          **kwargs)


def main():
    """unittest main with a non-zero exit status on failure, as meson expects."""
    result = unittest.main(exit=False, verbosity=2).result
    sys.exit(0 if result.wasSuccessful() else 1)
