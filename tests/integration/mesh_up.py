"""A running `mesh up DIR` for the tests and bench/up: its state directory (mesh-up.json,
logs) and its stdout and stderr read on threads, so that a test can wait for a line."""
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

from meshtest import MESH


class MeshUp:
    """`directory` None runs the built-in demo. `unset` names environment variables the run
    must not inherit (proxy settings never are)."""

    def __init__(self, directory, *extra, unset=(), grace_ms=3000):
        self.state = tempfile.mkdtemp(prefix="mesh-up-test-")
        self.started = time.monotonic()
        env = {k: v for k, v in os.environ.items()
               if "proxy" not in k.lower() and k not in unset}
        where = [directory] if directory else []
        try:
            self.proc = subprocess.Popen(
                [MESH, "up", *where, "--state-dir", self.state, "--grace-ms", str(grace_ms),
                 *extra],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        except OSError:
            shutil.rmtree(self.state, ignore_errors=True)
            raise
        self.lines = queue.Queue()
        self.output = []
        self.errors = []
        threading.Thread(target=self._read, args=(self.proc.stdout, self.lines.put),
                         daemon=True).start()
        threading.Thread(target=self._read, args=(self.proc.stderr, self.errors.append),
                         daemon=True).start()

    @staticmethod
    def _read(stream, sink):
        for line in stream:
            sink(line.rstrip("\n"))

    def wait_for(self, predicate, timeout):
        """The first line of stdout, from here on, that `predicate` accepts."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                line = self.lines.get(timeout=max(0.01, deadline - time.monotonic()))
            except queue.Empty:
                continue
            self.output.append(line)
            if predicate(line):
                return line
        raise AssertionError("mesh up: nothing matched in %.0f s; output:\n%s\nerrors:\n%s"
                             % (timeout, "\n".join(self.output), "\n".join(self.errors[-20:])))

    def wait_up(self, timeout):
        """Waits for "mesh is up"; keeps the time it took and mesh-up.json as it was then
        (`info`, and `pods` by name)."""
        self.wait_for(lambda l: l.startswith("mesh is up"), timeout)
        self.up_seconds = time.monotonic() - self.started
        self.info = self.state_info()
        self.pods = {p["name"]: p for p in self.info["pods"]}

    def state_info(self):
        """mesh-up.json as it is now (process ids change when a child restarts)."""
        with open(os.path.join(self.state, "mesh-up.json")) as f:
            return json.load(f)

    def live_pods(self):
        return {p["name"]: p for p in self.state_info()["pods"]}

    def pod(self, name):
        return self.live_pods()[name]

    def pids(self):
        out = [self.info["pilotPid"]]
        for p in self.info["pods"]:
            out += [pid for pid in p["pids"].values() if pid]
        return out

    def stop(self):
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.proc.stderr.close()
        shutil.rmtree(self.state, ignore_errors=True)
