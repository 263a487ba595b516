"""A running `mesh up DIR` for the e2e tests: its state directory (mesh-up.json, logs) and
its stdout and stderr read on threads, so a test can wait for a line."""
import json
import os
import queue
import shutil
import signal
import subprocess
import tempfile
import threading
import time

MESH = os.path.abspath(os.environ.get("MESH_BIN", "build/cmd/mesh"))


class MeshUp:
    def __init__(self, directory, *extra):
        self.state = tempfile.mkdtemp(prefix="mesh-e2e-state-")
        env = {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
        self.proc = subprocess.Popen(
            [MESH, "up", directory, "--state-dir", self.state, "--grace-ms", "2000", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
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

    def info(self):
        with open(os.path.join(self.state, "mesh-up.json")) as f:
            return json.load(f)

    def pods(self):
        return {p["name"]: p for p in self.info()["pods"]}

    def pod(self, name):
        return self.pods()[name]

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
