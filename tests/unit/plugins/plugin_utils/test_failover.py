"""Planning a failover from the resolved inventory (plugins/plugin_utils/failover.py).

Every refusal names redis_failover_target, says nothing changed and gives the fix.
"""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.plugin_utils.failover import FailoverPlanError, failover_plan, promotable
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import server_instances

BED = {
    "localhost": {
        "ansible_host": "127.0.0.1",
        "redis_server_password": "pw",
        "redis_server_instances": [
            {"name": "master", "port": 7000},
            {"name": "replica1", "port": 7001, "replicaof": "localhost:master"},
            {"name": "replica2", "port": 7002, "replicaof": "localhost:master"},
            {"name": "chained", "port": 7003, "replicaof": "localhost:replica2"},
            {"name": "outside", "port": 7004, "replicaof": {"host": "10.9.9.9", "port": 6379}},
        ],
    },
}
GROUP = {
    "redis-1": {"ansible_host": "10.0.0.11", "redis_server_password": "pw"},
    "redis-2": {"ansible_host": "10.0.0.12", "redis_server_password": "pw",
                "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "redis-1"}]},
    "redis-3": {"ansible_host": "10.0.0.13", "redis_server_password": "pw",
                "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "redis-1",
                                            "config": {"replica-announce-ip": "192.0.2.3"}}]},
}


def resolved(hostvars):
    return {host: server_instances(hostvars, host, list(hostvars), secrets=False) for host in hostvars}


def test_plan_on_one_host():
    plan = failover_plan("localhost:replica1", resolved(BED))
    assert plan["target"] == {"inventory_host": "localhost", "instance": "replica1", "index": 1,
                              "label": "localhost:replica1", "address": "127.0.0.1", "port": 7001,
                              "login_host": "127.0.0.1"}
    assert plan["master"]["label"] == "localhost:master"
    assert [replica["label"] for replica in plan["replicas"]] == ["localhost:replica2"]
    by_name = {item["name"]: item for item in plan["hosts"]["localhost"]}
    assert set(by_name) == {"replica1", "master", "replica2"}
    assert by_name["replica1"]["role"] == "master"
    assert by_name["replica1"]["replicas"] == [{"host": "127.0.0.1", "port": 7000}, {"host": "127.0.0.1", "port": 7002}]
    for name in ("master", "replica2"):
        assert by_name[name]["role"] == "replica"
        assert by_name[name]["replicaof"] == {"host": "127.0.0.1", "port": 7001}
    assert plan["inventory"] == [
        "host 'localhost', instance 'replica1': remove replicaof (it is the master now)",
        "host 'localhost', instance 'master': add replicaof: 'localhost:replica1' (it is a replica of the new master now)",
        "host 'localhost', instance 'replica2': set replicaof: 'localhost:replica1'",
    ]


def test_the_new_master_keeps_its_own_replicas():
    plan = failover_plan("localhost:replica2", resolved(BED))
    new_master = [item for item in plan["hosts"]["localhost"] if item["role"] == "master"][0]
    assert new_master["replicas"][0] == {"host": "127.0.0.1", "port": 7003}
    assert "chained" not in [item["name"] for item in plan["hosts"]["localhost"]]


def test_plan_over_hosts_with_a_host_name_and_announced_addresses():
    plan = failover_plan("redis-2", resolved(GROUP))
    assert plan["target"]["address"] == "10.0.0.12"
    assert plan["master"]["address"] == "10.0.0.11"
    assert set(plan["hosts"]) == {"redis-1", "redis-2", "redis-3"}
    assert plan["hosts"]["redis-2"][0]["replicas"] == [{"host": "10.0.0.11", "port": 6379},
                                                       {"host": "192.0.2.3", "port": 6379}]
    assert plan["hosts"]["redis-3"][0]["replicaof"] == {"host": "10.0.0.12", "port": 6379}
    assert "host 'redis-3', instance 'main': set replicaof: 'redis-2:main'" in plan["inventory"]


def test_promotable_lists_replicas_of_masters_in_the_play():
    assert promotable(resolved(BED)) == ["localhost:replica1", "localhost:replica2"]


@pytest.mark.parametrize("target, words", [
    (None, ["redis_failover_target is not set", "-e redis_failover_target=localhost:replica1",
            "localhost:replica1, localhost:replica2"]),
    ("  ", ["redis_failover_target is not set"]),
    (["localhost:replica1"], ["must be a string HOST:INSTANCE, not list"]),
    ("nowhere:main", ["'nowhere:main' names host 'nowhere', which is not in this play (hosts: localhost)"]),
    ("localhost:nope", ["names instance 'nope', which host 'localhost' does not have",
                        "master, replica1, replica2, chained, outside"]),
    ("localhost", ["has 5 instances", "redis_failover_target=localhost:INSTANCE"]),
    ("localhost:master", ["is a master in the inventory", "name one of its replicas (localhost:replica1, "
                                                          "localhost:replica2)"]),
    ("localhost:chained", ["replicates from 'localhost:replica2', which is itself a replica"]),
    ("localhost:outside", ["replicates from 10.9.9.9:6379, which is not an instance of this play"]),
])
def test_refusals_name_the_variable_and_the_fix(target, words):
    with pytest.raises(FailoverPlanError) as raised:
        failover_plan(target, resolved(BED))
    message = str(raised.value)
    assert "redis_failover_target" in message
    assert "Nothing was changed" in message
    for word in words:
        assert word in message, message
