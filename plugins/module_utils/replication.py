# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure functions over INFO replication: parse, normalise, compare with an expected state, wait.

Nothing here talks to a server: the modules fetch INFO text and pass it in, so that the same code
runs on live servers and on the recorded outputs of the unit tests (Redis 4.0 to 8.x, Valkey 8).
"""

from __future__ import annotations

import re
import socket
import time
from collections import namedtuple

# The flavor and version of a server from its INFO server: the dialect table's parser, imported
# by the modules from here with the rest of INFO's parsing.
from ansible_collections.redisops.redis.plugins.module_utils.dialect import server_identity  # pylint: disable=unused-import

# Before 6.2 a replica that has not been connected since it started reports "now - 0", the Unix
# time, as master_link_down_since_seconds; 6.2 and later report -1. No real outage lasts 30 years.
NEVER_UP = -1
UNIX_TIME_FLOOR = 10 ** 9

STATE_KEYS = (
    "role", "master_host", "master_port", "master_link_status", "master_last_io_seconds_ago",
    "master_link_down_since_seconds", "master_sync_in_progress", "master_sync_total_bytes",
    "master_sync_read_bytes", "master_sync_left_bytes", "master_sync_percent", "replica_repl_offset",
    "replica_read_only", "replica_priority", "connected_replicas", "replicas", "master_replid",
    "master_replid2", "master_repl_offset", "second_repl_offset", "repl_backlog_active",
    "repl_backlog_size", "repl_backlog_first_byte_offset", "repl_backlog_histlen", "writes_since_promotion",
)

# Normalised key -> the INFO fields that hold it, newest name first. Redis 5 renamed the
# "slave" fields in its configuration only; INFO of Redis 8 and Valkey 8 still says slave_*.
INT_FIELDS = {
    "master_port": ("master_port",),
    "master_last_io_seconds_ago": ("master_last_io_seconds_ago",),
    "master_sync_total_bytes": ("master_sync_total_bytes",),
    "master_sync_read_bytes": ("master_sync_read_bytes",),
    "master_sync_left_bytes": ("master_sync_left_bytes",),
    "replica_repl_offset": ("replica_repl_offset", "slave_repl_offset"),
    "replica_priority": ("replica_priority", "slave_priority"),
    "connected_replicas": ("connected_replicas", "connected_slaves"),
    "master_repl_offset": ("master_repl_offset",),
    "second_repl_offset": ("second_repl_offset",),
    "repl_backlog_size": ("repl_backlog_size",),
    "repl_backlog_first_byte_offset": ("repl_backlog_first_byte_offset",),
    "repl_backlog_histlen": ("repl_backlog_histlen",),
}
BOOL_FIELDS = {
    "master_sync_in_progress": ("master_sync_in_progress",),
    "replica_read_only": ("replica_read_only", "slave_read_only"),
    "repl_backlog_active": ("repl_backlog_active",),
}
TEXT_FIELDS = ("master_host", "master_link_status", "master_replid", "master_replid2")

REPLICA_LINE = re.compile(r"^(?:slave|replica)(\d+)$")
REPLICA_KEYS = ("ip", "port", "state", "offset", "lag")

# Replication failures a replica logs (Valkey says PRIMARY where Redis says MASTER), from
# replication.c of Redis 4.0 to 8.0 and Valkey 8; the recorded logs in the unit tests show some.
REPLICATION_ERROR = re.compile(
    r"Unable to (?:connect|AUTH) to (?:MASTER|PRIMARY)"
    r"|Error condition on socket for SYNC"
    r"|Error reply to PING from (?:master|primary)"
    r"|does not understand REPLCONF"
    r"|Unexpected reply to PSYNC"
    r"|does not support PSYNC"
    r"|unable to PSYNC"
    r"|aborted replication with an error"
    r"|Timeout connecting to the (?:MASTER|PRIMARY)"
    r"|(?:MASTER|PRIMARY) timeout"
    r"|Timeout receiving bulk data"
    r"|I/O error .*(?:MASTER|PRIMARY)"
    r"|Bad protocol from (?:MASTER|PRIMARY)"
    r"|Can't handle RDB format version"
    r"|Failed trying to (?:load|rename)"
    r"|Opening the temp file needed for"
    r"|Connection with (?:master|primary) lost",
    re.IGNORECASE,
)
# What to do about the usual causes, by the words of the error.
LINK_DOWN_HINTS = (
    (re.compile(r"AUTH|WRONGPASS|NOPERM|invalid password", re.IGNORECASE),
     "Check the replica's masterauth (and masteruser) against the master's requirepass (and ACL users)."),
    (re.compile(r"refused|Unable to connect|Timeout connecting|No route|timed out", re.IGNORECASE),
     "Check that the master is running and that the replica reaches it at master_host:master_port."),
    (re.compile(r"RDB format version"),
     "The master writes a newer RDB format than the replica reads: upgrade the replica to the master's version."),
)
# After one of these, earlier errors are history: the link came up, or the server restarted.
REPLICATION_RECOVERED = re.compile(
    r"sync: Finished with success|Successful partial resynchronization"
    r"|accepted a Partial Resynchronization|oO0OoO0OoO0Oo",
    re.IGNORECASE,
)
# "pid:role date time.ms level message"; the year appears from Redis 6.0 on.
LOG_LINE = re.compile(r"^\d+:[A-Z] \d{1,2} \w{3}(?: \d{4})? [\d:.]+ [.*#-] (?P<message>.*)$")


class ConnectionFailed(Exception):
    """The instance could not be reached for one attempt; wait_for_state() tries again."""


class CheckRefused(Exception):
    """The server refused the check for a reason waiting does not fix (a wrong password)."""


def parse_info(text):
    """INFO text (any sections, CRLF or LF) -> {field: value}.

    Values stay strings, except slaveN/replicaN lines of a master, parsed into dicts of strings
    ({"ip": "127.0.0.1", "port": "6479", ...}).
    """
    info = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or ":" not in line:
            continue
        key, value = line.split(":", 1)
        if REPLICA_LINE.match(key) and "=" in value:
            value = dict(pair.split("=", 1) for pair in value.split(",") if "=" in pair)
        info[key] = value
    return info


def _first(info, fields):
    for field in fields:
        if field in info:
            return info[field]
    return None


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def _replica(line):
    replica = {key: line.get(key) for key in REPLICA_KEYS}
    for key in ("port", "offset", "lag"):
        replica[key] = _int(replica[key])
    return replica


def _replicas(info):
    numbered = []
    for key, value in info.items():
        match = REPLICA_LINE.match(key)
        if match and isinstance(value, dict):
            numbered.append((int(match.group(1)), _replica(value)))
    return [replica for index, replica in sorted(numbered, key=lambda pair: pair[0])]


def replication_state(info):
    """Parsed INFO replication -> the normalised state: every key of STATE_KEYS, None where absent.

    role is "master" or "replica" (for "slave"); numbers are ints, flags bools.
    master_link_down_since_seconds is -1 while the link has never been up since the replica
    started or got its master, on every version. master_sync_percent is computed when the
    transfer size is known.
    """
    state = {key: None for key in STATE_KEYS}
    role = info.get("role")
    state["role"] = "replica" if role == "slave" else role
    for key in TEXT_FIELDS:
        state[key] = info.get(key)
    for key, fields in INT_FIELDS.items():
        state[key] = _int(_first(info, fields))
    for key, fields in BOOL_FIELDS.items():
        value = _first(info, fields)
        state[key] = None if value is None else value == "1"

    down_since = _int(info.get("master_link_down_since_seconds"))
    if down_since is not None and down_since >= UNIX_TIME_FLOOR:
        down_since = NEVER_UP
    state["master_link_down_since_seconds"] = down_since

    total, read = state["master_sync_total_bytes"], state["master_sync_read_bytes"]
    if total and total > 0 and read is not None:
        state["master_sync_percent"] = round(100.0 * read / total, 2)

    state["replicas"] = _replicas(info)
    state["writes_since_promotion"] = _writes_since_promotion(state)
    return state


def _writes_since_promotion(state):
    """Bytes of replication stream a master produced since it stopped being a replica, or None.

    A replica promoted with REPLICAOF NO ONE keeps its old history as master_replid2, valid up
    to second_repl_offset - 1; everything past it is writes (and pings to its own replicas)
    that making it a replica again would throw away. A master that was never a replica has
    second_repl_offset -1.
    """
    second, current = state["second_repl_offset"], state["master_repl_offset"]
    if state["role"] != "master" or second is None or second <= 0 or current is None:
        return None
    return max(0, current - second + 1)


# What a master puts in its replication stream besides its clients' writes: the PINGs it sends its
# replicas every repl-ping-replica-period, the SELECT before a write to another database, and
# REPLCONF GETACK. Anything else (MULTI, EXEC, an expired key's DEL included) counts as a write.
STREAM_CONTROL_COMMANDS = ("ping", "select", "replconf")


def stream_command_length(args):
    """Bytes a command takes in the replication stream: a RESP array of bulk strings, as a master writes it."""
    return len(b"*%d\r\n" % len(args)) + sum(len(b"$%d\r\n" % len(arg)) + len(arg) + 2 for arg in args)


def stream_window(state):
    """(replid, offset, length) of the stream a promoted master produced since its promotion, from its backlog.

    Raises ValueError with the reason when its backlog does not hold all of it (or there is nothing).
    """
    second, current = state["second_repl_offset"], state["master_repl_offset"]
    if not state["writes_since_promotion"]:
        raise ValueError("there is no replication stream since its promotion")
    first = state["repl_backlog_first_byte_offset"]
    if not state["repl_backlog_active"] or first is None or first > second:
        raise ValueError("its replication backlog (repl-backlog-size %s) no longer holds the stream since its "
                         "promotion (from offset %d, backlog from %s)" % (state["repl_backlog_size"], second, first))
    return state["master_replid"], second, current - second + 1


def client_writes(commands):
    """The names (upper case) of the commands of a replication stream that are client writes, in order."""
    names = []
    for args in commands:
        name = args[0].decode("utf-8", "replace") if isinstance(args[0], bytes) else str(args[0])
        if name.lower() not in STREAM_CONTROL_COMMANDS:
            names.append(name.upper())
    return names


def promotion_writes(state, writes=None, error=None):
    """Whether a master holds data that making it a replica again would throw away, and why.

    writes: the client writes (client_writes()) found in its stream since its promotion, or None
    when it was not read; error: why it could not be read. Unsure counts as holding writes.
    Returns {holds_writes, client_writes (count or None), summary}.
    """
    result = {"holds_writes": False, "client_writes": None, "summary": ""}
    if state["role"] != "master":
        return result
    replicas = state["connected_replicas"] or 0
    prefix = "%d replica(s) and " % replicas
    if state["writes_since_promotion"] is None:
        # No record of a promotion (second_repl_offset -1: it was never a replica since it started).
        result["holds_writes"] = replicas > 0
        result["summary"] = prefix + "no record of when it became a master"
        return result
    if state["writes_since_promotion"] == 0:
        result["client_writes"] = 0
        result["summary"] = prefix + "no writes since its promotion"
        return result
    if writes is None:
        result["holds_writes"] = True
        result["summary"] = prefix + "%d byte(s) of replication stream since its promotion that could not be " \
            "read (%s), so writes are assumed" % (state["writes_since_promotion"], error or "not read")
        return result
    result["client_writes"] = len(writes)
    result["holds_writes"] = bool(writes)
    if writes:
        shown = sorted(set(writes))
        result["summary"] = prefix + "%d client write(s) (%s) since its promotion" % (len(writes), ", ".join(shown[:10]))
    else:
        result["summary"] = prefix + "no client write since its promotion (only pings to its replicas)"
    return result


def includes_history(master, promoted):
    """Whether master, running as a master, holds all that promoted held when it stopped being a replica.

    master, promoted: normalised states (replication_state()). True when master's history goes on
    from promoted's at its promotion (the test PSYNC applies: same replication ID up to
    second_repl_offset - 1), False when it does not or when master runs as a replica (of the
    promoted instance, after a failover), None when master is unknown or promoted has no record of a
    promotion (second_repl_offset -1). A restart also shifts the
    replication ID: the history before a promoted master's restart is then not the inventory
    master's, and this says False.
    """
    if not master or master.get("role") is None:
        return None
    if master["role"] != "master" or promoted.get("role") != "master":
        return False
    second = promoted.get("second_repl_offset")
    if second is None or second <= 0 or not promoted.get("master_replid2"):
        return None  # no record of a promotion to compare
    if master.get("master_replid") == promoted["master_replid2"]:
        return (master.get("master_repl_offset") or 0) >= second - 1
    if master.get("master_replid2") == promoted["master_replid2"]:
        return (master.get("second_repl_offset") or 0) >= second
    return False


def resolve_host(host):
    """The addresses host resolves to (a set; empty when it does not resolve)."""
    try:
        return {entry[4][0] for entry in socket.getaddrinfo(host, None)}
    except (socket.gaierror, UnicodeError):
        return set()


def _same_host(expected, actual, resolve):
    return actual == expected or actual in resolve(expected)


def _address(replica):
    return "%s:%s" % (replica["ip"], replica["port"])


def _yes_no(flag):
    return "true" if flag else "false"


def _role_text(role, master_host, master_port):
    """"replica of HOST:PORT" or the role alone."""
    if role == "replica" and master_host is not None:
        return "replica of %s:%s" % (master_host, master_port)
    return role or "no role"


def _link_text(state):
    """The link status with how long it has been down and any sync in progress."""
    text = state["master_link_status"] or "unknown"
    down_since = state["master_link_down_since_seconds"]
    if down_since == NEVER_UP:
        text += " (not up since the replica started or got this master)"
    elif down_since is not None:
        text += " (down for %ss)" % down_since
    if down_since not in (None, NEVER_UP) and state["replica_repl_offset"] is not None:
        # Compared with the master's backlog range (_backlog_text) this tells whether the replica can
        # resync partially once the link is back.
        text += ", replica at offset %d" % state["replica_repl_offset"]
    if state["master_sync_in_progress"]:
        if state["master_sync_percent"] is not None:
            text += ", full sync in progress: %s%% of %s bytes" % (state["master_sync_percent"],
                                                                   state["master_sync_total_bytes"])
        else:
            text += ", full sync in progress"
    return text


def _backlog_text(state):
    """The master's backlog range: a replica that comes back at an offset inside it resyncs partially."""
    first, length = state["repl_backlog_first_byte_offset"], state["repl_backlog_histlen"]
    if not state["repl_backlog_active"] or first is None:
        return "the master has no replication backlog: a returning replica needs a full resync"
    if not length:
        return ("the master's backlog is empty (no writes since it was created): a replica returning at offset %s "
                "resyncs partially" % state["master_repl_offset"])
    return ("the master's backlog holds offsets %d to %d: a replica returning within it resyncs partially"
            % (first, first + length - 1))


