# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Decisions of the failover module over recorded INFO output: promote, re-point, nothing, or refuse."""

from __future__ import annotations

import os

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.failover import (
    FENCE_REPLICAS,
    FailoverError,
    Node,
    assess,
    caught_up,
    choose_unplanned,
    credential_commands,
    credential_directives,
    fence_directives,
    follow_command,
    follows,
    forget_master_commands,
    held_offset,
    pause_commands,
    promote_command,
    stop_writes_method,
)
from ansible_collections.redisops.redis.plugins.module_utils.replication import parse_info, replication_state
from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import MASK

INFO_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "info")
SECRET = "s3cret-Value"


def state(name, **changes):
    """The normalised state of a recorded INFO output, with some fields changed."""
    with open(os.path.join(INFO_DIR, name)) as handle:
        result = replication_state(parse_info(handle.read()))
    result.update(changes)
    return result


def no_dns(host):
    return set()


# In the recordings the master listens on 127.0.0.1:16379 and its replica on 16479.
MASTER = Node("m", "127.0.0.1", 16379, state("redis-7.0-master.txt"))
TARGET = Node("t", "127.0.0.1", 16479, state("redis-7.0-replica.txt"))
SIBLING = Node("s", "127.0.0.1", 16579, state("redis-7.0-replica.txt"))
PROMOTED = Node("t", "127.0.0.1", 16479, state("redis-7.0-master.txt"))
DEMOTED = Node("m", "127.0.0.1", 16379, state("redis-7.0-replica.txt", master_port=16479))
MOVED = Node("s", "127.0.0.1", 16579, state("redis-7.0-replica.txt", master_port=16479))


@pytest.mark.parametrize("version, method", [
    ("4.0.6", "fence"), ("5.0.14", "fence"), ("6.0.16", "fence"), ("6.2.0", "pause"), ("7.0.15", "pause"),
    ("8.1.1", "pause"), ({"name": "valkey", "version": "8.1.8"}, "pause"), ({"name": "redis", "version": "6.2.5"}, "pause"),
])
def test_writes_are_paused_from_6_2_and_fenced_before(version, method):
    assert stop_writes_method(version) == method


def test_pause_and_unpause_from_6_2():
    stop, resume = pause_commands("7.0.15", 10000)
    assert [command.args for command in stop] == [("CLIENT", "PAUSE", "10000", "WRITE")]
    assert [command.args for command in resume] == [("CLIENT", "UNPAUSE")]
    assert fence_directives("7.0.15") == ()


def test_fence_before_6_2_restores_the_previous_values():
    current = {"min-replicas-to-write": "1", "min-replicas-max-lag": "10"}
    stop, resume = pause_commands("6.0.16", 10000, current)
    assert [command.args for command in stop] == [("CONFIG", "SET", "min-replicas-to-write", str(FENCE_REPLICAS))]
    assert [command.args for command in resume] == [("CONFIG", "SET", "min-replicas-to-write", "1")]
    assert fence_directives("6.0.16") == ("min-replicas-to-write", "min-replicas-max-lag")


def test_fence_sets_a_max_lag_when_it_is_off_and_uses_the_slave_names_before_5():
    current = {"min-slaves-to-write": "0", "min-slaves-max-lag": "0"}
    stop, resume = pause_commands("4.0.6", 10000, current)
    assert [command.args for command in stop] == [
        ("CONFIG", "SET", "min-slaves-to-write", str(FENCE_REPLICAS)), ("CONFIG", "SET", "min-slaves-max-lag", "10")]
    assert [command.args for command in resume] == [
        ("CONFIG", "SET", "min-slaves-to-write", "0"), ("CONFIG", "SET", "min-slaves-max-lag", "0")]
    assert fence_directives("4.0.6") == ("min-slaves-to-write", "min-slaves-max-lag")


@pytest.mark.parametrize("version, verb", [("4.0.6", "SLAVEOF"), ("5.0.14", "REPLICAOF"), ("7.0.15", "REPLICAOF")])
def test_replication_commands_by_version(version, verb):
    assert promote_command(version).args == (verb, "NO", "ONE")
    assert follow_command(version, "10.0.0.2", 6379).args == (verb, "10.0.0.2", "6379")
    assert follow_command(version, "10.0.0.2", 6379).text == "%s 10.0.0.2 6379" % verb


