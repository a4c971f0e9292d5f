# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Planning of live changes: what runtime_config would run for a given current and desired state."""

from __future__ import annotations

import hashlib

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import (
    MASK,
    PlanError,
    acl_commands,
    acl_user_matches,
    check_options,
    count_keys,
    plan,
    server_directive,
)

SECRET = "s3cret-Value"
MASTER = {"role": "master", "connected_slaves": "0"}
REPLICA_OF_A = {"role": "slave", "master_host": "10.0.0.1", "master_port": "6379", "master_link_status": "up"}
NO_KEYS = {}
TEN_KEYS = {"db0": "keys=7,expires=0,avg_ttl=0", "db3": "keys=3,expires=1,avg_ttl=100"}


def redis(version):
    return {"name": "redis", "version": version}


def desired(role="replica", master_host="10.0.0.1", master_port=6379, config=None, secret_config=None):
    return dict(role=role, master_host=master_host, master_port=master_port,
                config=config or {}, secret_config=secret_config or {})


def texts(changes):
    return [command.text for command in changes.commands]


@pytest.mark.parametrize("wanted, current", [
    ("yes", "yes"),
    ("YES", "yes"),
    (True, "yes"),
    (False, "no"),
    ("No", "no"),
    (100, "100"),
    ("", ""),
    (None, ""),
])
def test_equal_values_after_normalisation_plan_nothing(wanted, current):
    changes = plan(redis("7.0.15"), REPLICA_OF_A, NO_KEYS, {"replica-priority": current},
                   desired(config={"replica-priority": wanted}))
    assert changes.commands == []
    assert changes.warnings == []


@pytest.mark.parametrize("wanted, current, sent", [
    (True, "no", "yes"),
    ("no", "yes", "no"),
    (50, "100", "50"),
    ("repl", "", "repl"),
    (None, "repl", ""),
    ("Repl", "repl", "Repl"),  # only yes/no compare case-insensitively: ACL user names do not
])
def test_different_values_are_set_in_server_form(wanted, current, sent):
    changes = plan(redis("7.0.15"), REPLICA_OF_A, NO_KEYS, {"masteruser": current}, desired(config={"masteruser": wanted}))
    assert [command.args for command in changes.commands] == [("CONFIG", "SET", "masteruser", sent)]


def test_same_master_is_not_set_again():
    changes = plan(redis("7.0.15"), REPLICA_OF_A, NO_KEYS, {}, desired(master_host="10.0.0.1", master_port=6379))
    assert changes.commands == []
    assert changes.diff == {"before": {"replicaof": "10.0.0.1 6379"}, "after": {"replicaof": "10.0.0.1 6379"}}


def test_master_stays_master():
    assert plan(redis("7.0.15"), MASTER, TEN_KEYS, {}, desired(role="master")).commands == []


@pytest.mark.parametrize("version, current, role, host, port, expected", [
    ("7.0.15", REPLICA_OF_A, "replica", "10.0.0.2", 6380, ["REPLICAOF 10.0.0.2 6380"]),
    ("7.0.15", REPLICA_OF_A, "master", None, None, ["REPLICAOF NO ONE"]),
    ("7.0.15", MASTER, "replica", "10.0.0.1", 6379, ["REPLICAOF 10.0.0.1 6379"]),
    ("5.0.7", REPLICA_OF_A, "replica", "10.0.0.2", 6379, ["REPLICAOF 10.0.0.2 6379"]),
    ("4.0.14", REPLICA_OF_A, "replica", "10.0.0.2", 6379, ["SLAVEOF 10.0.0.2 6379"]),
    ("3.2.12", REPLICA_OF_A, "master", None, None, ["SLAVEOF NO ONE"]),
])
def test_replication_source_uses_the_command_of_the_version(version, current, role, host, port, expected):
    changes = plan(redis(version), current, NO_KEYS, {}, desired(role=role, master_host=host, master_port=port))
    assert texts(changes) == expected
    assert changes.commands[0].args == tuple(expected[0].split())


@pytest.mark.parametrize("name, version, expected", [
    ("replica-read-only", "4.0.14", "slave-read-only"),
    ("replica-priority", "3.2.12", "slave-priority"),
    ("min-replicas-to-write", "4.0.14", "min-slaves-to-write"),
    ("repl-ping-replica-period", "4.0.14", "repl-ping-slave-period"),
    ("Replica-Read-Only", "4.0.14", "slave-read-only"),
    ("replica-read-only", "5.0.7", "replica-read-only"),
    ("slave-read-only", "7.0.15", "slave-read-only"),
    ("masterauth", "4.0.14", "masterauth"),
    ("MasterUser", "7.2.4", "masteruser"),
])
def test_server_directive_names_per_version(name, version, expected):
    assert server_directive(name, version) == expected