def _compare_replica_side(expected, state, resolve):
    mismatches = []
    host, port = expected.get("master_host"), expected.get("master_port")
    if host is not None and not _same_host(host, state["master_host"], resolve):
        mismatches.append("master_host: expected %s, found %s" % (host, state["master_host"]))
    if port is not None and port != state["master_port"]:
        mismatches.append("master_port: expected %s, found %s" % (port, state["master_port"]))
    link_up = expected.get("link_up")
    if link_up is not None and (state["master_link_status"] == "up") != link_up:
        mismatches.append("master_link_status: expected %s, found %s"
                          % ("up" if link_up else "down", _link_text(state)))
    read_only = expected.get("read_only")
    if read_only is not None and state["replica_read_only"] != read_only:
        mismatches.append("read_only: expected %s, found %s" % (_yes_no(read_only), _yes_no(state["replica_read_only"])))
    return mismatches


def _compare_replicas(expected, state, resolve):
    mismatches = []
    replicas = state["replicas"]
    connected = ", ".join("%s %s" % (_address(replica), replica["state"]) for replica in replicas) or "none"
    for wanted in expected.get("replicas") or []:
        found = [replica for replica in replicas
                 if replica["port"] == wanted["port"] and _same_host(wanted["host"], replica["ip"], resolve)]
        if not found:
            mismatches.append("replicas: expected %s:%s online, found it not connected (connected: %s; %s)"
                              % (wanted["host"], wanted["port"], connected, _backlog_text(state)))
        elif not any(replica["state"] == "online" for replica in found):
            mismatches.append("replicas: expected %s:%s online, found %s"
                              % (wanted["host"], wanted["port"], ", ".join(replica["state"] for replica in found)))
    minimum = expected.get("min_replicas")
    online = [replica for replica in replicas if replica["state"] == "online"]
    if minimum is not None and len(online) < minimum:
        mismatches.append("min_replicas: expected at least %d online, found %d (connected: %s; %s)"
                          % (minimum, len(online), connected, _backlog_text(state)))
    max_lag = expected.get("max_lag")
    if max_lag is not None:
        for replica in replicas:
            if replica["lag"] is not None and replica["lag"] > max_lag:
                mismatches.append("lag of replica %s: expected at most %ss, found %ss"
                                  % (_address(replica), max_lag, replica["lag"]))
    max_gap = expected.get("max_offset_gap")
    if max_gap is not None and state["master_repl_offset"] is not None:
        for replica in replicas:
            gap = state["master_repl_offset"] - (replica["offset"] or 0)
            if gap > max_gap:
                mismatches.append("offset gap of replica %s: expected at most %d bytes, found %d bytes"
                                  % (_address(replica), max_gap, gap))
    return mismatches


