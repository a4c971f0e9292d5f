# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Sentinel preflight (plugin_utils/sentinel.py): the model of a host and each refusal."""

from __future__ import annotations

import copy

import pytest

from ansible_collections.redisops.redis.plugins.plugin_utils import sentinel
from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel import SentinelError, sentinel_model

# The local bed: a master and its replica on localhost, three Sentinels there too.
HOSTVARS = {
    "localhost": {
        "ansible_host": "127.0.0.1",
        "redis_server_password": "pw",
        "redis_server_instances": [{"name": "master", "port": 6379},
                                   {"name": "replica", "port": 6479, "replicaof": "localhost:master"}],
        "redis_sentinel_instances": [{"name": "s1", "port": 26379}, {"name": "s2", "port": 26380},
                                     {"name": "s3", "port": 26381}],
    },
}
MONITORS = [{"master": "localhost:master", "quorum": 2, "down_after_milliseconds": 1000, "failover_timeout": 5000}]


def model(hostvars=None, monitors=None, sentinel_hosts=("localhost",), server_hosts=("localhost",)):
    return sentinel_model(hostvars or HOSTVARS, "localhost", list(sentinel_hosts), list(server_hosts),
                          MONITORS if monitors is None else monitors)


def refusal(**kwargs):
    with pytest.raises(SentinelError) as info:
        model(**kwargs)
    return info.value.items


def test_the_local_bed():
    result = model()
    assert [(i["name"], i["port"], i["login_host"]) for i in result["instances"]] == [
        ("s1", 26379, "127.0.0.1"), ("s2", 26380, "127.0.0.1"), ("s3", 26381, "127.0.0.1")]
    assert result["monitors"] == [{
        "name": "master", "master": "localhost:master", "host": "127.0.0.1", "port": 6379,
        "members": ["127.0.0.1:6379", "127.0.0.1:6479"], "state": "present", "quorum": 2,
        "down_after_milliseconds": 1000, "failover_timeout": 5000, "parallel_syncs": 1}]
    assert result["sentinels"] == 3 and result["retired"] == []
    assert result["warnings"] == ["Group 'master': all 3 Sentinels run on host 'localhost': losing that host loses "
                                  "them all; spread them over hosts (fine for a local test bed)."]


def test_a_chain_of_replicas_belongs_to_the_group_and_retired_sentinels_are_apart():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["localhost"]["redis_server_instances"].append({"name": "far", "port": 6579, "replicaof": "localhost:replica"})
    hostvars["localhost"]["redis_sentinel_instances"].append({"name": "s4", "port": 26382, "state": "absent"})
    result = model(hostvars=hostvars, monitors=[{"master": "localhost:master", "name": "g"}])
    assert result["monitors"][0]["members"] == ["127.0.0.1:6379", "127.0.0.1:6479", "127.0.0.1:6579"]
    assert result["monitors"][0]["name"] == "g" and result["monitors"][0]["quorum"] == 2
    assert [i["name"] for i in result["retired"]] == ["s4"] and result["sentinels"] == 3


def test_fewer_than_three_sentinels_is_a_warning():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["localhost"]["redis_sentinel_instances"] = [{"name": "s1", "port": 26379}]
    assert model(hostvars=hostvars, monitors=[{"master": "localhost:master", "quorum": 1}])["warnings"] == [
        "Group 'master' has 1 Sentinel(s): fewer than 3 cannot survive the loss of one of them and still authorize "
        "a failover; add Sentinels on other hosts (fine for a local test bed)."]


@pytest.mark.parametrize("quorum, problem", [
    (0, "is 0: no number of Sentinels agreeing that the master is down would start a failover"),
    (4, "4 is larger than the 3 Sentinel(s) of the play (localhost:s1, localhost:s2, localhost:s3)"),
])
def test_quorum_refused(quorum, problem):
    assert refusal(monitors=[{"master": "localhost:master", "quorum": quorum}]) == [
        "redis_sentinel_monitors[0].quorum (group 'master'): %s. Fix: set quorum between 1 and 3 (a majority, e.g. "
        "2 of 3), or add Sentinels." % problem]


def test_port_used_twice_and_clashing_with_an_instance():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["localhost"]["redis_sentinel_instances"] = [
        {"name": "s1", "port": 26379}, {"name": "s2", "port": 26379}, {"name": "s3", "port": 6479}]
    assert refusal(hostvars=hostvars) == [
        "redis_sentinel_instances of host 'localhost' (Sentinel 's2'): port 26379 is used twice, also by Sentinel "
        "'s1'. Fix: give each Sentinel of the host its own port.",
        "redis_sentinel_instances of host 'localhost' (Sentinel 's3'): port 6479 is also the port of the server "
        "instance 'replica'. Fix: give the Sentinel another port (26379 is Sentinel's usual one)."]