def test_valkey_8_gets_its_primary_names_in_commands_and_diff():
    """Valkey 8.1.8 answers CONFIG GET by either name and writes primaryauth/primaryuser on CONFIG REWRITE."""
    assert server_directive("masterauth", "8.1.8", "valkey") == "primaryauth"
    assert server_directive("masterauth", "8.1.8") == "masterauth"
    valkey = {"name": "valkey", "version": "8.1.8"}
    current = {"primaryauth": "", "primaryuser": "", "replica-read-only": "yes"}
    changes = plan(valkey, REPLICA_OF_A, NO_KEYS, current, desired(
        config={"replica-read-only": True, "masteruser": "repl"}, secret_config={"masterauth": SECRET}))
    assert texts(changes) == ["CONFIG SET primaryuser repl", "CONFIG SET primaryauth ********"]
    assert changes.diff["after"]["primaryuser"] == "repl"
    assert "replicaof" in changes.diff["after"]


def test_old_server_gets_old_directive_names_in_commands_and_diff():
    changes = plan(redis("4.0.14"), REPLICA_OF_A, NO_KEYS, {"slave-read-only": "no"},
                   desired(master_host="10.0.0.2", config={"replica-read-only": "yes"}))
    assert texts(changes) == ["CONFIG SET slave-read-only yes", "SLAVEOF 10.0.0.2 6379"]
    assert changes.diff == {
        "before": {"slave-read-only": "no", "slaveof": "10.0.0.1 6379"},
        "after": {"slave-read-only": "yes", "slaveof": "10.0.0.2 6379"},
    }


def test_credentials_before_replicaof_and_requirepass_last():
    current = {"requirepass": "old", "replica-read-only": "no", "masteruser": "", "masterauth": ""}
    changes = plan(redis("7.0.15"), REPLICA_OF_A, NO_KEYS, current, desired(
        master_host="10.0.0.2",
        config={"replica-read-only": "yes", "masteruser": "repl"},
        secret_config={"requirepass": SECRET, "masterauth": SECRET},
    ))
    assert texts(changes) == [
        "CONFIG SET replica-read-only yes",
        "CONFIG SET masteruser repl",
        "CONFIG SET masterauth " + MASK,
        "REPLICAOF 10.0.0.2 6379",
        "CONFIG SET requirepass " + MASK,
    ]


def test_secrets_are_sent_but_never_shown():
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {"masterauth": "old-" + SECRET, "requirepass": SECRET},
                   desired(role="master", secret_config={"masterauth": SECRET, "requirepass": SECRET}))
    assert [command.args for command in changes.commands] == [("CONFIG", "SET", "masterauth", SECRET)]
    assert texts(changes) == ["CONFIG SET masterauth " + MASK]
    assert changes.diff == {
        "before": {"masterauth": MASK, "requirepass": MASK, "replicaof": "no one"},
        "after": {"masterauth": MASK + " (changed)", "requirepass": MASK + " (unchanged)", "replicaof": "no one"},
    }
    assert SECRET not in repr(texts(changes)) + repr(changes.diff)


def test_secrets_compare_exactly():
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {"requirepass": "yes"},
                   desired(role="master", secret_config={"requirepass": "YES"}))
    assert texts(changes) == ["CONFIG SET requirepass " + MASK]


def test_empty_values_are_shown_quoted():
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {"masteruser": "repl"},
                   desired(role="master", config={"masteruser": ""}))
    assert texts(changes) == ['CONFIG SET masteruser ""']


@pytest.mark.parametrize("server, current_config, config, named, says", [
    (redis("5.0.7"), {"masteruser": None}, {"masteruser": "repl"}, "masteruser", "redis 5.0.7 does not know"),
    (redis("7.0.15"), {"replica-read-only": "yes", "no-such-directive": None},
     {"replica-read-only": "yes", "no-such-directive": "1"}, "no-such-directive", "redis 7.0.15 does not know"),
    ({"name": "valkey", "version": "8.0.1"}, {"no-such-directive": None}, {"no-such-directive": "1"},
     "no-such-directive", "valkey 8.0.1 does not know"),
])
def test_unknown_directive_is_refused_naming_it_and_the_version(server, current_config, config, named, says):
    with pytest.raises(PlanError) as error:
        plan(server, MASTER, NO_KEYS, current_config, desired(role="master", config=config))
    assert named in str(error.value)
    assert says in str(error.value)
    assert "replica-read-only" not in str(error.value)


def test_unknown_secret_directive_is_refused_without_showing_its_value():
    with pytest.raises(PlanError) as error:
        plan(redis("4.0.14"), MASTER, NO_KEYS, {"masteruser-password": None},
             desired(role="master", secret_config={"masteruser-password": SECRET}))
    assert "masteruser-password" in str(error.value)
    assert SECRET not in str(error.value)


