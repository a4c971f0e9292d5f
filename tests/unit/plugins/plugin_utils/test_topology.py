"""Topology resolution (plugins/plugin_utils/topology.py) and the redis.conf quoting.

Every input rule has a test that checks the message names the variable, the host, the instance
and the fix. The quoting is checked against Python's port of sdssplitargs and against a real
redis-server parsing a generated config file (skipped when redis-server is not installed).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time

import pytest
import yaml

from ansible_collections.redisops.redis.plugins.plugin_utils import topology
from ansible_collections.redisops.redis.tests.unit.compat import literal, trust_as_template
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import (
    TopologyError,
    quote,
    resolve_play,
    server_instances,
    split_args,
)

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLE_DEFAULTS = os.path.join(ROOT, "roles", "server", "defaults", "main.yml")

GUIDE_BED = {
    "localhost": {
        "ansible_host": "127.0.0.1",
        "redis_server_instances": [
            {"name": "master", "port": 6379},
            {"name": "replica", "port": 6479, "replicaof": "localhost:master"},
        ],
    }
}

GROUP = {
    "redis-1": {"ansible_host": "10.0.0.11"},
    "redis-2": {"ansible_host": "10.0.0.12",
                "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "redis-1"}]},
    "redis-3": {"ansible_host": "10.0.0.13",
                "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "redis-1"}]},
}
GROUP_VARS = {
    "redis_server_password": "group secret",
    "redis_server_bind": ["127.0.0.1", "{{ ansible_host }}"],
}


def with_group_vars(hosts, **extra):
    result = {}
    for name, hostvars in hosts.items():
        merged = dict(GROUP_VARS, **extra)
        merged.update(hostvars)
        merged["redis_server_bind"] = ["127.0.0.1", merged["ansible_host"]]
        result[name] = merged
    return result


def resolve(hostvars, host=None, play_hosts=None, **kwargs):
    play_hosts = list(hostvars) if play_hosts is None else play_hosts
    return server_instances(hostvars, host or play_hosts[0], play_hosts, **kwargs)


def single(instances, **host_settings):
    hostvars = {"localhost": dict({"ansible_host": "127.0.0.1", "redis_server_instances": instances}, **host_settings)}
    return hostvars


def error_of(hostvars, host=None, play_hosts=None, **kwargs):
    with pytest.raises(TopologyError) as info:
        resolve(hostvars, host, play_hosts, **kwargs)
    return str(info.value)


def assert_names(message, *words):
    for word in words:
        assert word in message, "%r not in:\n%s" % (word, message)


# --- the guide's test bed -------------------------------------------------------------------

def test_guide_bed_resolves_as_design_md_says():
    master, replica = resolve(GUIDE_BED)
    assert master == {
        "name": "master", "port": 6379, "bind": ["127.0.0.1"], "advertise_address": "127.0.0.1",
        "login_host": "127.0.0.1", "role": "master", "replicaof": None, "master": None,
        "password": "", "masterauth": "", "masteruser": "", "replica_read_only": True, "config": {},
        "replicas": [{"host": "127.0.0.1", "port": 6479, "inventory_host": "localhost", "instance": "replica"}],
        "replication_user": None,
    }
    assert replica["role"] == "replica"
    assert replica["replicaof"] == {"host": "127.0.0.1", "port": 6379}
    assert replica["master"] == {"inventory_host": "localhost", "instance": "master"}
    assert replica["replicas"] == []
    assert replica["replica_read_only"] is True


def test_a_replication_user_gets_its_own_password_and_replicas_log_in_as_it():
    hostvars = {"localhost": dict(GUIDE_BED["localhost"], redis_server_password="pw", redis_server_masteruser="replicator",
                                  redis_server_replication_password="repl-pw")}
    master, replica = resolve(hostvars)
    assert master["replication_user"] == replica["replication_user"] == {"name": "replicator", "password": "repl-pw"}
    assert replica["masteruser"] == "replicator" and replica["masterauth"] == "repl-pw"
    assert master["password"] == replica["password"] == "pw"
    public = resolve(hostvars, secrets=False)
    assert public[0]["replication_user"] == {"name": "replicator"}


@pytest.mark.parametrize("settings, words", [
    ({"redis_server_replication_password": "repl-pw"}, ["redis_server_replication_password", "redis_server_masteruser"]),
    ({"redis_server_masteruser": "replicator", "redis_server_replication_password": "pw"},
     ["redis_server_replication_password", "equals redis_server_password"]),
    ({"redis_server_masteruser": "replicator", "redis_server_replication_password": "a\nb"},
     ["redis_server_replication_password", "line break"]),
])
def test_a_replication_password_needs_a_user_and_its_own_value(settings, words):
    hostvars = {"localhost": dict(GUIDE_BED["localhost"], redis_server_password="pw", **settings)}
    assert_names(error_of(hostvars), *words)


def test_one_group_password_is_every_replicas_masterauth():
    hostvars = {"localhost": dict(GUIDE_BED["localhost"], redis_server_password="pw")}
    master, replica = resolve(hostvars)
    assert master["password"] == replica["password"] == "pw"
    assert replica["masterauth"] == "pw"
    assert master["masterauth"] == ""


def test_masterauth_follows_the_masters_own_password():
    hostvars = single([{"name": "master", "port": 1, "password": "m"},
                       {"name": "replica", "port": 2, "replicaof": "localhost:master"}], redis_server_password="g")
    master, replica = resolve(hostvars)
    assert replica["password"] == "g"
    assert replica["masterauth"] == "m"


def test_explicit_masterauth_wins():
    hostvars = single([{"name": "master", "port": 1},
                       {"name": "replica", "port": 2, "replicaof": "localhost:master", "masterauth": "x"}])
    assert resolve(hostvars)[1]["masterauth"] == "x"


def test_secrets_false_leaves_passwords_out():
    hostvars = {"localhost": dict(GUIDE_BED["localhost"], redis_server_password="pw")}
    for instance in resolve(hostvars, secrets=False):
        assert "password" not in instance and "masterauth" not in instance
        assert "pw" not in repr(instance)


def test_host_without_instances_gets_the_default_instance():
    [instance] = resolve({"db": {}})
    assert (instance["name"], instance["port"], instance["role"]) == ("main", 6379, "master")
    assert instance["advertise_address"] == "db"


def test_defaults_argument_supplies_values_hostvars_lack():
    defaults = {"redis_server_instances": [{"name": "cache", "port": 7000}], "redis_server_bind": ["::1"],
                "redis_server_replica_read_only": False}
    [instance] = resolve({"db": {}}, defaults=defaults)
    assert (instance["name"], instance["port"], instance["bind"], instance["login_host"]) == ("cache", 7000, ["::1"], "::1")


def test_python_fallbacks_equal_the_roles_defaults():
    with open(ROLE_DEFAULTS) as handle:
        role_defaults = yaml.safe_load(handle)
    for variable, value in topology.DEFAULTS.items():
        assert role_defaults[variable] == value, variable


# --- a three host group ---------------------------------------------------------------------

def test_three_host_group():
    hostvars = with_group_vars(GROUP)
    resolved = resolve_play(hostvars, list(hostvars))
    [master] = resolved["redis-1"]
    assert master["role"] == "master"
    assert master["bind"] == ["127.0.0.1", "10.0.0.11"]
    assert master["login_host"] == "127.0.0.1"
    assert [(r["host"], r["port"], r["inventory_host"]) for r in master["replicas"]] == [
        ("10.0.0.12", 6379, "redis-2"), ("10.0.0.13", 6379, "redis-3")]
    for name in ("redis-2", "redis-3"):
        [replica] = resolved[name]
        assert replica["replicaof"] == {"host": "10.0.0.11", "port": 6379}
        assert replica["master"] == {"inventory_host": "redis-1", "instance": "main"}
        assert replica["masterauth"] == "group secret"


def test_each_host_gets_its_own_list():
    hostvars = with_group_vars(GROUP)
    [replica] = resolve(hostvars, "redis-3")
    assert replica["advertise_address"] == "10.0.0.13"


def test_advertise_address_overrides_ansible_host():
    hostvars = with_group_vars(GROUP)
    hostvars["redis-1"]["redis_server_advertise_address"] = "redis-1.internal"
    [replica] = resolve(hostvars, "redis-2")
    assert replica["replicaof"] == {"host": "redis-1.internal", "port": 6379}


def test_advertise_address_falls_back_to_the_inventory_name():
    hostvars = {"a": {}, "b": {"redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "a"}]}}
    assert resolve(hostvars, "b")[0]["replicaof"] == {"host": "a", "port": 6379}


def test_error_on_another_host_fails_every_host():
    hostvars = with_group_vars(GROUP)
    hostvars["redis-3"]["redis_server_instances"] = [{"name": "main", "port": 0}]
    message = error_of(hostvars, "redis-1")
    assert_names(message, "redis-3", "port", "out of range")


def test_chained_replication_and_replica_announce():
    hostvars = with_group_vars({
        "a": {"ansible_host": "10.0.0.1"},
        "b": {"ansible_host": "10.0.0.2", "redis_server_instances": [
            {"name": "main", "port": 6379, "replicaof": "a", "config": {"replica-announce-ip": "192.0.2.2"}}]},
        "c": {"ansible_host": "10.0.0.3", "redis_server_instances": [{"name": "main", "port": 6379, "replicaof": "b"}]},
    })
    resolved = resolve_play(hostvars, list(hostvars))
    assert resolved["a"][0]["replicas"][0]["host"] == "192.0.2.2"
    assert resolved["b"][0]["role"] == "replica"
    assert [r["inventory_host"] for r in resolved["b"][0]["replicas"]] == ["c"]


# --- replicaof forms --------------------------------------------------------------------------

def test_replicaof_bare_host_takes_its_only_instance():
    hostvars = with_group_vars(GROUP)
    assert resolve(hostvars, "redis-2")[0]["master"]["instance"] == "main"


def test_replicaof_address_outside_the_inventory():
    hostvars = single([{"name": "main", "port": 6379, "replicaof": {"host": "192.0.2.9", "port": 6380}}],
                      redis_server_password="pw")
    [instance] = resolve(hostvars)
    assert instance["replicaof"] == {"host": "192.0.2.9", "port": 6380}
    assert instance["master"] is None
    assert instance["masterauth"] == "pw"


def test_replicaof_address_of_a_play_instance_is_linked():
    hostvars = with_group_vars(GROUP)
    hostvars["redis-2"]["redis_server_instances"] = [
        {"name": "main", "port": 6379, "replicaof": {"host": "10.0.0.11", "port": 6379}}]
    resolved = resolve_play(hostvars, list(hostvars))
    assert resolved["redis-2"][0]["master"] == {"inventory_host": "redis-1", "instance": "main"}
    assert [r["inventory_host"] for r in resolved["redis-1"][0]["replicas"]] == ["redis-2", "redis-3"]


def test_replicaof_host_with_several_instances_needs_the_instance():
    hostvars = dict(GUIDE_BED)
    hostvars["other"] = {"redis_server_instances": [{"name": "main", "port": 1, "replicaof": "localhost"}]}
    message = error_of(hostvars, "other")
    assert_names(message, "redis_server_instances[0].replicaof", "'other'", "'main'", "2 instances",
                 "master, replica", "localhost:INSTANCE")


def test_replicaof_unknown_host():
    message = error_of(single([{"name": "master", "port": 1, "replicaof": "nowhere:main"}]))
    assert_names(message, "replicaof", "nowhere", "not in the inventory", "localhost", "Fix:")


def test_replicaof_unknown_host_with_a_port_suggests_the_mapping():
    message = error_of(single([{"name": "master", "port": 1, "replicaof": "10.0.0.5:6380"}]))
    assert_names(message, "{host: 10.0.0.5, port: 6380}")


def test_replicaof_unknown_instance():
    message = error_of(single([{"name": "master", "port": 1}, {"name": "r", "port": 2, "replicaof": "localhost:mastr"}]))
    assert_names(message, "replicaof", "'mastr'", "it has: master, r", "instance 'r'")


def test_replicaof_itself():
    message = error_of(single([{"name": "master", "port": 1, "replicaof": "localhost:master"}]))
    assert_names(message, "redis_server_instances[0].replicaof", "itself", "instance 'master'", "remove it")


def test_replicaof_itself_as_only_instance_and_as_address():
    assert "itself" in error_of(single([{"name": "main", "port": 1, "replicaof": "localhost"}]))
    assert "itself" in error_of(single([{"name": "main", "port": 6, "replicaof": {"host": "127.0.0.1", "port": 6}}]))


def test_replicaof_host_outside_the_play():
    hostvars = with_group_vars(GROUP)
    message = error_of(hostvars, "redis-2", ["redis-2", "redis-3"])
    assert_names(message, "replicaof", "redis-1", "not in this play", "--limit", "{host: ADDRESS, port: PORT}")


def test_replicaof_bad_mapping():
    message = error_of(single([{"name": "main", "port": 1, "replicaof": {"host": "x", "prot": 2}}]))
    assert_names(message, "replicaof", "host and port", "prot")
    message = error_of(single([{"name": "main", "port": 1, "replicaof": {"host": "x", "port": 99999}}]))
    assert_names(message, "replicaof.port", "99999")


def test_two_instance_cycle():
    hostvars = single([{"name": "a", "port": 1, "replicaof": "localhost:b"},
                       {"name": "b", "port": 2, "replicaof": "localhost:a"}])
    message = error_of(hostvars)
    assert_names(message, "replicaof", "cycle", "localhost:a -> localhost:b -> localhost:a", "removing its replicaof")
    assert message.count("replication cycle") == 1


def test_longer_cycle_across_hosts():
    hostvars = {
        "x": {"redis_server_instances": [{"name": "main", "port": 1, "replicaof": "y"}]},
        "y": {"redis_server_instances": [{"name": "main", "port": 1, "replicaof": "z"}]},
        "z": {"redis_server_instances": [{"name": "main", "port": 1, "replicaof": "x"}]},
    }
    message = error_of(hostvars)
    assert_names(message, "cycle", "x:main -> y:main -> z:main -> x:main")


def test_replica_of_a_cycle_is_not_a_second_cycle():
    hostvars = single([{"name": "a", "port": 1, "replicaof": "localhost:b"},
                       {"name": "b", "port": 2, "replicaof": "localhost:a"},
                       {"name": "c", "port": 3, "replicaof": "localhost:a"}])
    assert error_of(hostvars).count("replication cycle") == 1


# --- names, ports, keys ---------------------------------------------------------------------

@pytest.mark.parametrize("name", ["Main", "1st", "", "with space", "a.b", 5, None])
def test_bad_names(name):
    message = error_of(single([{"name": name, "port": 1}]))
    assert_names(message, "redis_server_instances[0].name", "host 'localhost'", "^[a-z][a-z0-9_-]*$")


def test_missing_name_and_port():
    message = error_of(single([{"replicaof": None}]))
    assert_names(message, "redis_server_instances[0].name", "missing", "redis_server_instances[0].port")


@pytest.mark.parametrize("port, words", [
    (70000, ["70000", "out of range"]), (0, ["0", "out of range"]), (-1, ["out of range"]),
    ("abc", ["'abc'", "not a TCP port"]), (True, ["True"]), (None, ["None"]),
])
def test_bad_ports(port, words):
    message = error_of(single([{"name": "main", "port": port}]))
    assert_names(message, "redis_server_instances[0].port", "instance 'main'", "1 and 65535", *words)


def test_port_as_digit_string_is_accepted():
    assert resolve(single([{"name": "main", "port": "6380"}]))[0]["port"] == 6380


def test_port_used_twice():
    message = error_of(single([{"name": "master", "port": 1}, {"name": "other", "port": 1}]))
    assert_names(message, "redis_server_instances[1].port", "port 1 is used twice", "'master' and 'other'",
                 "own port")


def test_same_port_on_different_hosts_is_fine():
    assert resolve_play(with_group_vars(GROUP), list(GROUP))


def test_duplicate_names():
    message = error_of(single([{"name": "main", "port": 1}, {"name": "main", "port": 2}]))
    assert_names(message, "redis_server_instances[1].name", "used twice", "[0] and [1]", "own name")


def test_unknown_key_suggests_the_right_one():
    message = error_of(single([{"name": "main", "port": 1, "replicaoff": "x"}]))
    assert_names(message, "redis_server_instances[0]", "unknown key 'replicaoff'", "did you mean 'replicaof'",
                 "instance 'main'", "config")


def test_instances_must_be_a_list_of_mappings():
    assert_names(error_of({"h": {"redis_server_instances": {"name": "main"}}}), "redis_server_instances", "list")
    assert_names(error_of({"h": {"redis_server_instances": []}}), "non-empty")
    assert_names(error_of({"h": {"redis_server_instances": ["main"]}}), "redis_server_instances[0]", "mapping")


def test_replica_read_only_on_a_master():
    message = error_of(single([{"name": "main", "port": 1, "replica_read_only": False}]))
    assert_names(message, "redis_server_instances[0].replica_read_only", "master", "instance 'main'", "Fix:")


def test_replica_read_only_on_a_replica():
    replica = {"name": "r", "port": 2, "replicaof": "localhost:m", "replica_read_only": "no"}
    hostvars = single([{"name": "m", "port": 1}, replica])
    assert resolve(hostvars)[1]["replica_read_only"] is False


def test_host_level_replica_read_only():
    hostvars = single([{"name": "m", "port": 1}, {"name": "r", "port": 2, "replicaof": "localhost:m"}],
                      redis_server_replica_read_only=False)
    assert resolve(hostvars)[1]["replica_read_only"] is False


def test_bad_booleans():
    message = error_of(single([{"name": "m", "port": 1}], redis_server_replica_read_only="maybe"))
    assert_names(message, "redis_server_replica_read_only of host 'localhost'", "true or false")


# --- passwords and bind ---------------------------------------------------------------------

@pytest.mark.parametrize("password", ["a\nb", "a\rb", "a\0b"])
def test_passwords_with_line_breaks_or_nul_are_refused(password):
    message = error_of(single([{"name": "main", "port": 1}], redis_server_password=password))
    assert_names(message, "redis_server_password of host 'localhost'", "single-line")
    assert password not in message
    message = error_of(single([{"name": "main", "port": 1, "password": password}]))
    assert_names(message, "redis_server_instances[0].password", "instance 'main'")
    replica = {"name": "r", "port": 2, "replicaof": "localhost:m", "masterauth": password}
    message = error_of(single([{"name": "m", "port": 1}, replica]))
    assert_names(message, "redis_server_instances[1].masterauth")


def test_password_must_be_a_string():
    assert_names(error_of(single([{"name": "main", "port": 1, "password": 1234}])), "password", "must be a string")


def test_special_characters_are_accepted():
    password = "s3cret pass#with 'quotes' \"and\" \\backslash"
    assert resolve(single([{"name": "main", "port": 1}], redis_server_password=password))[0]["password"] == password


def test_public_bind_without_password_is_refused():
    message = error_of(single([{"name": "main", "port": 1, "bind": ["127.0.0.1", "10.0.0.1"]}]))
    assert_names(message, "redis_server_instances[0].bind", "10.0.0.1", "without a password",
                 "redis_server_password", "redis_server_allow_no_password")
    message = error_of(single([{"name": "main", "port": 1}], redis_server_bind="0.0.0.0"))
    assert_names(message, "0.0.0.0")


def test_public_bind_without_password_when_allowed():
    hostvars = single([{"name": "main", "port": 1}], redis_server_bind=["*"], redis_server_allow_no_password=True)
    assert resolve(hostvars)[0]["login_host"] == "127.0.0.1"


@pytest.mark.parametrize("bind", [["127.0.0.1"], ["::1"], ["-::1", "127.0.0.2"], ["localhost"]])
def test_loopback_bind_needs_no_password(bind):
    assert resolve(single([{"name": "main", "port": 1, "bind": bind}]))


def test_login_host_is_the_first_address_without_loopback():
    hostvars = single([{"name": "main", "port": 1, "bind": ["10.0.0.1", "10.0.0.2"], "password": "p"}])
    assert resolve(hostvars)[0]["login_host"] == "10.0.0.1"


def test_masteruser_needs_masterauth():
    hostvars = {"localhost": {"redis_server_instances": [
        {"name": "m", "port": 1}, {"name": "r", "port": 2, "replicaof": "localhost:m"}],
        "redis_server_masteruser": "repl"}}
    message = error_of(hostvars)
    assert_names(message, "redis_server_instances[1].masteruser", "repl", "masterauth")
    hostvars["localhost"]["redis_server_password"] = "pw"
    master, replica = resolve(hostvars)
    assert (master["masteruser"], replica["masteruser"]) == ("", "repl")


# --- config ---------------------------------------------------------------------------------

def test_config_is_merged_and_normalised():
    config = {"maxmemory": "64mb", "appendonly": True, "save": None, "Hz": 20}
    hostvars = single([{"name": "main", "port": 1, "config": config}],
                      redis_server_config={"maxmemory": "32mb", "save": ["900 1", "300 10"], "rdbcompression": False,
                                           "notify-keyspace-events": ""})
    assert resolve(hostvars)[0]["config"] == {"maxmemory": "64mb", "rdbcompression": "no",
                                              "notify-keyspace-events": '""', "appendonly": "yes", "hz": "20"}


@pytest.mark.parametrize("directive", ["port", "requirepass", "replicaof", "slaveof", "dir", "daemonize", "include",
                                       "masterauth", "bind", "REPLICA-read-only", "slave-read-only",
                                       # Valkey 8's names of masterauth and masteruser (the dialect table)
                                       "primaryauth", "PrimaryUser"])
def test_config_refuses_directives_the_role_writes(directive):
    message = error_of(single([{"name": "main", "port": 1, "config": {directive: "x"}}]))
    assert_names(message, "redis_server_instances[0].config", directive.lower(), "the role writes this directive")
    message = error_of(single([{"name": "main", "port": 1}], redis_server_config={directive: "x"}))
    assert_names(message, "redis_server_config of host 'localhost'", "remove it from redis_server_config")


@pytest.mark.parametrize("value, words", [
    ('"unbalanced', ["not valid redis.conf syntax"]), ("a\nb", ["line break"]), ("   ", ["blank"]),
    ({"a": 1}, ["must be a string"]), ([], ["empty list"]),
])
def test_config_refuses_values_redis_cannot_read(value, words):
    message = error_of(single([{"name": "main", "port": 1, "config": {"maxmemory": value}}]))
    assert_names(message, "directive 'maxmemory'", *words)


def test_config_must_be_a_mapping_of_directives():
    assert_names(error_of(single([{"name": "main", "port": 1}], redis_server_config=["maxmemory 1"])), "mapping")
    assert_names(error_of(single([{"name": "main", "port": 1, "config": {"max memory": 1}}])), "directive name")


# --- the role's view must match hostvars ----------------------------------------------------

def test_current_values_equal_to_hostvars_pass():
    current = {"redis_server_password": "", "redis_server_instances": GUIDE_BED["localhost"]["redis_server_instances"]}
    assert resolve(GUIDE_BED, current=current)


def test_current_value_hidden_from_other_hosts_is_refused():
    message = error_of(GUIDE_BED, current={"redis_server_password": "only-in-play-vars"})
    assert_names(message, "redis_server_password of host 'localhost'", "inventory", "extra var")
    assert "only-in-play-vars" not in message


# --- quoting --------------------------------------------------------------------------------

TRICKY = [
    "plain", "", "s3cret pass#with 'quotes' \"and\" \\backslash", "#start", "ends\\", "\"", "'", "  spaces  ",
    "tab\there", "ünïcødé", "a\\x41b", "semi;colon$dollar{brace}", "\x01ctl\x7f",
]


@pytest.mark.parametrize("value", TRICKY)
def test_quote_round_trips_through_sdssplitargs(value):
    assert split_args("requirepass " + quote(value)) == ["requirepass", value]


def test_quote_leaves_simple_values_bare():
    assert quote("127.0.0.1") == "127.0.0.1"
    assert quote("/var/lib/redis/main") == "/var/lib/redis/main"
    assert quote(True) == "yes" and quote(False) == "no" and quote(6379) == "6379"
    assert quote("") == '""'


def test_split_args_matches_redis():
    assert split_args('save 900 1') == ["save", "900", "1"]
    assert split_args('a "b c" \'d e\' "\\x41\\n"') == ["a", "b c", "d e", "A\n"]
    for bad in ('a "b', "a 'b", 'a "b"c'):
        with pytest.raises(ValueError):
            split_args(bad)


def _free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.mark.skipif(not shutil.which("redis-server"), reason="redis-server is not installed")
def test_real_redis_server_reads_quoted_passwords():
    """redis-server parses a config written with quote() and accepts each password back."""
    redis = pytest.importorskip("redis")
    password = "s3cret pass#with 'quotes' \"and\" \\backslash ünï\ttab"
    masterauth = "\\\"#'"
    workdir = tempfile.mkdtemp(prefix="redisops-quote-")
    port = _free_port()
    conf = os.path.join(workdir, "redis.conf")
    with open(conf, "w", encoding="utf-8") as handle:
        handle.write("port %d\nbind 127.0.0.1\nsave %s\ndir %s\n" % (port, quote(""), quote(workdir)))
        handle.write("requirepass %s\nmasterauth %s\n" % (quote(password), quote(masterauth)))
    proc = subprocess.Popen(["redis-server", conf], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    try:
        client = redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True, socket_timeout=2)
        for attempt in range(100):
            if proc.poll() is not None:
                pytest.fail("redis-server refused the config:\n%s" % proc.stdout.read().decode(errors="replace"))
            try:
                assert client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05 + attempt * 0.001)
        assert client.config_get("requirepass")["requirepass"] == password
        assert client.config_get("masterauth")["masterauth"] == masterauth
        with pytest.raises(redis.AuthenticationError):
            redis.Redis(host="127.0.0.1", port=port, password="s3cret", socket_timeout=2).ping()
    finally:
        proc.terminate()
        proc.wait(10)
        shutil.rmtree(workdir, ignore_errors=True)


# --- bind Redis cannot listen on, directives that change who may log in ----------------------

@pytest.mark.parametrize("bind, words", [
    (["127.0.0.1", "0.0.0.0"], ["0.0.0.0 listens on every IPv4 address", "127.0.0.1", "would not start"]),
    (["*", "10.0.0.1"], ["* listens on every IPv4 address", "10.0.0.1"]),
    (["::", "-::1"], [":: listens on every IPv6 address", "::1"]),
    (["127.0.0.1", "127.0.0.1"], ["127.0.0.1 is listed twice"]),
    (["127.0.0.1", "a b"], ["'a b' is not an address"]),
])
def test_bind_lists_redis_cannot_listen_on_are_refused(bind, words):
    message = error_of(single([{"name": "main", "port": 1, "bind": bind, "password": "p"}]))
    assert_names(message, "redis_server_instances[0].bind of host 'localhost' (instance 'main')", "Fix:", *words)
    message = error_of(single([{"name": "main", "port": 1}], redis_server_bind=bind, redis_server_password="p"))
    assert_names(message, "redis_server_bind of host 'localhost'", *words)


@pytest.mark.parametrize("bind", [["0.0.0.0", "::"], ["*", "-::*"], ["127.0.0.1", "::1"], ["0.0.0.0", "db.example"]])
def test_a_wildcard_of_each_family_is_fine(bind):
    assert resolve(single([{"name": "main", "port": 1, "bind": bind, "password": "p"}]))[0]["bind"] == bind


@pytest.mark.parametrize("directive, words", [
    ("aclfile", ["changes who may log in", "redis_server_password"]),
    ("user", ["changes who may log in", "redis_server_replication_password"]),
    ("rename-command", ["renames or removes commands", "ACL users"]),
    ("tls-port", ["written by the role when redis_server_tls is true", "redis_server_tls_cert"]),
    ("tls-key-file", ["redis_server_tls_key"]),
    ("tls-key-file-pass", ["holds a secret", "unencrypted redis_server_tls_key"]),
    ("tls-client-key-file-pass", ["holds a secret"]),
    ("cluster-enabled", ["Redis Cluster"]),
    ("ACLFILE", ["changes who may log in"]),
])
def test_config_refuses_directives_that_change_who_may_log_in_or_where_data_goes(directive, words):
    message = error_of(single([{"name": "main", "port": 1, "config": {directive: "x"}}]))
    assert_names(message, "redis_server_instances[0].config of host 'localhost' (instance 'main')",
                 "directive '%s'" % directive.lower(), "refused", "Fix: remove it from config and use", *words)
    message = error_of(single([{"name": "main", "port": 1}], redis_server_config={directive: "x"}))
    assert_names(message, "redis_server_config of host 'localhost'", "Fix: remove it from redis_server_config", *words)
    assert "'x'" not in message


# --- Jinja markers in a password ---------------------------------------------------------------

class RawHostvars(dict):
    """hostvars as Ansible hands them to the filter: rendered by [], raw by raw_get()."""

    def __init__(self, rendered, raw):
        super().__init__(rendered)
        self.raw = raw

    def raw_get(self, host):
        return self.raw[host]


def templated(rendered_password, raw_password, instance_key=None):
    raw_value = trust_as_template(raw_password) if raw_password is not None else None
    instance, raw_instance = {"name": "main", "port": 1}, {"name": "main", "port": 1}
    if instance_key:
        instance[instance_key], raw_instance[instance_key] = rendered_password, raw_value
        return RawHostvars({"localhost": {"redis_server_instances": [instance]}},
                           {"localhost": {"redis_server_instances": [raw_instance]}})
    return RawHostvars({"localhost": {"redis_server_instances": [instance], "redis_server_password": rendered_password}},
                       {"localhost": {"redis_server_password": raw_value}})


@pytest.mark.parametrize("raw", ["{{ abc }}x", "x{% if true %}y{% endif %}", "{{ a }}{{ b }}", "pw{# note #}"])
def test_a_password_mixing_text_and_jinja_is_refused(raw):
    message = error_of(templated("rendered-value", raw))
    assert_names(message, "redis_server_password of host 'localhost'", "renders as a template", "!unsafe")
    assert "rendered-value" not in message and raw not in message
    message = error_of(templated("rendered-value", raw, "password"))
    assert_names(message, "redis_server_instances[0].password of host 'localhost' (instance 'main')", "!unsafe")


def test_a_password_that_is_one_expression_is_a_reference_and_allowed():
    assert resolve(templated("from-vault", "{{ vault_redis_password }}"))[0]["password"] == "from-vault"


def test_a_password_marked_unsafe_is_taken_literally():
    hostvars = RawHostvars({"localhost": {"redis_server_instances": [{"name": "main", "port": 1}],
                                          "redis_server_password": "{{ abc }}x"}},
                           {"localhost": {"redis_server_password": literal("{{ abc }}x")}})  # untrusted: !unsafe
    assert resolve(hostvars)[0]["password"] == "{{ abc }}x"