@pytest.mark.parametrize("master, problem", [
    ("nowhere:master", "redis_sentinel_monitors[0] (master 'nowhere:master'): host 'nowhere' is not a host of the "
                       "server role's group (localhost). Fix: name an inventory host of that group as HOST:INSTANCE, "
                       "e.g. localhost:master."),
    ("localhost:nope", "redis_sentinel_monitors[0] (master 'localhost:nope'): host 'localhost' has no instance "
                       "'nope'. Fix: name one of localhost:master, localhost:replica."),
    ("localhost:replica", "redis_sentinel_monitors[0] (master 'localhost:replica'): instance 'localhost:replica' is "
                          "a replica (of localhost:master), not a master. Fix: name the master of its group."),
    ("localhost", "redis_sentinel_monitors[0] (master 'localhost'): host 'localhost' has 2 instances. Fix: name one "
                  "as HOST:INSTANCE (localhost:master, localhost:replica)."),
    (None, "redis_sentinel_monitors[0]: has no master. Fix: set master to the group's master as HOST:INSTANCE of "
           "the inventory."),
])
def test_unknown_master_refused(master, problem):
    assert refusal(monitors=[{"master": master}]) == [problem]


def test_no_server_group_means_no_master():
    assert "is not a host of the server role's group (empty)" in refusal(server_hosts=())[0]


def test_open_bind_needs_a_password_and_bad_keys():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["localhost"]["redis_sentinel_instances"] = [{"name": "s1", "port": 26379, "bind": "0.0.0.0"},
                                                         {"name": "S2", "port": "x", "colour": 1}]
    assert refusal(hostvars=hostvars, monitors=[]) == [
        "redis_sentinel_password of host 'localhost': is empty, but Sentinel 's1' listens on 0.0.0.0, not only on "
        "loopback. Fix: set redis_sentinel_password (in Ansible Vault), or bind the Sentinel to 127.0.0.1.",
        "redis_sentinel_instances[1] of host 'localhost': unknown key(s) colour. Fix: use only name, port, bind, "
        "advertise_address, advertise_port, state.",
        "redis_sentinel_instances[1] of host 'localhost': name 'S2' is not a name. Fix: give it a name matching "
        "^[a-z][a-z0-9_-]*$.",
        "redis_sentinel_instances[1] of host 'localhost': port 'x' is not a TCP port. Fix: set port to a number in "
        "1..65535."]
    hostvars["localhost"]["redis_sentinel_password"] = "x"
    assert len(refusal(hostvars=hostvars, monitors=[])) == 3


def test_group_names_are_unique():
    assert refusal(monitors=[{"master": "localhost:master"}, {"master": "localhost:master"}]) == [
        "redis_sentinel_monitors[1]: group name 'master' is used twice (also by localhost:master). Fix: give each "
        "group its own name."]


def test_auth_password_sentinel_cannot_load_again_is_refused():
    hostvars = copy.deepcopy(HOSTVARS)
    hostvars["localhost"]["redis_sentinel_auth_password"] = "two words"
    assert refusal(hostvars=hostvars) == [
        "redis_sentinel_auth_password of host 'localhost': contains a blank or a quote, which Sentinel writes into "
        "its own config file unquoted, so that it would not start again. Fix: use a value without blanks and quotes "
        "(letters, digits, punctuation)."]
    hostvars["localhost"]["redis_sentinel_auth_password"] = "no-blank#here"
    assert model(hostvars=hostvars)["sentinels"] == 3


# ---------------------------------------------------------------------------------------------
# where a Sentinel is reached: one rule (sentinel_address) for the sentinel role and the server role
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("item, host_address, expected", [
    ({"name": "a", "port": 26379}, "10.0.0.12", "10.0.0.12"),
    ({"name": "a", "port": 26379}, None, "s2"),
    ({"name": "b", "port": 26380, "bind": "127.0.0.1"}, "10.0.0.12", "127.0.0.1"),
    ({"name": "b", "port": 26380, "bind": ["10.0.0.5 127.0.0.1", "10.0.0.6"]}, "10.0.0.12", "10.0.0.5"),
    ({"name": "b", "port": 26380, "bind": ["0.0.0.0"]}, "10.0.0.12", "10.0.0.12"),
    ({"name": "b", "port": 26380, "bind": "*"}, "10.0.0.12", "10.0.0.12"),
    ({"name": "b", "port": 26380, "bind": [""]}, "10.0.0.12", "10.0.0.12"),
    ({"name": "c", "port": 26381, "bind": "127.0.0.1", "advertise_address": "sentinel.example"}, "10.0.0.12",
     "sentinel.example"),
])
def test_sentinel_address_from_another_host(item, host_address, expected):
    assert sentinel.sentinel_address("s2", item, host_address) == expected


@pytest.mark.parametrize("item, bind, expected", [
    ({"name": "a", "port": 26379}, ["127.0.0.1"], "127.0.0.1"),
    ({"name": "a", "port": 26379}, ["0.0.0.0"], "127.0.0.1"),
    ({"name": "a", "port": 26379}, ["10.0.0.5"], "10.0.0.5"),
    ({"name": "a", "port": 26379, "bind": "10.0.0.6"}, None, "10.0.0.6"),
    ({"name": "a", "port": 26379, "advertise_address": "sentinel.example"}, ["::1"], "::1"),
])
def test_sentinel_address_from_its_own_host(item, bind, expected):
    assert sentinel.sentinel_address("s2", item, bind=bind, local=True) == expected


def test_both_roles_use_the_one_rule():
    from ansible_collections.redisops.redis.plugins.plugin_utils import sentinel_follow

    assert sentinel_follow.sentinel_address is sentinel.sentinel_address
    assert not hasattr(sentinel_follow, "_address")
