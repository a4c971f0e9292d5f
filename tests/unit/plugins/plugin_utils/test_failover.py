"""Planning a failover from the resolved inventory (plugins/plugin_utils/failover.py).

Every refusal names redis_failover_target, says nothing changed and gives the fix.
"""

from __future__ import annotations

import os

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.replication import parse_info, replication_state
from ansible_collections.redisops.redis.plugins.plugin_utils.failover import (
    FailoverPlanError,
    failover_logins,
    failover_plan,
    failover_running,
    promotable,
    unplanned_failover_plan,
)
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


def resolved(hostvars, replicaof=None):
    return {host: server_instances(hostvars, host, list(hostvars), secrets=False, replicaof=replicaof)
            for host in hostvars}


def applied(hostvars, plan):
    """What the role's apply entry point resolves for the plan (redis_server_replicaof)."""
    return resolved(hostvars, replicaof=plan["replicaof"])


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
    assert plan["replicaof"] == {"localhost:replica1": None, "localhost:master": "localhost:replica1",
                                 "localhost:replica2": "localhost:replica1"}
    new_master = [item for item in applied(BED, plan)["localhost"] if item["name"] == "replica1"][0]
    ports = [(item["port"], item["instance"]) for item in new_master["replicas"]]
    assert ports == [(7000, "master"), (7002, "replica2")]
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
    new_master = [item for item in applied(BED, plan)["localhost"] if item["name"] == "replica2"][0]
    assert [item["port"] for item in new_master["replicas"]] == [7000, 7001, 7003]
    assert "chained" not in [item["name"] for item in plan["hosts"]["localhost"]]
    assert "localhost:chained" not in plan["replicaof"]


def test_plan_over_hosts_with_a_host_name_and_announced_addresses():
    plan = failover_plan("redis-2", resolved(GROUP))
    assert plan["target"]["address"] == "10.0.0.12"
    assert plan["master"]["address"] == "10.0.0.11"
    assert set(plan["hosts"]) == {"redis-1", "redis-2", "redis-3"}
    assert [(item["host"], item["port"]) for item in applied(GROUP, plan)["redis-2"][0]["replicas"]] == [
        ("10.0.0.11", 6379), ("192.0.2.3", 6379)]
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


# -------------------------------------------------------------------------------------------------
# Unplanned: the master of SMALL is down
# -------------------------------------------------------------------------------------------------

INFO_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "info")
SMALL = {"localhost": dict(BED["localhost"], redis_server_instances=BED["localhost"]["redis_server_instances"][:3])}


def recorded(name, **changes):
    with open(os.path.join(INFO_DIR, name)) as handle:
        result = replication_state(parse_info(handle.read()))
    result.update(changes)
    return result


def stranded(offset, **changes):
    return recorded("redis-7.0-replica-master-down.txt", **dict({"master_port": 7000, "master_repl_offset": offset},
                                                                **changes))


def probes(**states):
    """replication_info results of localhost's instances: a state, or None for one that did not answer."""
    return {"localhost": [{"instance": name, "replication": state} if state else
                          {"instance": name, "error": "Cannot read INFO from 127.0.0.1: Connection refused."}
                          for name, state in states.items()]}


def no_dns(host):
    return set()


def test_unplanned_promotes_the_replica_holding_the_most():
    plan = unplanned_failover_plan(None, resolved(SMALL), probes(master=None, replica1=stranded(100),
                                                                 replica2=stranded(128)), no_dns)
    assert plan["target"]["label"] == "localhost:replica2"
    assert plan["unplanned"] and plan["down"] == ["localhost:master"]
    assert plan["offsets"] == {"localhost:replica1": 100, "localhost:replica2": 128}
    assert [replica["label"] for replica in plan["replicas"]] == ["localhost:replica1"]
    by_name = {item["name"]: item for item in plan["hosts"]["localhost"]}
    assert by_name["master"]["running"] is False
    assert by_name["master"]["replicaof"] == {"host": "127.0.0.1", "port": 7002}
    # The files make the old master a replica of the new one; the checks expect only the replicas that run.
    assert plan["replicaof"]["localhost:master"] == "localhost:replica2"
    checked = failover_running(applied(SMALL, plan)["localhost"], plan, "localhost")
    assert [item["name"] for item in checked] == ["replica1", "replica2"]
    new_master = [item for item in checked if item["name"] == "replica2"][0]
    assert [(item["port"], item["instance"]) for item in new_master["replicas"]] == [(7001, "replica1")]


def test_unplanned_leaves_a_replica_that_does_not_answer_out_of_the_promotion_but_writes_its_files():
    plan = unplanned_failover_plan(None, resolved(SMALL), probes(master=None, replica1=stranded(128), replica2=None),
                                   no_dns)
    assert plan["target"]["label"] == "localhost:replica1"
    assert plan["replicas"] == [] and plan["unreached"] == ["localhost:replica2"]
    assert plan["down"] == ["localhost:master", "localhost:replica2"]
    assert {item["name"]: item["running"] for item in plan["hosts"]["localhost"]} == {
        "replica1": True, "master": False, "replica2": False}


def test_unplanned_again_after_the_old_master_came_back_as_a_replica_keeps_the_target():
    promoted = recorded("redis-7.0-master.txt")
    back = recorded("redis-7.0-replica.txt", master_port=7001)
    plan = unplanned_failover_plan(None, resolved(SMALL), probes(master=back, replica1=promoted,
                                                                 replica2=stranded(128, master_port=7001)), no_dns)
    assert plan["target"]["label"] == "localhost:replica1" and plan["down"] == []