def compare(expected, state, resolve=resolve_host):
    """Every difference between expected and the normalised state, as readable text; [] when none.

    expected: role (required); for a replica master_host, master_port, link_up, read_only; for any
    instance (a replica may have replicas of its own) replicas ([{host, port}], each must be
    online), min_replicas, max_lag (seconds) and max_offset_gap (bytes behind master_repl_offset).
    Absent or None keys are not checked. A host matches an address when it is that address or
    resolves to it, with resolve(host) -> set of addresses.
    """
    if state["role"] != expected["role"]:
        # The other checks describe an instance of the expected role: they would only add noise.
        return ["role: expected %s, found %s"
                % (_role_text(expected["role"], expected.get("master_host"), expected.get("master_port")),
                   _role_text(state["role"], state["master_host"], state["master_port"]))]
    mismatches = []
    if state["role"] == "replica":
        mismatches += _compare_replica_side(expected, state, resolve)
    return mismatches + _compare_replicas(expected, state, resolve)


def wait_for_state(fetch, expected, timeout, interval, clock=time.monotonic, sleep=time.sleep,
                   resolve=resolve_host):
    """Poll fetch() -> state until compare() finds no mismatch or timeout seconds have passed.

    Returns (state, mismatches, elapsed, attempts); state is None when the last attempt could not
    connect. fetch() raising ConnectionFailed counts as a mismatch "cannot connect: ..." and polling
    goes on: an instance may be restarting. The last attempt is made at the deadline.
    """
    return wait_for_states([(fetch, expected)], timeout, interval, clock, sleep, resolve)[0]


