"""Requests made from inside a pod of `mesh up --netns`, the way its app makes them: the socket
belongs to the pod's network namespace, so its connection goes through the pod's iptables
rules (captured by the sidecar) exactly like the app's own. The socket is made with setns(2)
on this thread and the thread goes back at once; it is connected from anywhere after."""
import ctypes
import http.client
import os
import socket
import threading

CLONE_NEWNET = 0x40000000
_libc = ctypes.CDLL(None, use_errno=True)
_lock = threading.Lock()


def _setns(fd):
    if _libc.setns(fd, CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "setns failed")


def pod_socket(netns):
    """A TCP socket in the network namespace /run/netns/<netns>."""
    with _lock:
        home = os.open("/proc/thread-self/ns/net", os.O_RDONLY)
        target = os.open("/run/netns/" + netns, os.O_RDONLY)
        try:
            _setns(target)
            try:
                return socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            finally:
                _setns(home)
        finally:
            os.close(target)
            os.close(home)


class PodConnection(http.client.HTTPConnection):
    """http.client's connection, from the pod's namespace."""

    def __init__(self, netns, address, port, timeout):
        super().__init__(address, port, timeout=timeout)
        self.netns = netns

    def connect(self):
        self.sock = pod_socket(self.netns)
        self.sock.settimeout(self.timeout)
        self.sock.connect((self.host, self.port))


def leftovers(tag):
    """What a run tagged `tag` ("mu<pid>") left on this host: namespaces, links, /etc/netns
    directories and FORWARD rules."""
    import subprocess
    found = [n for n in os.listdir("/run/netns") if n.startswith(tag + "-")] \
        if os.path.isdir("/run/netns") else []
    found += [n for n in os.listdir("/etc/netns") if n.startswith(tag + "-")] \
        if os.path.isdir("/etc/netns") else []
    links = subprocess.run(["ip", "-o", "link", "show"], capture_output=True, text=True).stdout
    for line in links.splitlines():
        name = line.split(":")[1].strip().split("@")[0]
        if name == tag or name.startswith(tag + "v"):
            found.append("link " + name)
    rules = subprocess.run(["iptables", "-w", "-S", "FORWARD"], capture_output=True,
                           text=True).stdout
    found += [r for r in rules.splitlines() if "mesh-up-%s" % tag in r]
    return found
