# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The verify report a CI system reads: pure, on the controller.

From the verify summary rows of every host of the play (``model.verify_rows``, collected as
``hostvars[HOST].redis_server_verify_summary``), ``build()`` makes the report written as
``redis-verify.json``: per host and instance the expected and the live role, master, link, lag and
offsets, every check with pass, fail or skip and its reason, every drift item. ``junit()`` renders
the same report as JUnit XML (``redis-verify.xml``): one test suite per host, one test case per
instance and check, a failure carrying the reason. A host of the play without rows (unreachable,
or failed before the verify step) is a failed test case of its own.

Nothing here reads a secret: the rows carry none (the check items' login options are left out by
``verify_rows``), and the report takes only the fields named below from them.
"""

from __future__ import annotations

import json

from xml.sax.saxutils import escape, quoteattr

FORMAT_VERSION = 1
PASS, FAIL, SKIP = "pass", "fail", "skip"

# The checks of an instance, in order, and the replication_check mismatch prefixes each owns
# (module_utils/replication.py compare()).
CHECKS = (
    ("role", ("role:",)),
    ("master", ("master_host:", "master_port:")),
    ("link", ("master_link_status:",)),
    ("read_only", ("read_only:",)),
    ("replicas", ("replicas:",)),
    ("min_replicas", ("min_replicas:",)),
    ("lag", ("lag of replica",)),
    ("offset_gap", ("offset gap of replica",)),
)
LIVE_KEYS = ("role", "master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
             "master_link_down_since_seconds", "master_sync_in_progress", "replica_read_only",
             "replica_repl_offset", "master_repl_offset", "connected_replicas")
JSON_FILE, XML_FILE = "redis-verify.json", "redis-verify.xml"
UNCHECKED_HOST = "not checked: the host was unreachable or failed before the verify step"


def _applies(name, expected):
    """Whether check name applies to an instance with the expected state."""
    replica = expected.get("role") == "replica"
    if name in ("master", "link"):
        return replica
    if name == "read_only":
        return replica and expected.get("read_only") is not None
    if name == "replicas":
        return bool(expected.get("replicas"))
    if name == "min_replicas":
        return bool(expected.get("min_replicas"))
    if name in ("lag", "offset_gap"):
        return False
    return True


def _owner(mismatch):
    for name, prefixes in CHECKS:
        if any(mismatch.startswith(prefix) for prefix in prefixes):
            return name
    return "connection"


def checks(row):
    """The checks of one instance row: [{name, status, reason}], status pass, fail or skip.

    connection: the instance answered (a refused login or a server that does not answer fails it,
    and the replication checks are skipped); role; master, link and read_only for a replica;
    replicas and min_replicas for an instance with replicas; lag and offset_gap when a mismatch names
    them; drift: the files, pending restarts and live settings that differ from the inventory.
    """
    expected = row.get("expected") or {}
    found = {}
    for mismatch in row.get("check_mismatches") or []:
        found.setdefault(_owner(mismatch), []).append(mismatch)
    result = []

    def add(name, status, reason=None):
        result.append({"name": name, "status": status, "reason": reason})

    if not row.get("checked", True):
        reason = "check mode predicts changes in the play"
        add("connection", SKIP, reason)
        for name, _prefixes in CHECKS:
            if _applies(name, expected):
                add(name, SKIP, reason)
    elif "connection" in found or row.get("live") is None and found:
        add("connection", FAIL, "; ".join(found.pop("connection", None) or [row.get("reason") or "no answer"]))
        for name, _prefixes in CHECKS:
            if _applies(name, expected) or name in found:
                add(name, SKIP, "the instance did not answer")
    else:
        add("connection", PASS)
        role_differs = "role" in found
        for name, _prefixes in CHECKS:
            if name in found:
                add(name, FAIL, "; ".join(found[name]))
            elif not _applies(name, expected):
                continue
            elif role_differs:
                add(name, SKIP, "the role differs")
            else:
                add(name, PASS)
    drift = row.get("drift") or []
    add("drift", FAIL if drift else PASS, "; ".join(drift) if drift else None)
    return result


def _master(host, port):
    return None if host is None else "%s:%s" % (host, port)


def _live(state):
    """The live fields of the report, from the normalised state (None: not read)."""
    if not state:
        return None
    live = {key: state.get(key) for key in LIVE_KEYS}
    live["master"] = _master(state.get("master_host"), state.get("master_port"))
    # A replica's lag: seconds since its last interaction with its master; its offset gap: how far
    # its processed offset is behind what its master sent (both as the replica sees them).
    live["lag"] = state.get("master_last_io_seconds_ago") if state.get("role") == "replica" else None
    replicas = []
    for replica in state.get("replicas") or []:
        offset, top = replica.get("offset"), state.get("master_repl_offset")
        replicas.append({"address": "%s:%s" % (replica.get("ip"), replica.get("port")), "state": replica.get("state"),
                         "lag": replica.get("lag"), "offset": offset,
                         "offset_gap": None if offset is None or top is None else top - offset})
    live["replicas"] = replicas
    return live


def _expected(expected):
    if not expected:
        return None
    return {"role": expected.get("role"), "master": _master(expected.get("master_host"), expected.get("master_port")),
            "link_up": expected.get("link_up"), "read_only": expected.get("read_only"),
            "replicas": ["%s:%s" % (replica.get("host"), replica.get("port")) for replica in expected.get("replicas") or []],
            "min_replicas": expected.get("min_replicas")}


def _instance(row):
    unmanaged = row.get("expected") is None and row.get("role") is None
    entry = {"instance": row.get("instance"), "port": row.get("port"), "ok": bool(row.get("ok")),
             "summary": row.get("summary"), "expected": _expected(row.get("expected")), "live": _live(row.get("live")),
             "server": row.get("server"), "reason": row.get("reason"), "drift": list(row.get("drift") or [])}
    if unmanaged:
        # An instance the host runs that the inventory does not: drift of its own.
        entry["drift"] = list(row.get("mismatches") or [])
        entry["checks"] = [{"name": "drift", "status": FAIL, "reason": "; ".join(entry["drift"])}]
        entry["reason"] = entry["checks"][0]["reason"]
    else:
        entry["checks"] = checks(row)
    return entry


def build(rows_by_host, hosts=None, generated=None):
    """The report: {format, generated, ok, counts, hosts: {HOST: {checked, reason, instances: {NAME: ...}}}}.

    rows_by_host: {HOST: its verify rows, or None when it has none}; hosts: every host of the play in
    order (default: the keys of rows_by_host), a host missing from rows_by_host counts as unchecked;
    generated: a timestamp text for the report (the caller's clock).
    """
    hosts = list(hosts if hosts is not None else rows_by_host)
    report = {"format": FORMAT_VERSION, "generated": generated, "ok": True, "hosts": {},
              "counts": {"hosts": len(hosts), "instances": 0, "failed_instances": 0, "unchecked_hosts": 0,
                         "checks": 0, "failed_checks": 0, "skipped_checks": 0, "drift_items": 0}}
    counts = report["counts"]
    for host in hosts:
        rows = (rows_by_host or {}).get(host)
        if rows is None:
            report["hosts"][host] = {"checked": False, "reason": UNCHECKED_HOST, "instances": {}}
            counts["unchecked_hosts"] += 1
            report["ok"] = False
            continue
        instances = {}
        for row in rows:
            entry = _instance(row)
            instances[entry["instance"]] = entry
            counts["instances"] += 1
            counts["drift_items"] += len(entry["drift"])
            for check in entry["checks"]:
                counts["checks"] += 1
                counts["failed_checks"] += check["status"] == FAIL
                counts["skipped_checks"] += check["status"] == SKIP
            if not entry["ok"]:
                counts["failed_instances"] += 1
                report["ok"] = False
        report["hosts"][host] = {"checked": True, "reason": None, "instances": instances}
    return report


def _case(classname, name, failure=None, skipped=None, detail=None):
    text = "    <testcase classname=%s name=%s time=\"0\">" % (quoteattr(classname), quoteattr(name))
    if failure is not None:
        text += "\n      <failure message=%s type=\"redis-verify\">%s</failure>\n    " % (
            quoteattr(failure), escape(detail or failure))
    elif skipped is not None:
        text += "\n      <skipped message=%s/>\n    " % quoteattr(skipped)
    if detail and failure is None:
        text += "\n      <system-out>%s</system-out>\n    " % escape(detail)
    return text + "</testcase>"


def junit(report):
    """The report as JUnit XML: a test suite per host, a test case per instance and check, named
    INSTANCE.CHECK (classname HOST.INSTANCE); a failure's message is the reason. An unchecked host
    is one failed test case named after it."""
    suites = []
    totals = {"tests": 0, "failures": 0, "skipped": 0}
    for host, entry in report["hosts"].items():
        cases = []
        if not entry["checked"]:
            cases.append(_case(host, "%s.verify" % host, failure="%s: %s" % (host, entry["reason"])))
        for name, instance in entry["instances"].items():
            where = "%s:%s" % (host, name) if instance["port"] is None else "%s:%s (port %s)" % (
                host, name, instance["port"])
            for check in instance["checks"]:
                if check["status"] == FAIL:
                    cases.append(_case("%s.%s" % (host, name), "%s.%s" % (name, check["name"]),
                                       failure="%s %s: %s" % (where, check["name"], check["reason"]),
                                       detail=instance["summary"]))
                elif check["status"] == SKIP:
                    cases.append(_case("%s.%s" % (host, name), "%s.%s" % (name, check["name"]),
                                       skipped=check["reason"] or ""))
                else:
                    cases.append(_case("%s.%s" % (host, name), "%s.%s" % (name, check["name"]),
                                       detail=instance["summary"]))
        failures = sum("<failure " in case for case in cases)
        skipped = sum("<skipped " in case for case in cases)
        totals["tests"] += len(cases)
        totals["failures"] += failures
        totals["skipped"] += skipped
        suites.append("  <testsuite name=%s tests=\"%d\" failures=\"%d\" errors=\"0\" skipped=\"%d\"%s>\n%s\n  "
                      "</testsuite>" % (quoteattr("redis-verify %s" % host), len(cases), failures, skipped,
                                        "" if not report.get("generated") else " timestamp=%s"
                                        % quoteattr(report["generated"]), "\n".join(cases)))
    return ('<?xml version="1.0" encoding="UTF-8"?>\n<testsuites name="redis-verify" tests="%d" failures="%d" '
            'errors="0" skipped="%d">\n%s\n</testsuites>\n'
            % (totals["tests"], totals["failures"], totals["skipped"], "\n".join(suites)))


def report_files(rows_by_host, hosts=None, generated=None):
    """{"redis-verify.json": text, "redis-verify.xml": text, "ok": bool}: the two files of the report."""
    report = build(rows_by_host, hosts, generated)
    return {JSON_FILE: json.dumps(report, indent=2) + "\n", XML_FILE: junit(report), "ok": report["ok"]}