# One result of wait_for_states(): progress lists the full sync's advance while it was waited for.
Reading = namedtuple("Reading", "state mismatches elapsed attempts progress")
# At most one progress sample a second, and never more than an hour's worth.
PROGRESS_EVERY = 1.0
PROGRESS_MAX = 3600


def sync_progress(state, elapsed):
    """A progress sample of a replica's full sync in progress, or None."""
    if state is None or not state["master_sync_in_progress"]:
        return None
    return dict(elapsed=round(elapsed, 1), read_bytes=state["master_sync_read_bytes"],
                total_bytes=state["master_sync_total_bytes"], percent=state["master_sync_percent"])


def wait_for_states(checks, timeout, interval, clock=time.monotonic, sleep=time.sleep, resolve=resolve_host):
    """wait_for_state() for several instances at once: checks is a list of (fetch, expected).

    Each round reads every instance that does not match yet; it stops when all match or timeout
    seconds have passed. fetch() raising CheckRefused (a refused login: waiting does not help)
    ends that instance's polling with the message as its mismatch. Returns one Reading per check,
    in order; elapsed is when its last reading ended; progress holds samples (sync_progress) of a
    full sync seen while waiting, one a second at most.
    """
    start = clock()
    results = [Reading(None, [], 0.0, 0, []) for check in checks]
    pending = list(range(len(checks)))
    while True:
        for index in list(pending):
            fetch, expected = checks[index]
            final = False
            try:
                state = fetch()
                mismatches = compare(expected, state, resolve)
            except ConnectionFailed as exc:
                state, mismatches = None, ["cannot connect: %s" % exc]
            except CheckRefused as exc:
                state, mismatches, final = None, [str(exc)], True
            now = clock() - start
            progress = results[index].progress
            sample = sync_progress(state, now)
            if sample and len(progress) < PROGRESS_MAX and (not progress or now - progress[-1]["elapsed"] >= PROGRESS_EVERY):
                progress.append(sample)
            results[index] = Reading(state, mismatches, now, results[index].attempts + 1, progress)
            if not mismatches or final:
                pending.remove(index)
        elapsed = clock() - start
        if not pending or elapsed >= timeout:
            return results
        sleep(min(interval, timeout - elapsed))


