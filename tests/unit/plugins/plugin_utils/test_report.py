"""The verify report (plugins/plugin_utils/report.py) from recorded verify rows."""

from __future__ import annotations

import json
from xml.etree import ElementTree

from ansible_collections.redisops.redis.plugins.filter.verify_report import verify_report
from ansible_collections.redisops.redis.plugins.plugin_utils import report

REPLICA_EXPECTED = {"role": "replica", "master_host": "127.0.0.1", "master_port": 6379, "link_up": True,
                    "read_only": True, "replicas": [], "min_replicas": 0}
MASTER_EXPECTED = {"role": "master", "master_host": None, "master_port": None, "link_up": None, "read_only": None,
                   "replicas": [{"host": "127.0.0.1", "port": 6479}], "min_replicas": 1}
REPLICA_STATE = {"role": "replica", "master_host": "127.0.0.1", "master_port": 6379, "master_link_status": "up",
                 "master_last_io_seconds_ago": 1, "replica_repl_offset": 980, "master_repl_offset": 980,
                 "replica_read_only": True, "connected_replicas": 0, "replicas": [], "master_replid": "abc"}
MASTER_STATE = {"role": "master", "master_repl_offset": 1000, "connected_replicas": 1,
                "replicas": [{"ip": "127.0.0.1", "port": 6479, "state": "online", "offset": 980, "lag": 0}]}


def row(name, expected, live, mismatches=(), drift=(), checked=True, reason=None):
    return {"host": "localhost", "instance": name, "port": 6379 if name == "master" else 6479,
            "role": expected["role"], "ok": checked and not mismatches and not drift or (not checked and not drift),
            "mismatches": list(mismatches) + list(drift), "summary": "%s summary" % name, "expected": expected,
            "live": live, "server": {"name": "redis", "version": "7.0.15"}, "checked": checked,
            "check_mismatches": list(mismatches), "reason": reason, "drift": list(drift)}


def statuses(entry):
    return {check["name"]: check["status"] for check in entry["checks"]}


def test_a_converged_bed_passes_every_check():
    rows = {"localhost": [row("master", MASTER_EXPECTED, MASTER_STATE), row("replica", REPLICA_EXPECTED, REPLICA_STATE)]}
    built = report.build(rows, generated="2026-12-03T08:00:00Z")
    assert built["ok"] is True
    instances = built["hosts"]["localhost"]["instances"]
    assert statuses(instances["replica"]) == {"connection": "pass", "role": "pass", "master": "pass", "link": "pass",
                                              "read_only": "pass", "drift": "pass"}
    assert statuses(instances["master"]) == {"connection": "pass", "role": "pass", "replicas": "pass",
                                             "min_replicas": "pass", "drift": "pass"}
    assert instances["replica"]["expected"]["master"] == "127.0.0.1:6379"
    assert instances["replica"]["live"]["lag"] == 1 and instances["replica"]["live"]["replica_repl_offset"] == 980
    assert instances["master"]["live"]["replicas"] == [
        {"address": "127.0.0.1:6479", "state": "online", "lag": 0, "offset": 980, "offset_gap": 20}]
    assert "master_replid" not in instances["replica"]["live"]
    assert built["counts"] == {"hosts": 1, "instances": 2, "failed_instances": 0, "unchecked_hosts": 0, "checks": 11,
                               "failed_checks": 0, "skipped_checks": 0, "drift_items": 0}
    root = ElementTree.fromstring(report.junit(built))
    assert root.get("tests") == "11" and root.get("failures") == "0"
    assert root.find("testsuite").get("timestamp") == "2026-12-03T08:00:00Z"


def test_a_promoted_replica_fails_its_role_and_drift_and_skips_the_rest():
    promoted = dict(REPLICA_STATE, role="master", master_host=None, master_port=None)
    mismatch = "role: expected replica of 127.0.0.1:6379, found master"
    rows = {"localhost": [row("replica", REPLICA_EXPECTED, promoted, [mismatch], ["would run: REPLICAOF 127.0.0.1 6379"],
                              reason="replica: " + mismatch)]}
    built = report.build(rows)
    entry = built["hosts"]["localhost"]["instances"]["replica"]
    assert built["ok"] is False and entry["ok"] is False
    assert statuses(entry) == {"connection": "pass", "role": "fail", "master": "skip", "link": "skip",
                               "read_only": "skip", "drift": "fail"}
    assert entry["checks"][1]["reason"] == mismatch
    assert entry["drift"] == ["would run: REPLICAOF 127.0.0.1 6379"]
    xml = report.junit(built)
    root = ElementTree.fromstring(xml)
    failed = {case.get("name"): case.find("failure").get("message") for case in root.iter("testcase")
              if case.find("failure") is not None}
    assert failed == {"replica.role": "localhost:replica (port 6479) role: " + mismatch,
                      "replica.drift": "localhost:replica (port 6479) drift: would run: REPLICAOF 127.0.0.1 6379"}
    assert root.get("skipped") == "3"


