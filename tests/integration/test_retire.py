"""Retiring instances (state: absent) and reporting the ones the inventory does not run, with
site.yml and playbooks/verify.yml against real instances (process service manager).

The tests share one bed (a master and three replicas) and run in order: each retires one more.
"""

from __future__ import annotations

import os

import pytest
import redis

from harness import Bed, recap, run_playbook, show


@pytest.fixture(scope="module")
def bed():
    bed = Bed(replicas=("replica", "old", "gone"), prefix="redisops-retire-")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    bed.client(bed.master_port).mset({"key:%d" % n: n for n in range(50)})
    yield bed
    bed.stop_all()


def retired(bed, *names, data=None):
    """The bed's instance list with the named instances set to state: absent."""
    instances = []
    for item in bed.instances:
        if item["name"] in names:
            item = dict(item, state="absent", **({"data": data[item["name"]]} if data and item["name"] in data else {}))
        instances.append(item)
    return instances


def answers(bed, name):
    try:
        return bed.client(bed.ports[name], socket_timeout=2).ping()
    except redis.ConnectionError:
        return False


def files_of(bed, name):
    return [path for path in (bed.path("etc", "redis-%s.conf" % name), bed.path("etc", "redis-%s.live.conf" % name))
            if os.path.exists(path)]


def test_retire_a_replica_stops_it_removes_its_files_and_keeps_its_data(bed):
    inventory = bed.variant("retire-old", instances=retired(bed, "old"))
    bed.client(bed.ports["old"]).save()

    proc = bed.site("--check", "--diff", inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)
    assert answers(bed, "old") and len(files_of(bed, "old")) == 2

    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert not answers(bed, "old")
    assert not os.path.exists(bed.path("run", "redis-old.pid"))
    assert files_of(bed, "old") == []
    assert os.path.exists(bed.path("data", "old", "dump.rdb"))
    master = bed.client(bed.master_port).info("replication")
    assert master["connected_slaves"] == 2, master
    assert bed.client(bed.ports["replica"]).get("key:49") == "49"

    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
    proc = bed.site("--check", inventory=inventory)
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
    proc = run_playbook("playbooks/verify.yml", inventory)
    assert proc.returncode == 0, show(proc)


def test_retire_with_data_remove_removes_the_data_directory(bed):
    inventory = bed.variant("retire-gone", instances=retired(bed, "old", "gone", data={"gone": "remove"}))
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert not answers(bed, "gone")
    assert files_of(bed, "gone") == []
    assert not os.path.exists(bed.path("data", "gone"))
    assert os.path.exists(bed.path("data", "old"))
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)


def test_retiring_a_master_that_a_replica_follows_is_refused_before_anything_changes(bed):
    inventory = bed.variant("retire-master", instances=retired(bed, "old", "gone", "master"))
    run_id = bed.run_id(bed.master_port)
    proc = bed.site(inventory=inventory)
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    text = " ".join(proc.stdout.split())
    assert "instance 'master' is to be retired (state: absent) but localhost:replica replicate(s) from it" in text, show(proc)
    assert "Fix: re-point them first" in text, show(proc)
    assert bed.run_id(bed.master_port) == run_id
    assert len(files_of(bed, "master")) == 2


def test_an_instance_missing_from_the_inventory_is_reported_by_verify_and_the_plan(bed):
    # "replica" dropped from the inventory (not retired): it keeps running and serving its data.
    instances = [item for item in retired(bed, "old", "gone") if item["name"] != "replica"]
    inventory = bed.variant("forgotten", instances=instances)
    expected = "instance replica runs but is not in the inventory (configuration file %s" % bed.path(
        "etc", "redis-replica.conf")

    proc = run_playbook("playbooks/verify.yml", inventory)
    assert proc.returncode != 0, show(proc)
    text = " ".join(proc.stdout.split())
    assert expected in text and "set state: absent to retire it" in text, show(proc)

    proc = bed.site("--check", "--diff", inventory=inventory)
    assert expected in " ".join(proc.stdout.split()), show(proc)
    assert answers(bed, "replica")

    # The inventory that knows it: nothing to report.
    proc = run_playbook("playbooks/verify.yml", bed.variant("known", instances=retired(bed, "old", "gone")))
    assert proc.returncode == 0, show(proc)
