# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""A running instance against the program on disk (plugins/module_utils/binary.py), over the
recorded INFO server of Redis 7.0, 8.0 and Valkey 8.1 and real --version outputs, and what the
role's model makes of the answer (drift line, rolling restart)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.binary import (
    describe,
    installed_build,
    replaced_binary,
    running_build,
)
from ansible_collections.redisops.redis.plugins.module_utils.dialect import rdb_version, replication_refusal
from ansible_collections.redisops.redis.plugins.module_utils.replication import parse_info
from ansible_collections.redisops.redis.plugins.plugin_utils import model
from ansible_collections.redisops.redis.plugins.plugin_utils.upgrade import refused_pairs

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures", "info")

# Recorded: Debian bookworm's two redis-server builds of 7.0.15 (main: ~deb12u7, security: ~deb12u10).
OLD_7015 = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=e08dbad3e06f3fb"
NEW_7015 = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0"
REDIS_80 = "Redis server v=8.0.2 sha=00000000:1 malloc=jemalloc-5.3.0 bits=64 build=b843bbd074c0e1da"
VALKEY_81 = "Valkey server v=8.1.1 sha=00000000:1 malloc=jemalloc-5.3.0 bits=64 build=384b3c0d511f998a"


def recorded(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return running_build(parse_info(handle.read()))


@pytest.mark.parametrize("output, expected", [
    (NEW_7015, {"name": "redis", "version": "7.0.15", "build_id": "ae4d7c971a948f0"}),
    (VALKEY_81, {"name": "valkey", "version": "8.1.1", "build_id": "384b3c0d511f998a"}),
    ("Redis server v=6.0.16 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64 build=6D95E1AF3A2C082A",
     {"name": "redis", "version": "6.0.16", "build_id": "6d95e1af3a2c082a"}),
    ("Redis server v=3.2.1 sha=00000000:0 malloc=jemalloc-4.0.3 bits=64",
     {"name": "redis", "version": "3.2.1", "build_id": None}),
])
def test_installed_build_from_version_output(output, expected):
    assert installed_build(output) == expected


@pytest.mark.parametrize("output", ["", None, "No such file or directory", "redis-server: command not found"])
def test_no_installed_build_without_a_version(output):
    assert installed_build(output) is None


def test_running_build_from_recorded_info():
    redis70 = recorded("redis-7.0-master.txt")
    assert redis70 == {"name": "redis", "version": "7.0.15", "build_id": "ae4d7c971a948f0",
                       "executable": "/usr/bin/redis-server", "run_id": "f7856e9f873cc6bb5a11ce3f9f3d2fb9c1db8e13",
                       "process_id": redis70["process_id"]}
    assert isinstance(redis70["process_id"], int)
    valkey = recorded("valkey-8.1-master.txt")
    # Valkey reports its own version and the build id under the Redis name.
    assert (valkey["name"], valkey["version"], valkey["build_id"]) == ("valkey", "8.1.1", "384b3c0d511f998a")
    old = running_build({"redis_version": "4.0.9", "run_id": "x"})
    assert old["build_id"] is None and old["executable"] is None and old["process_id"] is None


@pytest.mark.parametrize("fixture, output", [
    ("redis-7.0-master.txt", NEW_7015),
    ("redis-7.0-replica.txt", NEW_7015),
    ("redis-8.0-master.txt", REDIS_80),
    ("valkey-8.1-master.txt", VALKEY_81),
])
def test_an_instance_running_the_installed_program_needs_no_restart(fixture, output):
    assert replaced_binary(recorded(fixture), installed_build(output)) is None


def test_a_rebuild_of_the_same_version_is_told_by_its_build_id():
    running = dict(recorded("redis-7.0-master.txt"), build_id="e08dbad3e06f3fb")
    found = replaced_binary(running, installed_build(NEW_7015))
    assert found == {
        "directive": "binary", "file": "redis-server 7.0.15 build ae4d7c971a948f0",
        "running": "redis-server 7.0.15 build e08dbad3e06f3fb",
        "msg": "runs redis-server 7.0.15 build e08dbad3e06f3fb (/usr/bin/redis-server), the installed binary is "
               "redis-server 7.0.15 build ae4d7c971a948f0: a restart runs the installed one"}


@pytest.mark.parametrize("fixture, output, running_text, installed_text", [
    ("redis-7.0-master.txt", REDIS_80, "redis-server 7.0.15 build ae4d7c971a948f0", "redis-server 8.0.2 build b843bbd074c0e1da"),
    ("redis-8.0-master.txt", VALKEY_81, "redis-server 8.0.2 build b843bbd074c0e1da", "valkey-server 8.1.1 build 384b3c0d511f998a"),
])
def test_another_version_or_flavor_is_a_replaced_binary(fixture, output, running_text, installed_text):
    found = replaced_binary(recorded(fixture), installed_build(output))
    assert (found["running"], found["file"]) == (running_text, installed_text)
    assert found["msg"].startswith("runs " + running_text + " (")


def test_without_build_ids_the_version_decides():
    running = running_build({"redis_version": "6.0.16"})
    assert replaced_binary(running, installed_build("Redis server v=6.0.16 sha=0 bits=64")) is None
    found = replaced_binary(running, installed_build("Redis server v=6.2.5 sha=0 bits=64"))
    assert found["msg"] == "runs redis-server 6.0.16, the installed binary is redis-server 6.2.5: a restart runs the installed one"
    assert describe({"name": "valkey", "version": "8.1.1"}) == "valkey-server 8.1.1"


@pytest.mark.parametrize("running, installed", [
    (None, {"name": "redis", "version": "7.0.15"}),
    ({"name": "redis", "version": None}, {"name": "redis", "version": "7.0.15"}),
    ({"name": "redis", "version": "7.0.15"}, None),
])
def test_nothing_is_compared_when_a_side_is_unknown(running, installed):
    assert replaced_binary(running, installed) is None


# The role's model: the drift line and the rolling restart of an instance on a replaced binary.
INSTANCES = [dict(name="master", port=6379), dict(name="replica", port=6479, replicaof="localhost:master")]
BED = {"localhost": dict(ansible_host="127.0.0.1", redis_server_password="pw", redis_server_instances=INSTANCES)}
DIRS = {"conf_dir": "/etc/redis", "data_dir": "/var/lib/redis", "log_dir": "/var/log/redis", "run_dir": "/run/redis"}


def test_the_model_reports_and_restarts_an_instance_on_a_replaced_binary():
    instances = model.instance_model(model.play_model(BED, "localhost", ["localhost"]), "localhost", DIRS)
    found = replaced_binary(dict(recorded("redis-7.0-master.txt"), build_id="e08dbad3e06f3fb"), installed_build(NEW_7015))
    read = {"instances": [{"instance": "master", "replication": {}, "pending_restart": [found]},
                          {"instance": "replica", "replication": {}, "pending_restart": []}]}
    pending = model.pending_restarts(read)
    assert pending == {"master": [found]}
    drift = model.instance_drift(instances, {}, pending, {"instances": [{"instance": "master"}, {"instance": "replica"}]})
    assert drift["master"] == ["restart pending: " + found["msg"]] and drift["replica"] == []
    # Restarted even when the run wrote its main file back (a pending directive is then forgotten).
    written = {"files": [{"path": "/etc/redis/redis-master.conf", "changed": True, "restart": False}]}
    assert [item["name"] for item in model.restart_instances(instances, written, pending)] == ["master"]
    config_only = {"master": [{"directive": "maxmemory", "file": "64mb", "running": "0"}]}
    assert model.restart_instances(instances, written, config_only) == []


# The RDB formats, as the real servers wrote and loaded them (dialect.py says how they were tried).
@pytest.mark.parametrize("server, rdb", [
    ("6.0.16", 9), ("7.0.15", 10), ("8.0.2", 12), ({"name": "valkey", "version": "8.1.1"}, 11),
    ("4.0.9", 8), ("99.0", None), ({"name": "valkey", "version": "6.0"}, None),
])
def test_rdb_version_per_server(server, rdb):
    assert rdb_version(server) == rdb


VALKEY81 = {"name": "valkey", "version": "8.1.1"}


@pytest.mark.parametrize("master, replica", [
    ("6.0.16", "7.0.15"), ("7.0.15", "8.0.2"), ("7.0.15", VALKEY81), (VALKEY81, "8.0.2"), ("7.0.15", "7.0.15"),
    ("8.0.2", "99.0"),  # a version the table does not know is not refused
])
def test_pairs_that_replicated(master, replica):
    assert replication_refusal(master, replica) is None


@pytest.mark.parametrize("master, replica, formats", [
    ("7.0.15", "6.0.16", (10, 9)), ("8.0.2", "6.0.16", (12, 9)), ("8.0.2", "7.0.15", (12, 10)),
    (VALKEY81, "6.0.16", (11, 9)), (VALKEY81, "7.0.15", (11, 10)), ("8.0.2", VALKEY81, (12, 11)),
])
def test_pairs_the_replica_refused(master, replica, formats):
    why = replication_refusal(master, replica)
    assert "sends RDB format %d in a full sync" % formats[0] in why
    assert "loads RDB format %d at most" % formats[1] in why


def test_the_role_refuses_a_pair_naming_both_instances_and_versions():
    group = {
        "h1": dict(ansible_host="10.0.0.1", redis_server_password="pw", redis_server_instances=[
            dict(name="main", port=6379)]),
        "h2": dict(ansible_host="10.0.0.2", redis_server_password="pw", redis_server_instances=[
            dict(name="main", port=6379, replicaof="h1")]),
    }
    play = model.play_model(group, "h2", ["h1", "h2"])
    replica = model.instance_model(play, "h2", DIRS)
    master = model.instance_model(model.play_model(group, "h1", ["h1", "h2"]), "h1", DIRS)
    servers = {"h1": {"name": "redis", "version": "8.0.2"}, "h2": {"name": "valkey", "version": "8.1.1"}}
    [message] = refused_pairs(replica, "h2", servers)
    assert message.startswith("Replica h2:main cannot replicate from its master h1:main: Redis 8.0.2 sends RDB format 12")
    assert "Valkey 8.1.1 loads RDB format 11 at most" in message and "Fix: " in message
    assert refused_pairs(master, "h1", servers) == []
    assert refused_pairs(replica, "h2", dict(servers, h2={"name": "redis", "version": "8.0.2"})) == []
    assert refused_pairs(replica, "h2", {"h2": servers["h2"]}) == []  # the master's host not in the play
    assert refused_pairs(replica, "h2", dict(servers, h1={"name": "redis", "version": ""})) == []
