"""The server role following Sentinel (plugins/plugin_utils/sentinel_follow.py): which groups of the play the
Sentinels monitor and whom to ask, and the Sentinels' answer turned into the resolver's replicaof
override, resolved through the real play model."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import SENTINEL_CHANNELS, SENTINEL_COMMANDS
from ansible_collections.redisops.redis.plugins.plugin_utils import model
from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel_follow import (
    SentinelError,
    sentinel_acl,
    sentinel_groups,
    sentinel_replicaof,
)

DIRS = {"conf_dir": "/etc/redis", "data_dir": "/var/lib/redis", "log_dir": "/var/log/redis", "run_dir": "/run/redis"}

MONITOR = [{"name": "cache", "master": "h1:main", "quorum": 2}]
# A master on h1, a replica on h2, a replica of that replica on h3 (a chain), a master of its own on h3.
FLEET = {
    "h1": {"ansible_host": "10.0.0.1", "redis_server_password": "pw", "redis_server_bind": ["10.0.0.1"]},
    "h2": {"ansible_host": "10.0.0.2", "redis_server_password": "pw", "redis_server_bind": ["10.0.0.2"],
           "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "h1"}]},
    "h3": {"ansible_host": "10.0.0.3", "redis_server_password": "pw", "redis_server_bind": ["10.0.0.3"],
           "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "h2"},
                                      {"name": "other", "port": 6380}]},
    "s1": {"ansible_host": "10.0.0.11", "redis_sentinel_monitors": MONITOR},
    "s2": {"ansible_host": "10.0.0.12", "redis_sentinel_monitors": MONITOR,
           "redis_sentinel_instances": [{"name": "a", "port": 26379}, {"name": "b", "port": 26380, "bind": "127.0.0.1"},
                                        {"name": "c", "port": 26381, "advertise_address": "sentinel.example"}]},
}
SERVERS = ["h1", "h2", "h3"]
SENTINELS = ["s1", "s2"]


def play(hostvars=None, replicaof=None):
    return model.play_model(hostvars or FLEET, "h1", SERVERS, replicaof=replicaof)


def agreed(host, port):
    return {"state": "agreed", "master": {"host": host, "port": port}}


def test_groups_members_follow_the_replicaof_chain_and_sentinels_come_from_every_host_monitoring():
    groups = sentinel_groups(play(), FLEET, SENTINELS)
    assert groups == [{
        "group": "cache", "master": "h1:main", "members": ["h1:main", "h2:main", "h3:main"],
        "sentinels": [{"instance": "s1:main", "login_host": "10.0.0.11", "login_port": 26379},
                      {"instance": "s2:a", "login_host": "10.0.0.12", "login_port": 26379},
                      {"instance": "s2:b", "login_host": "127.0.0.1", "login_port": 26380},
                      {"instance": "s2:c", "login_host": "sentinel.example", "login_port": 26381}]}]


def test_the_group_name_defaults_to_the_master_instance_and_a_host_with_one_instance_names_it():
    hostvars = dict(FLEET, s1={"redis_sentinel_monitors": [{"master": "h1"}]})
    assert [(group["group"], group["master"]) for group in sentinel_groups(play(hostvars), hostvars, ["s1"])] \
        == [("main", "h1:main")]
    # no address: the host name
    assert sentinel_groups(play(hostvars), hostvars, ["s1"])[0]["sentinels"][0]["login_host"] == "s1"


def test_groups_of_masters_outside_the_play_and_hosts_without_monitors_are_left_out():
    hostvars = dict(FLEET, s1={"redis_sentinel_monitors": [{"name": "x", "master": "elsewhere:main"}]}, s3={})
    assert sentinel_groups(play(hostvars), hostvars, ["s1", "s3", "missing"]) == []


@pytest.mark.parametrize("variables, message", [
    ({"redis_sentinel_monitors": "cache"}, "redis_sentinel_monitors of host 's1' must be a list"),
    ({"redis_sentinel_monitors": ["cache"]}, r"redis_sentinel_monitors\[0\] of host 's1' must be a mapping"),
    ({"redis_sentinel_monitors": [{"name": "cache"}]}, r"redis_sentinel_monitors\[0\].master of host 's1' is None"),
    ({"redis_sentinel_monitors": MONITOR, "redis_sentinel_instances": {"port": 1}},
     "redis_sentinel_instances of host 's1' must be a list"),
    ({"redis_sentinel_monitors": [{"name": "cache", "master": "h3:other"}]}, "give each group one master everywhere"),
])
def test_bad_sentinel_variables_name_the_variable_and_host(variables, message):
    hostvars = dict(FLEET, s1=variables)
    with pytest.raises(SentinelError, match=message):
        sentinel_groups(play(hostvars), hostvars, ["s2", "s1"] if "one master" in message else ["s1"])


def test_the_inventory_master_or_no_sentinel_keeps_the_inventory():
    resolved = play()
    groups = sentinel_groups(resolved, FLEET, SENTINELS)
    for answer in (agreed("10.0.0.1", 6379), {"state": "no_sentinel", "master": None},
                   {"state": "unmonitored", "master": None}):
        assert sentinel_replicaof(groups, {"cache": answer}, resolved) == {}


def test_a_failover_makes_the_named_member_the_master_of_every_other_member():
    resolved = play()
    groups = sentinel_groups(resolved, FLEET, SENTINELS)
    override = sentinel_replicaof(groups, {"cache": agreed("10.0.0.3", 6379)}, resolved)
    assert override == {"h3:main": None, "h1:main": "h3:main", "h2:main": "h3:main"}
    # resolved with it: the old master is a replica of the new one, the other master untouched
    followed = play(replicaof=override)["hosts"]
    assert followed["h1"]["instances"][0]["replicaof"] == {"host": "10.0.0.3", "port": 6379}
    assert followed["h3"]["instances"][0]["role"] == "master"
    assert sorted(replica["instance"] for replica in followed["h3"]["instances"][0]["replicas"]) == ["main", "main"]
    assert followed["h3"]["instances"][1]["role"] == "master" and not followed["h3"]["instances"][1]["replicas"]


def test_the_registered_loop_result_is_read_by_group():
    resolved = play()
    groups = sentinel_groups(resolved, FLEET, SENTINELS)
    registered = {"results": [dict(agreed("10.0.0.2", 6379), item=groups[0])]}
    assert sentinel_replicaof(groups, registered, resolved)["h2:main"] is None


def test_a_master_that_is_no_member_of_the_group_stops_the_run():
    resolved = play()
    groups = sentinel_groups(resolved, FLEET, SENTINELS)
    with pytest.raises(SentinelError) as error:
        sentinel_replicaof(groups, {"cache": agreed("10.0.0.3", 6380)}, resolved)
    assert "10.0.0.3:6380, which is none of the group's instances" in str(error.value)
    assert "h3:main at 10.0.0.3:6379" in str(error.value) and "Nothing was changed" in str(error.value)


def test_a_replica_known_by_its_announced_address_is_found():
    hostvars = dict(FLEET, h2=dict(FLEET["h2"], redis_server_instances=[
        {"name": "main", "port": 6379, "replicaof": "h1", "config": {"replica-announce-ip": "192.168.5.2"}}]))
    resolved = play(hostvars)
    groups = sentinel_groups(resolved, hostvars, SENTINELS)
    assert sentinel_replicaof(groups, {"cache": agreed("192.168.5.2", 6379)}, resolved)["h2:main"] is None


SENTINEL_AUTH = {"redis_sentinel_auth_user": "sentinel-user", "redis_sentinel_auth_password": "spw"}


def test_the_sentinel_user_covers_the_hosts_instances_of_a_monitored_group_only():
    hostvars = dict(FLEET, s2=dict(FLEET["s2"], **SENTINEL_AUTH))
    groups = sentinel_groups(play(hostvars), hostvars, SENTINELS)
    user = sentinel_acl(groups, hostvars, SENTINELS, "h3")
    assert user == {"name": "sentinel-user", "password": "spw", "previous_passwords": [], "instances": ["main"],
                    "rules": list(SENTINEL_COMMANDS + SENTINEL_CHANNELS)}
    # Redis 6.0: no channel rules
    assert sentinel_acl(groups, hostvars, SENTINELS, "h1", channels=False)["rules"] == list(SENTINEL_COMMANDS)
    # the default: Sentinel logs in as the default user
    assert sentinel_acl(groups, FLEET, SENTINELS, "h1") is None
    # a host without an instance of the group
    hostvars["h4"] = {}
    assert sentinel_acl(groups, hostvars, SENTINELS, "h4") is None


def test_the_sentinel_users_previous_passwords_stay_accepted_while_listed():
    rotating = dict(SENTINEL_AUTH, redis_sentinel_previous_auth_passwords=["old", "", "spw", "old", "older"])
    hostvars = dict(FLEET, s2=dict(FLEET["s2"], **rotating))
    groups = sentinel_groups(play(hostvars), hostvars, SENTINELS)
    user = sentinel_acl(groups, hostvars, SENTINELS, "h3")
    # the new one first; the old ones once each, without the empty one and the new one
    assert (user["password"], user["previous_passwords"]) == ("spw", ["old", "older"])
    instances = model.with_secrets(model.instance_model(play(hostvars), "h3", DIRS),
                                   model.play_secrets(hostvars, "h1", SERVERS)["h3"])
    items = {item["instance"]: item for item in model.live_items(instances, "7.0.15", user)}
    assert items["main"]["acl_users"][0]["previous_passwords"] == ["old", "older"]
    hostvars["s2"]["redis_sentinel_previous_auth_passwords"] = "old"
    with pytest.raises(SentinelError, match="redis_sentinel_previous_auth_passwords of host 's2' is a string"):
        sentinel_acl(groups, hostvars, SENTINELS, "h3")


def test_a_sentinel_user_without_password_is_refused_naming_the_variable():
    hostvars = dict(FLEET, s1=dict(FLEET["s1"], redis_sentinel_auth_user="sentinel-user"))
    groups = sentinel_groups(play(hostvars), hostvars, SENTINELS)
    with pytest.raises(SentinelError, match="redis_sentinel_auth_password of host 's1' is empty"):
        sentinel_acl(groups, hostvars, SENTINELS, "h1")


def test_the_sentinel_user_is_applied_live_with_the_replication_user():
    hostvars = dict(FLEET, s2=dict(FLEET["s2"], **SENTINEL_AUTH))
    resolved = play(hostvars)
    groups = sentinel_groups(resolved, hostvars, SENTINELS)
    user = sentinel_acl(groups, hostvars, SENTINELS, "h3")
    instances = model.with_secrets(model.instance_model(resolved, "h3", DIRS),
                                   model.play_secrets(hostvars, "h1", SERVERS)["h3"])
    items = {item["instance"]: item for item in model.live_items(instances, "7.0.15", user)}
    assert items["main"]["acl_users"] == [{"name": "sentinel-user", "password": "spw", "previous_passwords": [],
                                           "rules": list(SENTINEL_COMMANDS + SENTINEL_CHANNELS)}]
    assert items["other"]["acl_users"] == []
    # no ACLs before Redis 6
    assert all(not item["acl_users"] for item in model.live_items(instances, "5.0.14", user))