@pytest.mark.parametrize("current, keyspace, role, warned", [
    (MASTER, TEN_KEYS, "replica", True),
    (MASTER, NO_KEYS, "replica", False),
    (REPLICA_OF_A, TEN_KEYS, "replica", False),  # a replica's data is its master's anyway
    (MASTER, TEN_KEYS, "master", False),
])
def test_warning_when_a_master_with_keys_becomes_a_replica(current, keyspace, role, warned):
    changes = plan(redis("7.0.15"), current, keyspace, {}, desired(role=role, master_host="10.0.0.2"))
    assert bool(changes.warnings) is warned
    if warned:
        assert "10 key(s)" in changes.warnings[0]
        assert "REPLICAOF 10.0.0.2 6379" in changes.warnings[0]


@pytest.mark.parametrize("keyspace, keys", [
    ({}, 0),
    ({"db0": "keys=1,expires=0,avg_ttl=0"}, 1),
    (TEN_KEYS, 10),
    ({"db0": "keys=2,expires=0,avg_ttl=0,subexpiry=0"}, 2),  # Redis 7.4 adds fields
])
def test_count_keys(keyspace, keys):
    assert count_keys(keyspace) == keys


@pytest.mark.parametrize("config, secret_config, message", [
    ({"replicaof": "10.0.0.1 6379"}, {}, "replicaof cannot be set as a directive"),
    ({}, {"SlaveOf": "10.0.0.1 6379"}, "SlaveOf cannot be set as a directive"),
    ({"masterauth": SECRET}, {}, "Move masterauth from config to secret_config"),
    ({"RequirePass": SECRET}, {}, "Move RequirePass from config to secret_config"),
    ({"masteruser": "a"}, {"MasterUser": "b"}, "masteruser is set in both config and secret_config"),
])
def test_check_options_refuses(config, secret_config, message):
    with pytest.raises(PlanError) as error:
        check_options(config, secret_config)
    assert message in str(error.value)
    assert SECRET not in str(error.value)


def test_check_options_accepts_a_plain_split():
    check_options({"replica-read-only": "yes", "masteruser": "repl"}, {"masterauth": SECRET, "requirepass": SECRET})


# --- the replication ACL user ------------------------------------------------------------------

REPL_HASH = hashlib.sha256(b"repl-pw").hexdigest()
# ACL GETUSER as redis-py 4 to 8 parse it (commands split from categories) and as older versions
# leave it (one string).
PARSED_USER = {"flags": ["on"], "passwords": [REPL_HASH], "commands": ["+psync", "+replconf", "+ping"],
               "categories": ["-@all"], "keys": [], "channels": []}
STRING_USER = {"flags": ["on", "allchannels"], "passwords": [REPL_HASH], "commands": "-@all +replconf +psync +ping",
               "keys": ""}


def with_user(**params):
    return dict(desired(role="master"), acl_users=[dict({"name": "replicator", "password": "repl-pw"}, **params)])


@pytest.mark.parametrize("current", [PARSED_USER, STRING_USER])
def test_an_acl_user_with_exactly_the_rights_is_left_alone(current):
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {}, with_user(), {"replicator": current})
    assert changes.commands == []


@pytest.mark.parametrize("current", [
    None,
    dict(PARSED_USER, flags=["off"]),
    dict(PARSED_USER, passwords=["0" * 64]),
    dict(PARSED_USER, passwords=[REPL_HASH, "0" * 64]),
    dict(PARSED_USER, commands=["+psync", "+replconf", "+ping", "+get"]),
    dict(PARSED_USER, keys=["*"]),
])
def test_a_missing_or_different_acl_user_is_reset_first_with_its_password_masked(current):
    changes = plan(redis("7.0.15"), REPLICA_OF_A, NO_KEYS, {"masterauth": "x"},
                   dict(with_user(), role="replica", secret_config={"masterauth": "y"}), {"replicator": current})
    assert changes.commands[0].args == ("ACL", "SETUSER", "replicator", "reset", "on", "#" + REPL_HASH,
                                        "+psync", "+replconf", "+ping")
    assert texts(changes)[0] == "ACL SETUSER replicator reset on #******** +psync +replconf +ping"
    assert "repl-pw" not in repr(changes.diff) and REPL_HASH not in repr(texts(changes))


OLD_HASH = hashlib.sha256(b"old-pw").hexdigest()


