"""Tag selections of site.yml against a real bed (process service manager, free loopback ports):
each phase tag alone on a converged bed, and every selection after playbooks/failover.yml
promoted the replica while the inventory still says the opposite.

The tests of this file share one bed and run in order: converged first, then the failover, then
what no tag selection may do after it.
"""

from __future__ import annotations

import glob

import pytest

from harness import Bed, recap, show

PHASES = ["redis_server_install", "redis_server_configure", "redis_server_service",
          "redis_server_replication", "redis_server_verify"]
TAGS = ["redis_server_preflight"] + PHASES
SELECTIONS = [("--tags", tag) for tag in TAGS] + [("--skip-tags", tag) for tag in TAGS]


def flat(proc):
    return " ".join((proc.stdout + proc.stderr).split()).replace("''", "'")


def files(bed):
    """Every file the role wrote, by path, as bytes."""
    found = {}
    for path in sorted(glob.glob(bed.path("etc", "*"))):
        with open(path, "rb") as handle:
            found[path] = handle.read()
    return found


def state(bed):
    """What a run must leave alone: files, processes (run_id) and each instance's role."""
    roles = {name: bed.client(port).info("replication")["role"] for name, port in bed.ports.items()}
    return files(bed), {name: bed.run_id(port) for name, port in bed.ports.items()}, roles


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-tags-")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    yield bed
    bed.stop_all()


@pytest.mark.parametrize("tag", TAGS)
def test_each_tag_alone_on_a_converged_bed_succeeds_and_changes_nothing(bed, tag):
    before = state(bed)
    proc = bed.site("--tags", tag)
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert state(bed) == before


def test_the_verify_tag_alone_checks_the_replication(bed):
    proc = bed.site("--tags", "redis_server_verify")
    assert "replica 127.0.0.1:%d role=replica master=127.0.0.1:%d link=up" % (bed.replica_port, bed.master_port) \
        in proc.stdout, show(proc)


def test_skipping_always_stops_before_any_phase_with_the_reason(bed):
    before = state(bed)
    proc = bed.site("--skip-tags", "always")
    assert proc.returncode != 0, show(proc)
    out = flat(proc)
    assert "--skip-tags always skips them" in out and "Nothing was changed" in out, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert state(bed) == before


@pytest.fixture(scope="module")
def failed_over(bed):
    """playbooks/failover.yml promotes the replica; the inventory is not updated."""
    proc = bed.playbook("playbooks/failover.yml", "-e", "redis_failover_target=localhost:replica")
    assert proc.returncode == 0, show(proc)
    assert bed.client(bed.replica_port).info("replication")["role"] == "master"
    return bed


@pytest.mark.parametrize("selection", SELECTIONS, ids=" ".join)
def test_after_a_failover_every_tag_selection_stops_at_the_guard_and_changes_nothing(failed_over, selection):
    bed = failed_over
    before = state(bed)
    proc = bed.site(*selection)
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = flat(proc)
    assert "Instance 'replica' of host 'localhost' (127.0.0.1:%d) is a master now" % bed.replica_port in out, show(proc)
    assert "Nothing was changed" in out, show(proc)
    assert state(bed) == before