@pytest.mark.parametrize("name", ["redis-4.0-replica.txt", "redis-6.0-replica.txt", "redis-6.2-replica.txt",
                                  "redis-7.0-replica.txt", "redis-8.0-replica.txt", "valkey-8.1-replica.txt"])
def test_follows_reads_every_version(name):
    replica = state(name)
    assert follows(replica, replica["master_host"], replica["master_port"], no_dns)
    assert not follows(replica, replica["master_host"], replica["master_port"] + 1, no_dns)
    assert not follows(replica, "10.9.9.9", replica["master_port"], no_dns)
    assert follows(replica, "db-master", replica["master_port"], lambda host: {replica["master_host"]})


def test_a_replica_in_sync_is_promoted_and_the_others_re_pointed():
    assert assess(TARGET, MASTER, [SIBLING], no_dns) == ("promote", ["s"])


def test_nothing_to_do_when_the_group_follows_the_target_already():
    assert assess(PROMOTED, DEMOTED, [MOVED], no_dns) == ("none", [])


def test_only_re_pointing_when_a_replica_still_follows_the_old_master():
    assert assess(PROMOTED, DEMOTED, [SIBLING], no_dns) == ("repoint", ["s"])


@pytest.mark.parametrize("target, master, words", [
    (PROMOTED, MASTER, ["both masters", "Nothing was changed", "Decide which data to keep"]),
    (TARGET._replace(state=state("redis-7.0-replica.txt", master_port=16999)), MASTER,
     ["replica of 127.0.0.1:16999 (link up), not a replica of the master m (127.0.0.1:16379)", "Name a replica of m"]),
    (TARGET, MASTER._replace(state=state("redis-7.0-replica.txt", master_port=17000)),
     ["m (127.0.0.1:16379) is a replica of 127.0.0.1:17000", "not a master"]),
    (TARGET._replace(state=state("redis-7.0-replica-master-down.txt", master_port=16379)), MASTER,
     ["not in sync with m", "link down", "Promoting it could lose writes", "Nothing was changed"]),
    (TARGET._replace(state=state("redis-7.0-replica-syncing.txt", master_port=16379)), MASTER,
     ["not in sync with m", "full sync in progress"]),
    (PROMOTED, MASTER._replace(state=state("redis-7.0-replica.txt", master_port=17000)),
     ["t (127.0.0.1:16479) is a master already", "not a replica of it"]),
])
def test_refuses_what_it_cannot_promote_safely(target, master, words):
    with pytest.raises(FailoverError) as raised:
        assess(target, master, [SIBLING], no_dns)
    for word in words:
        assert word in str(raised.value)


@pytest.mark.parametrize("master_offset, replica_offset, expected", [
    (128, 128, True), (128, 200, True), (129, 128, False), (None, 128, False), (128, None, False),
])
def test_caught_up(master_offset, replica_offset, expected):
    assert caught_up(master_offset, {"replica_repl_offset": replica_offset}) is expected


def test_credentials_are_set_only_when_they_differ_and_never_shown():
    commands = credential_commands({"masterauth": "old", "masteruser": ""}, SECRET, None, "7.0.15")
    assert [command.args for command in commands] == [("CONFIG", "SET", "masterauth", SECRET)]
    assert commands[0].text == "CONFIG SET masterauth %s" % MASK
    assert credential_commands({"masterauth": SECRET, "masteruser": "repl"}, SECRET, "repl", "7.0.15") == []
    assert credential_commands({"masterauth": None}, "", None, "7.0.15") == []


def test_masteruser_needs_redis_6():
    with pytest.raises(FailoverError, match="masteruser needs Redis 6"):
        credential_commands({"masterauth": ""}, SECRET, "repl", "5.0.14")


def test_a_promoted_instance_forgets_its_old_masters_credentials():
    commands = forget_master_commands({"masterauth": SECRET, "masteruser": "repl"})
    assert [command.args for command in commands] == [
        ("CONFIG", "SET", "masterauth", ""), ("CONFIG", "SET", "masteruser", "")]
    assert all(SECRET not in command.text for command in commands)
    assert forget_master_commands({"masterauth": "", "masteruser": None}) == []


VALKEY_8 = {"name": "valkey", "version": "8.1.8"}


