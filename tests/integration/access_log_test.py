"""Access log lines, text (Envoy's default format, which Istio users' log parsers expect) and
JSON (Istio's encoding): a success, a route miss (NR), a circuit-breaker overflow (UO), an
upstream connect failure without retries (UF) and with retries exhausted (UF,URX). Each
text line is parsed with a regular expression built from the documented format, each JSON
line with json.loads, and the fields are checked against what the client did."""
import json
import os
import re
import threading
import time
import unittest

from meshtest import main
from proxy_http_test import ProxyCase, cluster, free_port, reply, snapshot

# Envoy's default format, one group per operator, in order.
TEXT = re.compile(
    r'^\[(?P<start_time>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z)\] '
    r'"(?P<method>\S+) (?P<path>\S+) (?P<protocol>\S+)" '
    r'(?P<response_code>\d+) (?P<response_flags>\S+) (?P<response_code_details>\S+) '
    r'(?P<connection_termination_details>\S+) "(?P<upstream_transport_failure_reason>[^"]*)" '
    r'(?P<bytes_received>\d+) (?P<bytes_sent>\d+) (?P<duration>\d+) '
    r'(?P<upstream_service_time>\S+) "(?P<x_forwarded_for>[^"]*)" "(?P<user_agent>[^"]*)" '
    r'"(?P<request_id>[^"]*)" "(?P<authority>[^"]*)" "(?P<upstream_host>[^"]*)" '
    r'(?P<upstream_cluster>\S+) (?P<upstream_local_address>\S+) '
    r'(?P<downstream_local_address>\S+) (?P<downstream_remote_address>\S+) '
    r'(?P<requested_server_name>\S+) (?P<route_name>\S+)$')

JSON_KEYS = ["start_time", "method", "path", "protocol", "response_code", "response_flags",
             "response_code_details", "connection_termination_details",
             "upstream_transport_failure_reason", "bytes_received", "bytes_sent", "duration",
             "upstream_service_time", "x_forwarded_for", "user_agent", "request_id",
             "authority", "upstream_host", "upstream_cluster", "upstream_local_address",
             "downstream_local_address", "downstream_remote_address", "requested_server_name",
             "route_name"]


