"""A topology given instead of the inventory's (topology.py, ``replicaof=``): what the role's apply
entry point resolves after a failover must equal what the role resolves from the inventory updated
as the failover playbook says, key for key, secrets included."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import (
    TopologyError,
    resolve_play,
    server_instances,
)

HOSTS = ["redis-1", "redis-2", "redis-3"]


def group(replicaof_of, **extra):
    """Three hosts, one instance each; replicaof_of: {host: replicaof or None}."""
    hostvars = {}
    for number, host in enumerate(HOSTS, start=1):
        instance = {"name": "main", "port": 6379}
        if replicaof_of.get(host):
            instance["replicaof"] = replicaof_of[host]
        hostvars[host] = dict({"ansible_host": "10.0.0.1%d" % number, "redis_server_password": "secret %d" % number,
                               "redis_server_bind": ["127.0.0.1", "10.0.0.1%d" % number],
                               "redis_server_instances": [instance]}, **extra.get(host, {}))
    return hostvars


INVENTORY = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"})
# After promoting redis-2: what the failover playbook tells the user to write.
UPDATED = group({"redis-1": "redis-2:main", "redis-3": "redis-2:main"})
AFTER_FAILOVER = {"redis-2:main": None, "redis-1:main": "redis-2:main", "redis-3:main": "redis-2:main"}


def test_the_override_resolves_as_the_updated_inventory_does():
    assert resolve_play(INVENTORY, HOSTS, replicaof=AFTER_FAILOVER) == resolve_play(UPDATED, HOSTS)


def test_the_override_resolves_as_the_updated_inventory_does_with_a_replication_user():
    users = {host: {"redis_server_masteruser": "replicator", "redis_server_replication_password": "repl %s" % host}
             for host in HOSTS}
    before = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"}, **users)
    after = group({"redis-1": "redis-2:main", "redis-3": "redis-2:main"}, **users)
    overridden = resolve_play(before, HOSTS, replicaof=AFTER_FAILOVER)
    assert overridden == resolve_play(after, HOSTS)
    # The demoted master logs in to the new master as its replication user, with that user's password.
    old_master = overridden["redis-1"][0]
    assert (old_master["masteruser"], old_master["masterauth"]) == ("replicator", "repl redis-2")
    assert old_master["replicaof"] == {"host": "10.0.0.12", "port": 6379}


def test_the_new_master_lists_every_instance_that_follows_it():
    resolved = server_instances(INVENTORY, "redis-2", HOSTS, replicaof=AFTER_FAILOVER)[0]
    assert resolved["role"] == "master" and resolved["replicaof"] is None and resolved["master"] is None
    assert resolved["masterauth"] == ""
    replicas = [(item["inventory_host"], item["port"]) for item in resolved["replicas"]]
    assert replicas == [("redis-1", 6379), ("redis-3", 6379)]


def test_instances_the_override_does_not_name_keep_the_inventory_topology():
    # Only the new master is given: redis-3 still follows redis-1, which is then a master too.
    resolved = resolve_play(INVENTORY, HOSTS, replicaof={"redis-2:main": None})
    assert resolved["redis-3"][0]["master"] == {"inventory_host": "redis-1", "instance": "main"}
    assert resolved["redis-2"][0]["role"] == "master"


def test_no_override_and_an_empty_one_change_nothing():
    assert resolve_play(INVENTORY, HOSTS, replicaof={}) == resolve_play(INVENTORY, HOSTS)


def test_a_replica_read_only_of_the_promoted_instance_is_not_an_error():
    hostvars = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"})
    hostvars["redis-2"]["redis_server_instances"][0]["replica_read_only"] = False
    resolved = server_instances(hostvars, "redis-2", HOSTS, replicaof=AFTER_FAILOVER)[0]
    assert resolved["role"] == "master" and resolved["replica_read_only"] is True


@pytest.mark.parametrize("override, words", [
    ({"redis-9:main": None}, ["redis_server_replicaof['redis-9:main']", "names no instance of the play"]),
    ({"redis-1:other": None}, ["redis_server_replicaof['redis-1:other']", "HOST:INSTANCE"]),
    (["redis-1:main"], ["redis_server_replicaof", "must be a mapping"]),
    ({"redis-1:main": "redis-1:main"}, ["points at the instance itself"]),
    ({"redis-1:main": "redis-2:main"}, ["replication cycle"]),
])
def test_an_override_is_validated_like_the_inventory(override, words):
    with pytest.raises(TopologyError) as raised:
        resolve_play(INVENTORY, HOSTS, replicaof=override)
    for word in words:
        assert word in str(raised.value)


# A master of a Sentinel group (sentinel_members=): Sentinel demotes it without the role.
SHARED = {host: {"redis_server_password": "group secret"} for host in HOSTS}
MEMBERS = ["redis-1:main", "redis-2:main", "redis-3:main"]


def test_a_master_of_a_sentinel_group_logs_in_as_its_replicas_do():
    hostvars = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"}, **SHARED)
    master = server_instances(hostvars, "redis-1", HOSTS, sentinel_members=MEMBERS)[0]
    replica = server_instances(hostvars, "redis-2", HOSTS, sentinel_members=MEMBERS)[0]
    assert master["role"] == "master" and master["masterauth"] == replica["masterauth"] == "group secret"
    assert master["masteruser"] == replica["masteruser"] == ""
    # outside the group's members: no masterauth on a master, as before
    assert server_instances(hostvars, "redis-1", HOSTS)[0]["masterauth"] == ""
    assert server_instances(hostvars, "redis-1", HOSTS, sentinel_members=["redis-2:main"])[0]["masterauth"] == ""


def test_a_master_of_a_sentinel_group_takes_the_replication_user():
    users = {host: {"redis_server_masteruser": "replicator", "redis_server_replication_password": "repl",
                    "redis_server_password": "group secret"} for host in HOSTS}
    hostvars = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"}, **users)
    master = server_instances(hostvars, "redis-1", HOSTS, sentinel_members=MEMBERS)[0]
    assert (master["masteruser"], master["masterauth"]) == ("replicator", "repl")


def test_a_masterauth_the_inventory_gives_a_sentinel_master_is_kept():
    hostvars = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"}, **SHARED)
    hostvars["redis-1"]["redis_server_instances"][0]["masterauth"] = "own"
    master = server_instances(hostvars, "redis-1", HOSTS, sentinel_members=MEMBERS)[0]
    assert master["masterauth"] == "own"


def test_after_a_sentinel_failover_the_new_master_keeps_a_masterauth():
    hostvars = group({"redis-2": "redis-1:main", "redis-3": "redis-1:main"}, **SHARED)
    resolved = resolve_play(hostvars, HOSTS, replicaof=AFTER_FAILOVER, sentinel_members=MEMBERS)
    assert [resolved[host][0]["masterauth"] for host in HOSTS] == ["group secret"] * 3
    assert resolved["redis-2"][0]["role"] == "master"