def test_an_acl_user_keeps_its_previous_passwords_after_the_new_one():
    # the rotation: the new password and the old one, in this order, both masked
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {}, with_user(previous_passwords=["old-pw", ""]),
                   {"replicator": PARSED_USER})
    assert changes.commands[0].args == ("ACL", "SETUSER", "replicator", "reset", "on", "#" + REPL_HASH,
                                        "#" + OLD_HASH, "+psync", "+replconf", "+ping")
    assert texts(changes)[0] == "ACL SETUSER replicator reset on #******** #******** +psync +replconf +ping"
    # once there, left alone; the old one dropped from the list: reset to the new one only
    both = dict(PARSED_USER, passwords=[REPL_HASH, OLD_HASH])
    assert plan(redis("7.0.15"), MASTER, NO_KEYS, {}, with_user(previous_passwords=["old-pw"]),
                {"replicator": both}).commands == []
    assert plan(redis("7.0.15"), MASTER, NO_KEYS, {}, with_user(), {"replicator": both}).commands[0].args[5:7] == (
        "#" + REPL_HASH, "+psync")


def test_acl_users_before_redis_6_are_refused():
    with pytest.raises(PlanError, match="Redis 6"):
        plan(redis("5.0.14"), MASTER, NO_KEYS, {}, with_user(), {})


# --- the default user's passwords: rotation without downtime --------------------------------------

OLD, NEW = "old-pw", "new-pw"
OLD_HASH, NEW_HASH = (hashlib.sha256(password.encode()).hexdigest() for password in (OLD, NEW))


def rotation(keep=True, previous=(OLD,)):
    return dict(desired(role="master", secret_config={"requirepass": NEW}),
                previous_passwords=list(previous), keep_previous_passwords=keep)


def default_user(*hashes):
    return {"default": dict(PARSED_USER, passwords=list(hashes), commands=["+@all"], categories=[], keys=["*"])}


def test_a_rotation_sets_the_new_password_then_keeps_the_old_one_accepted():
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {"requirepass": OLD}, rotation(), default_user(OLD_HASH))
    assert [command.args[:2] for command in changes.commands] == [("CONFIG", "SET"), ("ACL", "SETUSER")]
    assert changes.commands[1].args == ("ACL", "SETUSER", "default", "resetpass", "#" + NEW_HASH, "#" + OLD_HASH)
    assert texts(changes)[1] == "ACL SETUSER default resetpass #******** #********"
    assert changes.diff["after"]["default user passwords"] == "2"
    shown = repr(texts(changes)) + repr(changes.diff)
    assert OLD not in shown and NEW not in shown and OLD_HASH not in shown and NEW_HASH not in shown


@pytest.mark.parametrize("current", [(NEW_HASH, OLD_HASH), (OLD_HASH, NEW_HASH)])
def test_a_rotation_in_progress_changes_nothing(current):
    assert plan(redis("7.0.15"), MASTER, NO_KEYS, {"requirepass": NEW}, rotation(), default_user(*current)).commands == []


@pytest.mark.parametrize("params", [rotation(previous=()), rotation(keep=False)])
def test_the_end_of_a_rotation_drops_the_old_password(params):
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {"requirepass": NEW}, params, default_user(NEW_HASH, OLD_HASH))
    assert [command.args for command in changes.commands] == [("ACL", "SETUSER", "default", "resetpass", "#" + NEW_HASH)]


def test_a_plain_password_change_leaves_one_password():
    changes = plan(redis("7.0.15"), MASTER, NO_KEYS, {"requirepass": OLD}, rotation(keep=False), default_user(OLD_HASH))
    assert texts(changes) == ["CONFIG SET requirepass ********"]


def test_before_redis_6_a_rotation_warns_that_the_old_password_stops_working():
    changes = plan(redis("5.0.14"), MASTER, NO_KEYS, {"requirepass": OLD}, rotation(), {})
    assert texts(changes) == ["CONFIG SET requirepass ********"]
    assert any("single password" in warning for warning in changes.warnings)


# --- a user with channel rules (the Sentinel user) ---------------------------------------------

SENTINEL_RULES = ("+multi", "+config|rewrite", "&__sentinel__:hello")
SENTINEL_HASH = hashlib.sha256(b"spw").hexdigest()
# ACL GETUSER sentinel on Redis 7.0.15, as redis-py parses it
SENTINEL_USER = {"flags": ["on", "sanitize-payload"], "passwords": [SENTINEL_HASH], "keys": [],
                 "commands": ["+config|rewrite", "+multi"], "categories": ["-@all"],
                 "channels": ["&__sentinel__:hello"], "selectors": []}


@pytest.mark.parametrize("current, matches", [
    (SENTINEL_USER, True),
    (dict(SENTINEL_USER, channels=[]), False),
    (dict(SENTINEL_USER, channels=["&*"]), False),
    (dict(SENTINEL_USER, commands=["+multi"]), False),
])
def test_a_user_with_channel_rules_matches_its_channels_too(current, matches):
    assert acl_user_matches(current, SENTINEL_HASH, SENTINEL_RULES) is matches
    commands = acl_commands([{"name": "sentinel", "password": "spw", "rules": list(SENTINEL_RULES)}], {"sentinel": current})
    assert len(commands) == (0 if matches else 1)
