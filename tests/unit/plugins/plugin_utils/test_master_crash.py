"""Whether a master that is down may start (plugins/plugin_utils/master_crash.py).

The replicas' states are parsed from recorded INFO (a replica of Redis 7.0 whose master stopped);
the data files are what rdb_info returns for the recorded RDB files.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.replication import parse_info, replication_state
from ansible_collections.redisops.redis.plugins.plugin_utils.master_crash import master_crash_check
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import server_instances

INFO = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures", "info")
GROUP = {
    "redis-1": {"ansible_host": "10.0.0.11", "redis_server_password": "pw"},
    "redis-2": {"ansible_host": "10.0.0.12", "redis_server_password": "pw",
                "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "redis-1"}]},
    "redis-3": {"ansible_host": "10.0.0.13", "redis_server_password": "pw",
                "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "redis-1"}]},
}


def master():
    return server_instances(GROUP, "redis-1", list(GROUP), secrets=False)


def replica_down_state(replid, offset):
    """A replica of Redis 7.0 whose master is down (recorded), at the given id and offset."""
    with open(os.path.join(INFO, "redis-7.0-replica-master-down.txt")) as handle:
        state = replication_state(parse_info(handle.read()))
    assert state["role"] == "replica" and state["master_link_status"] == "down"
    state.update(master_replid=replid, replica_repl_offset=offset, master_port=6379)
    return state


def live(**offsets):
    """Inventory host -> replication_info results, each replica at (replid, offset); None = not running."""
    result = {}
    for host, value in offsets.items():
        host = host.replace("_", "-")
        if value is None:
            result[host] = [{"instance": "main", "error": "Cannot connect to 127.0.0.1:6379: Connection refused."}]
        else:
            result[host] = [{"instance": "main", "replication": replica_down_state(*value)}]
    return result


def data_file(repl_id="A" * 40, repl_offset=1000, exists=True, **extra):
    item = {"name": "main", "path": "/var/lib/redis/main/dump.rdb", "exists": exists}
    if exists:
        item.update(repl_id=repl_id, repl_offset=repl_offset, **extra)
    return [item]


@pytest.mark.parametrize("replicas", [
    dict(redis_2=("A" * 40, 1000), redis_3=("A" * 40, 900)),   # equal (a clean stop) and behind
    dict(redis_2=None, redis_3=None),                           # no replica runs: nothing to compare
    dict(redis_2=("A" * 40, 0), redis_3=None),                  # a replica that holds nothing from it
])
def test_the_master_may_start(replicas):
    assert master_crash_check(master(), "redis-1", data_file(), live(**replicas)) == []


def test_a_replica_ahead_is_named_with_the_most_up_to_date_and_the_fix():
    findings = master_crash_check(master(), "redis-1", data_file(),
                                  live(redis_2=("A" * 40, 5000), redis_3=("A" * 40, 7000)))
    assert len(findings) == 1
    finding = findings[0]
    assert finding["master"] == "redis-1:main"
    assert finding["most_up_to_date"] == "redis-3:main"
    assert [item["label"] for item in finding["replicas_ahead"]] == ["redis-2:main", "redis-3:main"]
    message = finding["message"]
    assert message.startswith("Master 'redis-1:main' (127.0.0.1:6379) is not running")
    assert "replica 'redis-2:main' (10.0.0.12:6379) at offset 5000 of replication id %s" % ("A" * 40) in message
    assert "/var/lib/redis/main/dump.rdb is at offset 1000, 6000 byte(s) behind" in message
    assert "The most up-to-date replica is 'redis-3:main' (offset 7000)" in message
    assert ("playbooks/failover.yml -e redis_failover_target=redis-3:main -e redis_failover_unplanned=true"
            in message)
    assert "redis_server_force_topology=true" in message
    assert "Nothing was changed." in message


@pytest.mark.parametrize("files, words", [
    (data_file(exists=False), "the master has no data file (/var/lib/redis/main/dump.rdb)"),
    (data_file(repl_id=None, repl_offset=None), "stores no replication offset"),
    (data_file(repl_id="B" * 40), "is at offset 1000 of replication id %s, the replica follows id %s" % ("B" * 40, "A" * 40)),
    ([{"name": "main", "path": "/x", "exists": True, "error": "Permission denied"}], "cannot be read (Permission denied)"),
    ([], "cannot be read (it was not read)"),
])
def test_what_the_data_file_cannot_prove_counts_as_behind(files, words):
    findings = master_crash_check(master(), "redis-1", files, live(redis_2=("A" * 40, 10), redis_3=None))
    assert [item["label"] for item in findings[0]["replicas_ahead"]] == ["redis-2:main"]
    assert words in findings[0]["message"]


def test_a_replica_of_another_master_or_a_running_master_does_not_count():
    other = live(redis_2=("A" * 40, 5000), redis_3=("A" * 40, 5000))
    other["redis-2"][0]["replication"]["master_port"] = 6380
    other["redis-3"][0]["replication"]["role"] = "master"
    assert master_crash_check(master(), "redis-1", data_file(), other) == []


def test_only_masters_are_checked():
    replicas = server_instances(GROUP, "redis-2", list(GROUP), secrets=False)
    assert master_crash_check(replicas, "redis-2", [], live(redis_3=("A" * 40, 5000))) == []
