"""The verify report a CI reads (-e redis_report_dir=DIR) on real servers: playbooks/verify.yml and
the verify step of site.yml write DIR/redis-verify.json and DIR/redis-verify.xml (JUnit) on the
controller, name the instance that differs and why, and carry no secret.

The tests share one deployed bed and run in order: converged, drifted by hand, repaired.
"""

from __future__ import annotations

import json
import os
import signal
from xml.etree import ElementTree

import pytest

from harness import PASSWORD, Bed, show, wait_until


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-report-")
    yield bed
    bed.stop_all()


def answers(bed, port):
    try:
        return bed.client(port, socket_timeout=1).ping()
    except Exception:  # pylint: disable=broad-except
        return False


def read_report(directory):
    with open(os.path.join(directory, "redis-verify.json"), encoding="utf-8") as handle:
        text = handle.read()
    with open(os.path.join(directory, "redis-verify.xml"), encoding="utf-8") as handle:
        xml = handle.read()
    return json.loads(text), text, xml


def assert_no_secret(*texts):
    for text in texts:
        for form in (PASSWORD, json.dumps(PASSWORD)[1:-1], "s3cret"):
            assert form not in text


def failures(xml):
    root = ElementTree.fromstring(xml)
    return {case.get("name"): case.find("failure").get("message")
            for case in root.iter("testcase") if case.find("failure") is not None}


@pytest.fixture(scope="module")
def deployed(bed):
    directory = bed.path("site-report")
    proc = bed.site("-e", "redis_report_dir=" + directory)
    assert proc.returncode == 0, show(proc)
    return directory


def test_site_writes_the_report_of_its_verify_step(bed, deployed):
    report, text, xml = read_report(deployed)
    assert report["ok"] is True
    assert set(report["hosts"]["localhost"]["instances"]) == {"master", "replica"}
    assert failures(xml) == {}
    assert_no_secret(text, xml)


def test_verify_writes_both_files_and_exits_0_when_converged(bed, deployed, tmp_path):
    proc = bed.playbook("playbooks/verify.yml", "-e", "redis_report_dir=%s" % tmp_path)
    assert proc.returncode == 0, show(proc)
    report, text, xml = read_report(str(tmp_path))
    assert report["ok"] is True and report["counts"]["failed_checks"] == 0
    replica = report["hosts"]["localhost"]["instances"]["replica"]
    assert replica["expected"]["role"] == "replica"
    assert replica["expected"]["master"] == "127.0.0.1:%d" % bed.master_port
    assert replica["live"]["role"] == "replica" and replica["live"]["master_link_status"] == "up"
    assert replica["live"]["master"] == "127.0.0.1:%d" % bed.master_port
    assert isinstance(replica["live"]["replica_repl_offset"], int)
    assert {check["name"]: check["status"] for check in replica["checks"]} == {
        "connection": "pass", "role": "pass", "master": "pass", "link": "pass", "read_only": "pass", "drift": "pass"}
    master = report["hosts"]["localhost"]["instances"]["master"]
    [link] = master["live"]["replicas"]
    assert link["address"] == "127.0.0.1:%d" % bed.replica_port and link["state"] == "online"
    assert isinstance(link["offset_gap"], int) and isinstance(link["lag"], int)
    root = ElementTree.fromstring(xml)
    names = [case.get("name") for case in root.iter("testcase")]
    assert "replica.role" in names and "master.replicas" in names
    assert root.get("failures") == "0"
    assert_no_secret(text, xml, proc.stdout)


def test_a_replica_made_master_by_hand_fails_verify_and_both_files_say_why(bed, deployed, tmp_path):
    bed.client(bed.replica_port).execute_command("REPLICAOF", "NO", "ONE")
    wait_until(lambda: bed.client(bed.replica_port).info("replication")["role"] == "master", what="replica promoted")
    proc = bed.playbook("playbooks/verify.yml", "-e", "redis_report_dir=%s" % tmp_path,
                        "-e", "redis_server_verify_timeout=1")
    assert proc.returncode != 0, show(proc)
    report, text, xml = read_report(str(tmp_path))
    assert report["ok"] is False
    replica = report["hosts"]["localhost"]["instances"]["replica"]
    assert replica["ok"] is False and replica["live"]["role"] == "master"
    status = {check["name"]: check for check in replica["checks"]}
    assert status["role"]["status"] == "fail"
    assert status["role"]["reason"].startswith(
        "role: expected replica of 127.0.0.1:%d, found master" % bed.master_port)
    assert status["drift"]["status"] == "fail"
    assert "would run: REPLICAOF 127.0.0.1 %d" % bed.master_port in replica["drift"]
    found = failures(xml)
    assert "role: expected replica of 127.0.0.1:%d, found master" % bed.master_port in found["replica.role"]
    assert found["replica.role"].startswith("localhost:replica (port %d)" % bed.replica_port)
    assert "REPLICAOF" in found["replica.drift"]
    assert_no_secret(text, xml, proc.stdout)


def test_site_repairs_and_verify_passes_again(bed, deployed, tmp_path):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    proc = bed.playbook("playbooks/verify.yml", "-e", "redis_report_dir=%s" % tmp_path)
    assert proc.returncode == 0, show(proc)
    report, _text, xml = read_report(str(tmp_path))
    assert report["ok"] is True and failures(xml) == {}


def test_an_instance_that_does_not_answer_fails_the_report(bed, deployed, tmp_path):
    with open(bed.path("run", "redis-replica.pid")) as handle:
        os.kill(int(handle.read().strip()), signal.SIGKILL)
    wait_until(lambda: not answers(bed, bed.replica_port), what="replica down")
    proc = bed.playbook("playbooks/verify.yml", "-e", "redis_report_dir=%s" % tmp_path,
                        "-e", "redis_server_verify_timeout=1")
    assert proc.returncode != 0, show(proc)
    assert os.path.exists(os.path.join(str(tmp_path), "redis-verify.json")), show(proc)
    report, _text, xml = read_report(str(tmp_path))
    replica = report["hosts"]["localhost"]["instances"]["replica"]
    assert replica["ok"] is False and replica["live"] is None
    assert replica["checks"][0]["name"] == "connection" and replica["checks"][0]["status"] == "fail"
    assert "cannot connect" in replica["checks"][0]["reason"]
    assert "replica.connection" in failures(xml)