class AccessLog(ProxyCase):
    def run_scenario(self, fmt):
        """Runs the five requests through one proxy; returns {request id: log record}."""
        ok = self.upstream("ok", lambda h: (time.sleep(0.05), reply(h, 200, b"fine\n"))[1])
        slow = self.upstream("slow", lambda h: (time.sleep(1), reply(h, 200, b"ok"))[1])
        dead = free_port()
        routes = [
            {"name": "ok-route", "match": [{"uri": {"kind": "prefix", "value": "/ok"}}],
             "route": [{"cluster": "ok"}]},
            {"match": [{"uri": {"kind": "prefix", "value": "/slow"}}],
             "route": [{"cluster": "slow"}], "retries": {"attempts": 0}},
            {"match": [{"uri": {"kind": "prefix", "value": "/dead-once"}}],
             "route": [{"cluster": "dead"}], "retries": {"attempts": 0}},
            {"match": [{"uri": {"kind": "prefix", "value": "/dead"}}],
             "route": [{"cluster": "dead"}]},
        ]
        clusters = [cluster("ok", ok.port), cluster("dead", dead),
                    cluster("slow", slow.port, pool={"maxConnections": 1, "maxPendingRequests": 1})]
        # One worker: the overflow below needs the four requests in one pool (with two, one
        # may wait behind the other worker's idle connection; docs/proxy.md, --concurrency).
        p = self.proxy(snapshot(routes, clusters), "--access-log-format", fmt, concurrency=1)
        ua = {"User-Agent": "logtest/1.0"}
        resp, body = p.request(path="/ok?x=1", headers={"x-request-id": "id-ok", **ua},
                               body=b"12345")
        self.assertEqual((resp.status, body), (200, b"fine\n"))
        resp, _ = p.request(path="/nothing", host="nowhere", headers={"x-request-id": "id-nr"})
        self.assertEqual(resp.status, 404)
        resp, _ = p.request(path="/dead-once", headers={"x-request-id": "id-uf"})
        self.assertEqual(resp.status, 503)
        resp, _ = p.request(path="/dead", headers={"x-request-id": "id-urx"})
        self.assertEqual(resp.status, 503)
        statuses = {}

        def call(i):
            # Only the overflow answers matter here; the others are given 3 s.
            try:
                r, _ = p.request(path="/slow", headers={"x-request-id": f"id-slow-{i}"},
                                 timeout=3)
                statuses[f"id-slow-{i}"] = r.status
            except OSError:
                statuses[f"id-slow-{i}"] = None

        threads = [threading.Thread(target=call, args=(i,)) for i in range(4)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        self.assertIn(503, statuses.values())
        records = {}
        deadline = time.time() + 5
        while time.time() < deadline:
            with open(p.access) as f:
                lines = f.read().splitlines()
            if len(lines) >= 8:
                break
            time.sleep(0.05)
        self.assertEqual(len(lines), 8, lines)
        for line in lines:
            if fmt == "text":
                m = TEXT.match(line)
                self.assertIsNotNone(m, "line does not match the format: " + line)
                rec = {k: (None if v == "-" else v) for k, v in m.groupdict().items()}
                for k in ("response_code", "bytes_received", "bytes_sent", "duration"):
                    rec[k] = int(rec[k])
                rec["response_flags"] = rec["response_flags"] or "-"
            else:
                rec = json.loads(line)
                self.assertEqual(list(rec), JSON_KEYS)
            records[rec["request_id"]] = rec
        return records, ok, dead, statuses

    def check(self, fmt):
        records, ok, dead, statuses = self.run_scenario(fmt)
        r = records["id-ok"]
        self.assertEqual(r["method"], "GET")
        self.assertEqual(r["path"], "/ok?x=1")
        self.assertEqual(r["protocol"], "HTTP/1.1")
        self.assertEqual(r["response_code"], 200)
        self.assertEqual(r["response_flags"], "-")
        self.assertEqual(r["response_code_details"], "via_upstream")
        self.assertEqual(r["upstream_host"], f"127.0.0.1:{ok.port}")
        self.assertEqual(r["upstream_cluster"], "ok")
        self.assertEqual(r["route_name"], "ok-route")
        self.assertEqual(r["user_agent"], "logtest/1.0")
        self.assertEqual(r["authority"], "svc")
        self.assertEqual(r["x_forwarded_for"], "127.0.0.1")
        self.assertTrue(r["downstream_remote_address"].startswith("127.0.0.1:"))
        self.assertEqual((r["bytes_received"], r["bytes_sent"]), (5, 5))
        self.assertGreaterEqual(r["duration"], 50)  # the app takes 50 ms
        self.assertLess(r["duration"], 2000)
        self.assertGreaterEqual(int(r["upstream_service_time"]), 50)
        self.assertLessEqual(int(r["upstream_service_time"]), r["duration"])
        self.assertRegex(r["start_time"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")

        r = records["id-nr"]
        self.assertEqual((r["response_code"], r["response_flags"]), (404, "NR"))
        self.assertEqual(r["response_code_details"], "route_not_found")
        self.assertIsNone(r["upstream_host"])
        self.assertIsNone(r["upstream_cluster"])
        self.assertIsNone(r["upstream_service_time"])
        self.assertIsNone(r["upstream_transport_failure_reason"])

        r = records["id-uf"]
        self.assertEqual((r["response_code"], r["response_flags"]), (503, "UF"))
        self.assertEqual(r["response_code_details"],
                         "upstream_reset_before_response_started{connection_failure}")
        self.assertEqual(r["upstream_host"], f"127.0.0.1:{dead}")
        self.assertIn("refused", r["upstream_transport_failure_reason"].lower())

        r = records["id-urx"]
        self.assertEqual((r["response_code"], r["response_flags"]), (503, "UF,URX"))
        self.assertEqual(r["upstream_cluster"], "dead")
        self.assertEqual(r["response_code_details"],
                         "upstream_reset_before_response_started{connection_failure}")

        uo = [records[i] for i, s in statuses.items() if s == 503]
        self.assertTrue(uo)
        for r in uo:
            self.assertEqual(r["response_flags"], "UO")
            self.assertEqual(r["response_code_details"],
                             "upstream_reset_before_response_started{overflow}")
            self.assertEqual(r["upstream_cluster"], "slow")
        for i, s in statuses.items():
            if s == 200:
                self.assertGreaterEqual(records[i]["duration"], 1000)

    def test_text_lines_follow_envoys_default_format(self):
        self.check("text")

    def test_json_lines_have_istios_keys(self):
        self.check("json")


if __name__ == "__main__":
    main()