def link_down_reason(log_text):
    """The message of the last replication error in a replica's log text, or None.

    Only errors after the last successful sync and the last server start count: older ones
    no longer explain anything.
    """
    for line in reversed(log_text.splitlines()):
        if REPLICATION_RECOVERED.search(line):
            return None
        if REPLICATION_ERROR.search(line):
            match = LOG_LINE.match(line.strip())
            return match.group("message") if match else line.strip()
    return None


def link_down_hint(reason):
    """What to check for a link_down_reason(), or None when it is not one of the usual causes."""
    for pattern, hint in LINK_DOWN_HINTS:
        if pattern.search(reason):
            return hint
    return None


# A replica's master: required of an instance (top level or item) whose role is replica.
REPLICA_NEEDS_MASTER = [("role", "replica", ("master_host", "master_port"))]


def role_rules():
    """The AnsibleModule rules of a module whose instances each have a role (replication_check,
    runtime_config): O(role) or O(instances), not both, and a replica's master."""
    return dict(required_if=REPLICA_NEEDS_MASTER, required_one_of=[("role", "instances")],
                mutually_exclusive=[("role", "instances")])


def check_member_options():
    """The options of one instance's check (replication_check), top level and in each item of its
    instances: the expected state and where to read why it differs."""
    return dict(
        role=dict(type="str", choices=["master", "replica"]),
        master_host=dict(type="str"),
        master_port=dict(type="int"),
        link_up=dict(type="bool", default=True),
        read_only=dict(type="bool"),
        replicas=dict(type="list", elements="dict", options=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", required=True),
        )),
        min_replicas=dict(type="int"),
        max_lag=dict(type="int"),
        max_offset_gap=dict(type="int"),
        log_file=dict(type="path"),
    )


def info_member_options():
    """The options of one instance's reading (replication_info), top level and in each item of its instances."""
    return dict(
        directives=dict(type="list", elements="str", default=[]),
        config_file=dict(type="path"),
        count_client_writes=dict(type="bool", default=False),
    )