@pytest.mark.parametrize("target, states, words", [
    (None, dict(master=recorded("redis-7.0-master.txt"), replica1=stranded(1), replica2=stranded(1)),
     ["redis_failover_unplanned=true: every master of the play answers (localhost:master at 127.0.0.1:7000)",
      "leave redis_failover_unplanned out and set redis_failover_target"]),
    ("localhost:replica1", dict(master=recorded("redis-7.0-master.txt"), replica1=stranded(1), replica2=stranded(1)),
     ["the master localhost:master (127.0.0.1:7000) answers, as a master",
      "set redis_failover_target=localhost:replica1"]),
    ("localhost:replica1", dict(master=None, replica1=stranded(100), replica2=stranded(128)),
     ["redis_failover_target='localhost:replica1' with redis_failover_unplanned=true",
      "localhost:replica1 is at replication offset 100, behind localhost:replica2 at offset 128",
      "Name localhost:replica2 as the target"]),
    ("localhost:replica1", dict(master=None, replica1=None, replica2=stranded(128)),
     ["localhost:replica1 does not answer, it cannot be promoted"]),
    ("localhost:master", dict(master=None, replica1=stranded(1), replica2=stranded(1)),
     ["is a master in the inventory"]),
])
def test_unplanned_refusals_name_the_variable_and_the_fix(target, states, words):
    with pytest.raises(FailoverPlanError) as raised:
        unplanned_failover_plan(target, resolved(SMALL), probes(**states), no_dns)
    for word in words + ["Nothing was changed"]:
        assert word in str(raised.value), str(raised.value)


def test_unplanned_needs_a_target_when_several_masters_are_down():
    two = {"localhost": dict(SMALL["localhost"], redis_server_instances=SMALL["localhost"]["redis_server_instances"] + [
        {"name": "other", "port": 7010}, {"name": "other-replica", "port": 7011, "replicaof": "localhost:other"}])}
    states = probes(master=None, replica1=stranded(1), replica2=stranded(1), other=None,
                    **{"other-replica": stranded(1, master_port=7010)})
    with pytest.raises(FailoverPlanError, match="several masters of the play are down or were replaced "
                                                ".localhost:master, localhost:other."):
        unplanned_failover_plan(None, resolved(two), states, no_dns)
    plan = unplanned_failover_plan("localhost:other-replica", resolved(two), states, no_dns)
    assert plan["master"]["label"] == "localhost:other"


# -------------------------------------------------------------------------------------------------
# After the plan: the module's logins, the role's checks
# -------------------------------------------------------------------------------------------------

def logins_of(hostvars):
    """The role's logins, {host: {name: item}}, as vars/main.yml builds them (with a password)."""
    return {host: {item["name"]: {"instance": item["name"], "login_host": item["login_host"], "login_port": item["port"],
                                  "login_password": item["password"]}
                   for item in server_instances(hostvars, host, list(hostvars))} for host in hostvars}


def test_logins_reach_the_target_locally_and_the_others_at_their_address():
    plan = failover_plan("redis-2", resolved(GROUP))
    hostvars = {host: dict(values, redis_server_bind=["127.0.0.1", values["ansible_host"]])
                for host, values in GROUP.items()}
    logins = failover_logins(plan, logins_of(hostvars))
    assert logins["target"] == {"instance": "redis-2:main", "login_host": "127.0.0.1", "login_port": 6379,
                                "login_password": "pw"}
    assert logins["master"] == {"instance": "redis-1:main", "login_host": "10.0.0.11", "login_port": 6379,
                                "login_password": "pw"}
    assert [item["login_host"] for item in logins["replicas"]] == ["10.0.0.13"]


def test_logins_are_joined_by_name_not_by_position():
    plan = failover_plan("localhost:replica2", resolved(BED))
    logins = logins_of(BED)
    logins["localhost"] = dict(reversed(list(logins["localhost"].items())))
    logins["localhost"]["master"] = dict(logins["localhost"]["master"], login_password="master's")
    found = failover_logins(plan, logins)
    assert (found["master"]["instance"], found["master"]["login_port"], found["master"]["login_password"]) == (
        "localhost:master", 7000, "master's")
    assert [(item["instance"], item["login_port"]) for item in found["replicas"]] == [("localhost:replica1", 7001)]


def test_a_host_without_logins_is_refused_before_any_change():
    plan = failover_plan("redis-2", resolved(GROUP))
    logins = logins_of(GROUP)
    del logins["redis-3"]
    with pytest.raises(FailoverPlanError, match="no login for redis-3:main.*Nothing was changed"):
        failover_logins(plan, logins)


def test_the_checks_leave_out_what_does_not_run_and_what_is_not_in_the_group():
    plan = unplanned_failover_plan(None, resolved(SMALL), probes(master=None, replica1=stranded(128), replica2=None),
                                   no_dns)
    checked = failover_running(applied(SMALL, plan)["localhost"], plan, "localhost")
    assert [(item["name"], item["role"], item["replicas"]) for item in checked] == [("replica1", "master", [])]
    planned = failover_plan("localhost:replica1", resolved(BED))
    names = [item["name"] for item in failover_running(applied(BED, planned)["localhost"], planned, "localhost")]
    assert names == ["master", "replica1", "replica2"]
    assert failover_running(applied(BED, planned)["localhost"], planned, "elsewhere") == []


def test_the_checks_of_the_role_s_model_expect_only_the_replicas_that_run():
    plan = unplanned_failover_plan(None, resolved(SMALL), probes(master=None, replica1=stranded(128), replica2=None),
                                   no_dns)
    instances = [dict(item, check={"instance": "localhost:" + item["name"], "replicas": [{"host": "x", "port": 1}],
                                   "min_replicas": 9}) for item in applied(SMALL, plan)["localhost"]]
    checked = failover_running(instances, plan, "localhost")
    assert [(item["name"], item["check"]["replicas"], item["check"]["min_replicas"]) for item in checked] == [
        ("replica1", [], 0)]
