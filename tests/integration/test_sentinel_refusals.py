"""The Sentinel preflight's refusals and warnings that tests/integration/test_sentinel.py does not
run, against real servers and Sentinels (issue 10's bad-input list): a quorum larger than the
number of Sentinels and a Sentinel port used twice on a host are refused before any host changes,
every running instance and Sentinel untouched (same run_id); a group whose Sentinels all run on
one host, or that has fewer than three, is a warning and the run goes on.

One bed for the file (test_sentinel's SentinelBed: a master, its replica and three Sentinels on
free loopback ports), deployed once by site.yml.
"""

from __future__ import annotations

import shutil

import pytest
import yaml

from harness import flat, recap, run_playbook, show
# A bed of this file's own (a module-scoped fixture is made once per module that holds it).
from test_sentinel import bed  # noqa: F401 pylint: disable=unused-import

pytestmark = pytest.mark.skipif(shutil.which("redis-sentinel") is None,
                                reason="redis-sentinel is not installed (apt-get install redis-sentinel)")

PREFLIGHT_ONLY = [{"name": "Sentinel preflight", "hosts": "redis_sentinel", "gather_facts": False,
                   "tasks": [{"name": "Validate", "ansible.builtin.include_role": {
                       "name": "redisops.redis.sentinel", "tasks_from": "preflight"}}]}]


def untouched(bed):
    return ({port: bed.run_id(port) for port in (bed.master_port, bed.replica_port)}, bed.sentinel_run_ids())


def test_three_sentinels_on_one_host_is_a_warning(bed):
    assert "Group 'master': all 3 Sentinels run on host 'localhost': losing that host loses them all" in flat(
        bed.first_run), show(bed.first_run)


def test_a_quorum_above_the_sentinels_and_a_port_used_twice_are_refused_before_any_change(bed):
    before = untouched(bed)
    sentinels = [{"name": name, "port": port} for name, port in bed.sentinels.items()]
    sentinels[1]["port"] = sentinels[0]["port"]
    monitors = [{"master": "localhost:master", "quorum": 4, "down_after_milliseconds": 1000}]
    proc = bed.site(inventory=bed.write_inventory(bed.path("bad-quorum.yml"), sentinels=sentinels, monitors=monitors))
    assert proc.returncode != 0, show(proc)
    output = flat(proc)
    for expected in (
            "redis_sentinel_monitors[0].quorum (group 'master'): 4 is larger than the 3 Sentinel(s) of the play",
            "set quorum between 1 and 3",
            "redis_sentinel_instances of host 'localhost' (Sentinel 's2'): port %d is used twice, also by Sentinel "
            "'s1'" % sentinels[0]["port"],
            "give each Sentinel of the host its own port"):
        assert expected in output, show(proc)
    assert "PLAY [Deploy and verify Redis replication]" not in proc.stdout, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert untouched(bed) == before


def test_fewer_than_three_sentinels_is_a_warning_not_a_refusal(bed):
    before = untouched(bed)
    playbook = bed.path("preflight.yml")
    with open(playbook, "w") as handle:
        yaml.safe_dump(PREFLIGHT_ONLY, handle)
    two = [{"name": name, "port": port} for name, port in list(bed.sentinels.items())[:2]]
    inventory = bed.write_inventory(bed.path("two.yml"), sentinels=two,
                                    monitors=[{"master": "localhost:master", "quorum": 2}])
    proc = run_playbook(playbook, inventory)
    assert proc.returncode == 0, show(proc)
    assert "Group 'master' has 2 Sentinel(s): fewer than 3 cannot survive the loss of one of them" in flat(proc), show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert untouched(bed) == before
