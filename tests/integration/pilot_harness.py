"""Helpers for pilot's integration tests: a `mesh pilot` process with its CA inside, and
pilot_client processes (the proxy side of the protocol) whose JSON event lines are read on a
thread so a test can wait for the event it expects."""
import json
import os
import queue
import shutil
import subprocess
import tempfile
import threading
import time
import urllib.request

from meshtest import MESH, mesh

CLIENT = os.environ.get("MESH_PILOT_CLIENT", "build/tests/integration/pilot_client")
DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), "data", "pilot")


def bookinfo_config(config_dir, *samples):
    """Copies the Bookinfo app, destination-rule-all and the named samples into config_dir."""
    os.makedirs(os.path.join(config_dir, "networking"), exist_ok=True)
    shutil.copy(os.path.join(DATA, "platform", "kube", "bookinfo.yaml"), config_dir)
    for name in ("destination-rule-all.yaml",) + samples:
        shutil.copy(os.path.join(DATA, "networking", name), os.path.join(config_dir, "networking"))


def write_atomically(path, text):
    tmp = path + ".tmp~"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


class Pilot:
    """`mesh pilot` with the CA in its process; ports picked by the OS unless given."""

    def __init__(self, workdir, config_dir, listen="127.0.0.1:0", *extra):
        self.workdir = workdir
        self.config_dir = config_dir
        self.ca_dir = os.path.join(workdir, "ca")
        self.log = open(os.path.join(workdir, "pilot.log"), "a")
        self.proc = subprocess.Popen(
            [MESH, "pilot", "--config-dir", config_dir, "--ca-data-dir", self.ca_dir,
             "--ca-listen", "127.0.0.1:0", "--listen", listen, "--monitor", "127.0.0.1:0",
             "--debounce-after", "50ms", "--keepalive", "1s", *extra],
            stdout=subprocess.PIPE, stderr=self.log, text=True)
        self.ca = self._read("ca")
        self.listen = self._read("listening")
        self.monitor = self._read("monitoring")

    def _read(self, word):
        line = self.proc.stdout.readline()
        if not line.startswith(word + " "):
            self.stop()
            raise AssertionError("expected '%s ADDR' from mesh pilot, got %r (log: %s)"
                                 % (word, line, self.log_text()))
        return line.split()[1]

    def log_text(self):
        with open(os.path.join(self.workdir, "pilot.log")) as f:
            return f.read()

    def token(self, ns, sa):
        r = mesh("ca", "token", "create", "--data-dir", self.ca_dir, "--namespace", ns,
                 "--service-account", sa)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def root(self):
        return os.path.join(self.ca_dir, "trust-bundle.pem")

    def get(self, path):
        with urllib.request.urlopen("http://%s%s" % (self.monitor, path), timeout=5) as r:
            return r.read().decode()

    def get_json(self, path):
        return json.loads(self.get(path))

    def syncz(self, node):
        for p in self.get_json("/debug/syncz"):
            if p["proxy"] == node:
                return p
        return None

    def wait_sync(self, node, state, timeout=5):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            p = self.syncz(node)
            if p and p["state"] == state:
                return p
            time.sleep(0.02)
        raise AssertionError("proxy %s never %s: %r" % (node, state, self.get_json("/debug/syncz")))

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc.stdout.close()
        self.log.close()


class Client:
    """One pilot_client: a proxy's side of the protocol, reporting events as JSON lines."""

    def __init__(self, pilot, ns, sa, node, *extra, pilot_address=None):
        self.node = node
        self.proc = subprocess.Popen(
            [CLIENT, "--ca", pilot.ca, "--ca-root", pilot.root(), "--token", pilot.token(ns, sa),
             "--pilot", pilot_address or pilot.listen, "--node", node, "--ping-ms", "200", *extra],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.events = queue.Queue()
        self.last_config = None
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        for line in self.proc.stdout:
            self.events.put(json.loads(line))

    def wait(self, predicate, timeout=5, what="event"):
        """The first event (from now on) for which predicate(event) holds."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("%s: no %s in %.1f s; saw %r" % (self.node, what, timeout, seen[-5:]))
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            if event.get("event") in ("snapshot", "delta"):
                self.last_config = event
            seen.append(event)
            if predicate(event):
                return event

    def config(self, predicate=lambda e: True, timeout=5):
        return self.wait(lambda e: e.get("event") in ("snapshot", "delta") and predicate(e),
                         timeout, "config")

    def drain(self):
        while True:
            try:
                event = self.events.get_nowait()
            except queue.Empty:
                return
            if event.get("event") in ("snapshot", "delta"):
                self.last_config = event

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def reviews_targets(event):
    return event["routes"].get("reviews.default.svc.cluster.local:9080", [])


class TempDir:
    def __enter__(self):
        self.path = tempfile.mkdtemp(prefix="mesh-pilot-")
        return self.path

    def __exit__(self, *exc):
        shutil.rmtree(self.path, ignore_errors=True)