def test_valkey_8_credentials_by_the_names_its_config_rewrite_writes():
    assert credential_directives(VALKEY_8) == {"masterauth": "primaryauth", "masteruser": "primaryuser"}
    assert credential_directives("5.0.14") == {"masterauth": "masterauth"}
    assert credential_directives("6.0.16") == {"masterauth": "masterauth", "masteruser": "masteruser"}
    commands = credential_commands({"masterauth": "old", "masteruser": ""}, SECRET, "repl", VALKEY_8)
    assert [command.args for command in commands] == [
        ("CONFIG", "SET", "primaryauth", SECRET), ("CONFIG", "SET", "primaryuser", "repl")]
    assert commands[0].text == "CONFIG SET primaryauth %s" % MASK
    commands = forget_master_commands({"masterauth": SECRET, "masteruser": "repl"}, VALKEY_8)
    assert [command.text for command in commands] == ['CONFIG SET primaryauth ""', 'CONFIG SET primaryuser ""']
    assert promote_command(VALKEY_8).text == "REPLICAOF NO ONE"


# The group after its master (16379) died: both replicas hold its stream, their links down.
DEAD = Node("m", "127.0.0.1", 16379, None)


def stranded(name, port, offset, **changes):
    changes = dict({"master_port": 16379, "master_repl_offset": offset}, **changes)
    return Node(name, "127.0.0.1", port, state("redis-7.0-replica-master-down.txt", **changes))


def test_held_offset_is_none_for_a_replica_that_never_synced():
    assert held_offset(state("redis-7.0-replica-master-down.txt")) == 128
    assert held_offset(state("redis-7.0-replica-master-down.txt", master_repl_offset=0)) is None


def test_unplanned_chooses_the_replica_holding_the_most():
    nodes = [stranded("a", 16479, 100), stranded("b", 16579, 128), stranded("c", 16679, 0)]
    assert choose_unplanned(DEAD, nodes, resolve=no_dns).name == "b"
    assert choose_unplanned(DEAD, nodes, "b", resolve=no_dns).name == "b"


def test_unplanned_keeps_a_named_replica_level_with_the_best():
    nodes = [stranded("a", 16479, 128), stranded("b", 16579, 128)]
    assert choose_unplanned(DEAD, nodes, resolve=no_dns).name == "a"
    assert choose_unplanned(DEAD, nodes, "b", resolve=no_dns).name == "b"


def test_unplanned_returns_a_replica_an_earlier_run_promoted():
    nodes = [PROMOTED, stranded("s", 16579, 128)]
    assert choose_unplanned(DEAD, nodes, resolve=no_dns) is PROMOTED
    with pytest.raises(FailoverError, match="t .127.0.0.1:16479. runs as the master of the group already"):
        choose_unplanned(DEAD, nodes, "s", resolve=no_dns)


@pytest.mark.parametrize("nodes, wanted, words", [
    ([stranded("a", 16479, 100), stranded("b", 16579, 128)], "a",
     ["a is at replication offset 100, behind b at offset 128", "lose the 28 byte(s)", "Name b as the target"]),
    ([stranded("a", 16479, 0), stranded("b", 16579, 128)], "a", ["a is at replication offset 0 (it holds nothing)"]),
    ([stranded("a", 16479, 100), TARGET._replace(name="b")], None,
     ["b (127.0.0.1:16479) is linked to m (127.0.0.1:16379) right now", "not down"]),
    ([stranded("a", 16479, 100), stranded("b", 16579, 128, master_port=17000)], None,
     ["b (127.0.0.1:16579) is a replica of 127.0.0.1:17000", "not a replica of m"]),
    ([stranded("a", 16479, 100), stranded("b", 16579, 128, master_replid="f" * 40)], None,
     ["different histories", "a replication ID 132ad1b8", "b replication ID ffff"]),
    ([stranded("a", 16479, 0)], None, ["No running replica of m (127.0.0.1:16379) holds any of its data"]),
    ([PROMOTED, PROMOTED._replace(name="u", port=16579)], None, ["are all masters"]),
])
def test_unplanned_refuses_what_could_lose_data(nodes, wanted, words):
    with pytest.raises(FailoverError) as raised:
        choose_unplanned(DEAD, nodes, wanted, resolve=no_dns)
    for word in words + ["Nothing was changed"]:
        assert word in str(raised.value), str(raised.value)
