"""Retiring instances in the topology resolver (state: absent, data: keep|remove)."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import TopologyError, server_instances


def bed(instances, **settings):
    return {"localhost": dict({"ansible_host": "127.0.0.1", "redis_server_instances": instances}, **settings)}


def resolve(hostvars, **kwargs):
    return server_instances(hostvars, "localhost", list(hostvars), **kwargs)


def error_of(hostvars):
    with pytest.raises(TopologyError) as info:
        resolve(hostvars)
    return " ".join(str(info.value).split())


MASTER = {"name": "master", "port": 6379}
REPLICA = {"name": "replica", "port": 6479, "replicaof": "localhost:master"}


def test_a_retired_replica_leaves_the_running_list_and_its_masters_replicas():
    hostvars = bed([MASTER, dict(REPLICA, state="absent")], redis_server_password="pw")
    [master] = resolve(hostvars)
    assert master["name"] == "master" and master["replicas"] == []
    [retired] = resolve(hostvars, state="absent")
    assert retired == {"name": "replica", "port": 6479, "login_host": "127.0.0.1",
                       "advertise_address": "127.0.0.1", "data": "keep"}
    assert "pw" not in repr(resolve(hostvars, state="absent", secrets=True))


def test_data_remove_is_passed_on():
    hostvars = bed([MASTER, dict(REPLICA, state="absent", data="remove")])
    assert resolve(hostvars, state="absent")[0]["data"] == "remove"


def test_explicit_present_is_the_default():
    hostvars = bed([dict(MASTER, state="present"), REPLICA])
    assert [item["name"] for item in resolve(hostvars)] == ["master", "replica"]
    assert resolve(hostvars, state="absent") == []


def test_retiring_a_master_that_others_replicate_from_is_refused_naming_them():
    message = error_of(bed([dict(MASTER, state="absent"), REPLICA, dict(REPLICA, name="other", port=6579)]))
    assert "redis_server_instances[0].state of host 'localhost' (instance 'master')" in message
    assert "localhost:replica, localhost:other replicate(s) from it" in message
    assert "Fix: re-point them first" in message


def test_retiring_a_master_together_with_its_replicas_is_fine():
    hostvars = bed([dict(MASTER, state="absent"), dict(REPLICA, state="absent")])
    assert resolve(hostvars) == []
    assert [item["name"] for item in resolve(hostvars, state="absent")] == ["master", "replica"]


def test_a_new_instance_may_take_the_port_of_a_retired_one():
    hostvars = bed([dict(MASTER, state="absent"), {"name": "new", "port": 6379}])
    assert [item["name"] for item in resolve(hostvars)] == ["new"]


def test_the_bare_host_form_means_the_only_instance_that_stays():
    hostvars = {
        "a": {"redis_server_instances": [{"name": "old", "port": 1, "state": "absent"}, {"name": "new", "port": 2}]},
        "b": {"redis_server_instances": [{"name": "main", "port": 3, "replicaof": "a"}]},
    }
    [main] = server_instances(hostvars, "b", ["a", "b"])
    assert main["master"] == {"inventory_host": "a", "instance": "new"}


@pytest.mark.parametrize("item, words", [
    (dict(REPLICA, state="gone"), ["redis_server_instances[1].state", "'gone' is not a state", "absent"]),
    (dict(REPLICA, state="absent", data="wipe"), ["redis_server_instances[1].data", "'wipe'", "keep", "remove"]),
    (dict(REPLICA, data="remove"), ["redis_server_instances[1].data", "not retired", "state: absent"]),
])
def test_bad_state_or_data_is_refused(item, words):
    message = error_of(bed([MASTER, item]))
    for word in words:
        assert word in message, message