def test_mismatches_go_to_their_check():
    mismatches = ["master_port: expected 6379, found 6380", "master_link_status: expected up, found down (down for 3s)",
                  "read_only: expected true, found false"]
    entry = report.build({"h": [row("replica", REPLICA_EXPECTED, REPLICA_STATE, mismatches)]})["hosts"]["h"]
    checks = {check["name"]: check for check in entry["instances"]["replica"]["checks"]}
    assert checks["master"]["reason"] == mismatches[0]
    assert checks["link"]["reason"] == mismatches[1]
    assert checks["read_only"]["status"] == "fail" and checks["role"]["status"] == "pass"
    lagging = ["lag of replica 127.0.0.1:6479: expected at most 1s, found 5s",
               "replicas: expected 127.0.0.1:6479 online, found wait_bgsave"]
    master = report.build({"h": [row("master", MASTER_EXPECTED, MASTER_STATE, lagging)]})["hosts"]["h"]
    assert statuses(master["instances"]["master"]) == {"connection": "pass", "role": "pass", "replicas": "fail",
                                                       "min_replicas": "pass", "lag": "fail", "drift": "pass"}


def test_an_instance_that_does_not_answer_fails_its_connection_check():
    down = row("replica", REPLICA_EXPECTED, None, ["cannot connect: Error 111 connecting to 127.0.0.1:6479."])
    entry = report.build({"h": [down]})["hosts"]["h"]["instances"]["replica"]
    assert entry["live"] is None
    assert entry["checks"][0] == {"name": "connection", "status": "fail",
                                  "reason": "cannot connect: Error 111 connecting to 127.0.0.1:6479."}
    assert [check["status"] for check in entry["checks"][1:-1]] == ["skip"] * 4
    refused = row("master", MASTER_EXPECTED, None, ["127.0.0.1:6379 refused the login of user 'default'"])
    assert statuses(report.build({"h": [refused]})["hosts"]["h"]["instances"]["master"])["connection"] == "fail"


def test_check_mode_skips_the_checks_but_not_the_drift():
    entry = report.build({"h": [row("replica", REPLICA_EXPECTED, None, checked=False)]})["hosts"]["h"]
    assert set(statuses(entry["instances"]["replica"]).values()) == {"skip", "pass"}
    assert statuses(entry["instances"]["replica"])["drift"] == "pass"


def test_unmanaged_instances_and_unchecked_hosts_fail():
    ghost = {"host": "h", "instance": "ghost", "port": None, "role": None, "ok": False,
             "mismatches": ["instance ghost runs (pid file /run/redis/redis-ghost.pid)"], "summary": "ghost DRIFT"}
    built = report.build({"h": [ghost]}, hosts=["h", "gone"])
    assert built["ok"] is False and built["counts"]["unchecked_hosts"] == 1
    assert built["hosts"]["gone"] == {"checked": False, "reason": report.UNCHECKED_HOST, "instances": {}}
    assert built["hosts"]["h"]["instances"]["ghost"]["checks"] == [
        {"name": "drift", "status": "fail", "reason": "instance ghost runs (pid file /run/redis/redis-ghost.pid)"}]
    root = ElementTree.fromstring(report.junit(built))
    names = [case.get("name") for case in root.iter("testcase")]
    assert names == ["ghost.drift", "gone.verify"]


def test_xml_escapes_what_the_reasons_contain():
    odd = row("replica", REPLICA_EXPECTED, REPLICA_STATE, ['master_host: expected <a&b>, found "c"'])
    root = ElementTree.fromstring(report.junit(report.build({"h": [odd]})))
    [case] = [case for case in root.iter("testcase") if case.find("failure") is not None]
    assert case.find("failure").get("message").endswith('master_host: expected <a&b>, found "c"')


def test_the_filter_reads_the_rows_from_hostvars():
    hostvars = {"a": {"redis_server_verify_summary": [row("replica", REPLICA_EXPECTED, REPLICA_STATE)]}, "b": {}}
    files = verify_report(hostvars, ["a", "b"], "now")
    assert files["ok"] is False
    parsed = json.loads(files["redis-verify.json"])
    assert parsed["generated"] == "now" and parsed["hosts"]["b"]["checked"] is False
    assert parsed["hosts"]["a"]["instances"]["replica"]["ok"] is True
    assert files["redis-verify.xml"].startswith('<?xml version="1.0"')
