"""Unit tests of module_utils/replication.py over INFO outputs and logs recorded from real servers."""

from __future__ import annotations

import os

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    NEVER_UP,
    STATE_KEYS,
    ConnectionFailed,
    compare,
    link_down_hint,
    link_down_reason,
    parse_info,
    replication_state,
    server_identity,
    wait_for_state,
)

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures")
INFO_FILES = sorted(name for name in os.listdir(os.path.join(FIXTURES, "info")) if name.endswith(".txt"))

# Recorded by record_info.sh: master on 16379, replica on 16479 (see fixtures/info/README.md).
RECORDED = {
    "redis-6.0": ("redis", "6.0.16"),
    "redis-6.2": ("redis", "6.2.5"),
    "redis-7.0": ("redis", "7.0.15"),
    "redis-8.0": ("redis", "8.0.2"),
    "valkey-8.1": ("valkey", "8.1.1"),
}
MASTER_PORT, REPLICA_PORT = 16379, 16479
# The expected state of those two, as replication_check passes it to compare().
REPLICA = {"role": "replica", "master_host": "127.0.0.1", "master_port": MASTER_PORT, "link_up": True}
MASTER = {"role": "master", "replicas": [{"host": "127.0.0.1", "port": REPLICA_PORT}]}


def no_dns(host):
    """resolve() of tests that must not look names up: resolves nothing."""
    return set()


def read(*path):
    with open(os.path.join(FIXTURES, *path)) as handle:
        return handle.read()


def state_of(name):
    return replication_state(parse_info(read("info", name)))


def test_the_fixtures_cover_every_recorded_version_and_state():
    for label in RECORDED:
        for kind in ("master", "replica", "replica-master-down", "replica-auth-failed", "replica-syncing"):
            assert "%s-%s.txt" % (label, kind) in INFO_FILES


# parse_info

def test_parse_info_reads_fields_sections_and_replica_lines():
    info = parse_info("# Server\r\nredis_version:7.0.15\r\nexecutable:/usr/bin/redis-server\r\n\r\n"
                      "# Replication\r\nrole:master\r\n"
                      "slave0:ip=10.0.0.2,port=6479,state=online,offset=14,lag=0,type=replica\r\n"
                      "# Keyspace\r\ndb0:keys=3,expires=0,avg_ttl=0\r\n")
    assert info == {
        "redis_version": "7.0.15",
        "executable": "/usr/bin/redis-server",
        "role": "master",
        "slave0": {"ip": "10.0.0.2", "port": "6479", "state": "online", "offset": "14", "lag": "0", "type": "replica"},
        # Only replica lines become dicts: the keyspace stays text for its own parser.
        "db0": "keys=3,expires=0,avg_ttl=0",
    }


@pytest.mark.parametrize("name", INFO_FILES)
def test_crlf_and_lf_parse_alike(name):
    text = read("info", name)
    assert "\r" not in text
    assert parse_info(text.replace("\n", "\r\n")) == parse_info(text)


@pytest.mark.parametrize("label", RECORDED)
def test_server_identity(label):
    name, version = RECORDED[label]
    assert server_identity(parse_info(read("info", label + "-master.txt"))) == {"name": name, "version": version}


def test_valkey_reports_its_own_version_not_the_compatibility_one():
    info = parse_info(read("info", "valkey-8.1-replica.txt"))
    assert info["redis_version"] == "7.2.4"
    assert server_identity(info)["version"] == "8.1.1"


# replication_state

@pytest.mark.parametrize("name", INFO_FILES)
def test_state_has_every_key_with_normalised_types(name):
    state = state_of(name)
    assert tuple(state) == STATE_KEYS
    assert state["role"] in ("master", "replica")
    for key in ("master_repl_offset", "second_repl_offset", "connected_replicas", "repl_backlog_size"):
        assert isinstance(state[key], int), key
    assert isinstance(state["repl_backlog_active"], bool)
    assert state["connected_replicas"] == len(state["replicas"])
    if state["role"] == "master":
        assert state["master_host"] is None and state["replica_read_only"] is None
    else:
        assert isinstance(state["master_port"], int)
        assert isinstance(state["replica_repl_offset"], int)
        assert state["replica_read_only"] is True
        assert state["replica_priority"] == 100
        assert isinstance(state["master_sync_in_progress"], bool)


@pytest.mark.parametrize("name", INFO_FILES)
def test_recorded_servers_were_never_promoted(name):
    assert state_of(name)["writes_since_promotion"] is None


@pytest.mark.parametrize("fields, writes", [
    # promoted with REPLICAOF NO ONE at offset 50, nothing written since
    ("role:master\nmaster_repl_offset:50\nsecond_repl_offset:51", 0),
    # promoted at offset 50, then took 50 bytes of writes
    ("role:master\nmaster_repl_offset:100\nsecond_repl_offset:51", 50),
    ("role:master\nmaster_repl_offset:100\nsecond_repl_offset:-1", None),
    ("role:slave\nmaster_repl_offset:100\nsecond_repl_offset:51", None),
])
def test_writes_since_promotion(fields, writes):
    assert replication_state(parse_info(fields))["writes_since_promotion"] == writes


@pytest.mark.parametrize("name, replica_port, offset", [
    ("redis-4.0-master.txt", 6479, 0),
] + [(label + "-master.txt", REPLICA_PORT, 128) for label in RECORDED])
def test_master_with_its_replica_online(name, replica_port, offset):
    state = state_of(name)
    assert state["role"] == "master"
    assert state["connected_replicas"] == 1
    [replica] = state["replicas"]
    assert replica["ip"] == "127.0.0.1" and replica["port"] == replica_port and replica["state"] == "online"
    assert replica["offset"] == offset == state["master_repl_offset"]
    assert replica["lag"] in (0, 1)
    assert compare({"role": "master", "replicas": [{"host": "127.0.0.1", "port": replica_port}],
                    "min_replicas": 1, "max_lag": 1, "max_offset_gap": 0}, state, no_dns) == []


def test_master_without_replicas():
    state = state_of("redis-4.0-master-no-replica.txt")
    assert state["connected_replicas"] == 0 and state["replicas"] == []
    assert state["repl_backlog_active"] is False


@pytest.mark.parametrize("name, master_port", [
    ("redis-4.0-replica.txt", 6379),
] + [(label + "-replica.txt", MASTER_PORT) for label in RECORDED])
def test_replica_with_its_link_up(name, master_port):
    state = state_of(name)
    assert (state["role"], state["master_host"], state["master_port"]) == ("replica", "127.0.0.1", master_port)
    assert state["master_link_status"] == "up"
    assert state["master_link_down_since_seconds"] is None
    assert state["master_sync_in_progress"] is False
    assert compare({"role": "replica", "master_host": "127.0.0.1", "master_port": master_port,
                    "link_up": True, "read_only": True}, state, no_dns) == []


@pytest.mark.parametrize("label", RECORDED)
def test_replica_whose_master_is_down(label):
    state = state_of(label + "-replica-master-down.txt")
    assert state["master_link_status"] == "down"
    assert state["master_link_down_since_seconds"] == 3
    assert compare(REPLICA, state, no_dns) == ["master_link_status: expected up, found down (down for 3s), replica at offset 128"]


@pytest.mark.parametrize("label", RECORDED)
def test_replica_never_connected_reads_never_up_on_every_version(label):
    # 6.0 reports the Unix time here, later versions -1.
    state = state_of(label + "-replica-auth-failed.txt")
    assert state["master_link_down_since_seconds"] == NEVER_UP
    assert compare(REPLICA, state, no_dns) == [
        "master_link_status: expected up, found down (not up since the replica started or got this master)"]


@pytest.mark.parametrize("label", RECORDED)
def test_replica_waiting_for_the_snapshot_of_its_full_sync(label):
    state = state_of(label + "-replica-syncing.txt")
    assert state["master_sync_in_progress"] is True
    # The size is unknown until the snapshot is written (-1), and not reported at all by 6.0.
    assert state["master_sync_total_bytes"] == (None if label == "redis-6.0" else -1)
    assert state["master_sync_percent"] is None
    [mismatch] = compare(REPLICA, state, no_dns)
    assert mismatch.endswith(", full sync in progress")


def test_sync_percent_is_computed_when_the_size_is_known():
    text = read("info", "redis-7.0-replica-syncing.txt")
    text = text.replace("master_sync_total_bytes:-1", "master_sync_total_bytes:2048")
    text = text.replace("master_sync_read_bytes:0", "master_sync_read_bytes:512")
    state = replication_state(parse_info(text))
    assert state["master_sync_percent"] == 25.0
    [mismatch] = compare(REPLICA, state, no_dns)
    assert mismatch.endswith(", full sync in progress: 25.0% of 2048 bytes")


def test_replica_lines_are_ordered_by_number_and_read_as_replica_too():
    lines = ["role:master", "connected_slaves:11"]
    lines += ["slave%d:ip=10.0.0.%d,port=6379,state=online,offset=5,lag=0" % (n, n) for n in range(11)]
    lines[5] = "replica3:ip=10.0.0.3,port=6379,state=online,offset=5,lag=0"
    replicas = replication_state(parse_info("\n".join(lines)))["replicas"]
    assert [replica["ip"] for replica in replicas] == ["10.0.0.%d" % n for n in range(11)]


def test_replica_field_names_of_the_future_are_read_too():
    state = replication_state(parse_info("role:replica\nreplica_read_only:0\nreplica_repl_offset:7\nconnected_replicas:0"))
    assert (state["role"], state["replica_read_only"], state["replica_repl_offset"]) == ("replica", False, 7)


# compare


@pytest.mark.parametrize("name, expected, mismatches", [
    ("redis-7.0-replica.txt", dict(REPLICA, role="master"),
     ["role: expected master, found replica of 127.0.0.1:16379"]),
    ("redis-7.0-master.txt", REPLICA,
     ["role: expected replica of 127.0.0.1:16379, found master"]),
    ("redis-7.0-replica.txt", dict(REPLICA, master_host="10.0.0.9", master_port=6379),
     ["master_host: expected 10.0.0.9, found 127.0.0.1", "master_port: expected 6379, found 16379"]),
    ("redis-7.0-replica.txt", dict(REPLICA, link_up=False),
     ["master_link_status: expected down, found up"]),
    ("redis-7.0-replica.txt", dict(REPLICA, read_only=False),
     ["read_only: expected false, found true"]),
    ("redis-7.0-master.txt", dict(MASTER, replicas=[{"host": "127.0.0.1", "port": 6480}]),
     ["replicas: expected 127.0.0.1:6480 online, found it not connected (connected: 127.0.0.1:16479 online; "
      "the master's backlog holds offsets 1 to 128: a replica returning within it resyncs partially)"]),
    ("redis-4.0-master-no-replica.txt", MASTER,
     ["replicas: expected 127.0.0.1:16479 online, found it not connected (connected: none; "
      "the master has no replication backlog: a returning replica needs a full resync)"]),
    ("redis-7.0-master.txt", dict(MASTER, min_replicas=2),
     ["min_replicas: expected at least 2 online, found 1 (connected: 127.0.0.1:16479 online; "
      "the master's backlog holds offsets 1 to 128: a replica returning within it resyncs partially)"]),
    ("redis-4.0-master.txt", {"role": "master", "max_lag": 0},
     ["lag of replica 127.0.0.1:6479: expected at most 0s, found 1s"]),
    ("redis-4.0-replica.txt", {"role": "replica", "master_host": "127.0.0.1", "master_port": 6379,
                               "link_up": True, "read_only": True, "max_lag": 0, "max_offset_gap": 0}, []),
])
def test_compare_reports_expected_and_found(name, expected, mismatches):
    assert compare(expected, state_of(name), no_dns) == mismatches


def test_a_replica_that_is_not_online_yet():
    state = state_of("valkey-8.1-master.txt")
    state["replicas"][0]["state"] = "wait_bgsave"
    assert compare(dict(MASTER, min_replicas=1), state, no_dns) == [
        "replicas: expected 127.0.0.1:16479 online, found wait_bgsave",
        "min_replicas: expected at least 1 online, found 0 (connected: 127.0.0.1:16479 wait_bgsave; "
        "the master's backlog holds offsets 1 to 128: a replica returning within it resyncs partially)",
    ]


def test_offset_gap_of_each_replica():
    state = state_of("redis-6.2-master.txt")
    state["master_repl_offset"] = 1128
    assert compare({"role": "master", "max_offset_gap": 999}, state, no_dns) == [
        "offset gap of replica 127.0.0.1:16479: expected at most 999 bytes, found 1000 bytes"]
    assert compare({"role": "master", "max_offset_gap": 1000}, state, no_dns) == []


@pytest.mark.parametrize("addresses, mismatches", [
    ({"127.0.0.1", "::1"}, []),
    ({"10.0.0.5"}, ["master_host: expected redis.example, found 127.0.0.1",
                    "replicas: expected redis.example:16479 online, found it not connected "
                    "(connected: 127.0.0.1:16479 online; the master's backlog holds offsets 1 to 128: "
                    "a replica returning within it resyncs partially)"]),
])
def test_hosts_match_the_addresses_they_resolve_to(addresses, mismatches):
    looked_up = []

    def resolve(host):
        looked_up.append(host)
        return addresses

    # A replica of 127.0.0.1:16379 with a replica of its own on 127.0.0.1:16479.
    state = state_of("redis-8.0-replica.txt")
    state["replicas"] = [{"ip": "127.0.0.1", "port": REPLICA_PORT, "state": "online", "offset": 0, "lag": 0}]
    expected = dict(REPLICA, master_host="redis.example", replicas=[{"host": "redis.example", "port": REPLICA_PORT}])
    assert compare(expected, state, resolve) == mismatches
    assert set(looked_up) == {"redis.example"}


def test_options_left_out_are_not_checked():
    state = state_of("redis-7.0-replica-master-down.txt")
    assert compare({"role": "replica", "link_up": None}, state, no_dns) == []


# wait_for_state

class FakeTime:
    """clock() and sleep() of a test: sleeping advances the clock, nothing waits."""

    def __init__(self):
        self.now = 100.0
        self.sleeps = []

    def clock(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps.append(seconds)
        self.now += seconds


def fetcher(*outcomes):
    """fetch() returning (or raising) each outcome in turn, then the last one forever."""
    remaining = list(outcomes)

    def fetch():
        outcome = remaining.pop(0) if len(remaining) > 1 else remaining[0]
        if isinstance(outcome, Exception):
            raise outcome
        return state_of(outcome)
    return fetch


def test_wait_returns_at_the_first_match():
    time = FakeTime()
    fetch = fetcher("redis-7.0-replica-auth-failed.txt", "redis-7.0-replica-syncing.txt", "redis-7.0-replica.txt")
    state, mismatches, elapsed, attempts, progress = wait_for_state(fetch, REPLICA, 30, 0.5, time.clock, time.sleep, no_dns)
    assert (mismatches, elapsed, attempts) == ([], 1.0, 3)
    assert state["master_link_status"] == "up"


def test_wait_gives_up_at_the_timeout_with_the_last_mismatches():
    time = FakeTime()
    fetch = fetcher("redis-7.0-replica-master-down.txt")
    state, mismatches, elapsed, attempts, progress = wait_for_state(fetch, REPLICA, 1.75, 0.5, time.clock, time.sleep, no_dns)
    assert mismatches == ["master_link_status: expected up, found down (down for 3s), replica at offset 128"]
    # Never sleeps past the deadline, and makes a last attempt at it.
    assert (elapsed, attempts) == (1.75, 5)
    assert time.sleeps == [0.5, 0.5, 0.5, 0.25]
    assert state["master_link_status"] == "down"


def test_wait_with_no_timeout_tries_once():
    time = FakeTime()
    result = wait_for_state(fetcher("redis-7.0-master.txt"), REPLICA, 0, 0.2, time.clock, time.sleep, no_dns)
    assert result[1:4] == (["role: expected replica of 127.0.0.1:16379, found master"], 0, 1)
    assert time.sleeps == []


def test_wait_retries_connection_failures():
    time = FakeTime()
    fetch = fetcher(ConnectionFailed("Connection refused"), "redis-7.0-replica.txt")
    state, mismatches, elapsed, attempts, progress = wait_for_state(fetch, REPLICA, 5, 0.2, time.clock, time.sleep, no_dns)
    assert (mismatches, attempts) == ([], 2)


def test_wait_samples_the_progress_of_a_full_sync_once_a_second():
    time = FakeTime()
    fetch = fetcher(*["redis-7.0-replica-syncing.txt"] * 12 + ["redis-7.0-replica.txt"])
    reading = wait_for_state(fetch, REPLICA, 30, 0.25, time.clock, time.sleep, no_dns)
    assert reading.mismatches == [] and reading.attempts == 13
    assert [sample["elapsed"] for sample in reading.progress] == [0.0, 1.0, 2.0]
    assert set(reading.progress[0]) == {"elapsed", "read_bytes", "total_bytes", "percent"}


def test_wait_reports_a_connection_failure_at_the_end():
    time = FakeTime()
    fetch = fetcher("redis-7.0-replica-master-down.txt", ConnectionFailed("Connection refused"))
    state, mismatches, elapsed, attempts, progress = wait_for_state(fetch, REPLICA, 1, 0.5, time.clock, time.sleep, no_dns)
    assert (state, mismatches, attempts) == (None, ["cannot connect: Connection refused"], 3)


# link_down_reason

WRONGPASS = "-WRONGPASS invalid username-password pair or user is disabled."


@pytest.mark.parametrize("label", RECORDED)
@pytest.mark.parametrize("log, reason", [
    ("wrong-masterauth", "Unable to AUTH to {MASTER}: -WRONGPASS invalid username-password pair"),
    # After masterauth was fixed, the sync succeeded, then the master stopped: the old AUTH errors no longer count.
    ("master-down", "Error condition on socket for SYNC: Connection refused"),
    ("no-masterauth", "NOAUTH Authentication required."),
])
def test_link_down_reason_in_recorded_logs(label, log, reason):
    found = link_down_reason(read("logs", "%s-%s.log" % (label, log)))
    assert reason.format(MASTER="PRIMARY" if label.startswith("valkey") else "MASTER") in found


@pytest.mark.parametrize("log, reason", [
    # Redis 4.0 and 5.0 (no year in the time stamp, requirepass without ACLs).
    ("1234:S 25 Nov 06:12:54.625 # Unable to AUTH to MASTER: -ERR invalid password",
     "Unable to AUTH to MASTER: -ERR invalid password"),
    ("1234:S 25 Nov 06:12:54.625 # Can't handle RDB format version 10\n"
     "1234:S 25 Nov 06:12:54.625 # Failed trying to load the MASTER synchronization DB from disk",
     "Failed trying to load the MASTER synchronization DB from disk"),
    ("1:S 05 Nov 2024 12:18:53.961 * Connection with primary lost.", "Connection with primary lost."),
    ("a line in a format of its own: MASTER timeout: no data nor PING received...",
     "a line in a format of its own: MASTER timeout: no data nor PING received..."),
    ("1234:S 25 Nov 2026 06:12:54.625 * Ready to accept connections", None),
    ("", None),
    # An error before the last start of the server is history.
    ("1:S 25 Nov 2026 06:12:54.625 # Unable to AUTH to MASTER: " + WRONGPASS + "\n"
     "2:C 25 Nov 2026 06:13:00.000 # oO0OoO0OoO0Oo Redis is starting oO0OoO0OoO0Oo", None),
    # So is one before the last successful partial resynchronization.
    ("1:S 25 Nov 2026 06:12:54.625 # Connection with master lost.\n"
     "1:S 25 Nov 2026 06:12:55.625 * Successful partial resynchronization with master.", None),
])
def test_link_down_reason(log, reason):
    assert link_down_reason(log) == reason


@pytest.mark.parametrize("reason, words", [
    ("Unable to AUTH to MASTER: " + WRONGPASS, "masterauth"),
    ("MASTER aborted replication with an error: NOAUTH Authentication required.", "masterauth"),
    ("Error condition on socket for SYNC: Connection refused", "is running"),
    ("Can't handle RDB format version 12", "upgrade the replica"),
    ("Bad protocol from MASTER, the first byte is not '$'", None),
])
def test_link_down_hint(reason, words):
    hint = link_down_hint(reason)
    assert hint == words if words is None else words in hint


@pytest.mark.parametrize("backlog, says", [
    ({"repl_backlog_active": "1", "repl_backlog_first_byte_offset": "1", "repl_backlog_histlen": "0"},
     "the master's backlog is empty (no writes since it was created): a replica returning at offset 0 resyncs partially"),
    ({"repl_backlog_active": "1", "repl_backlog_first_byte_offset": "101", "repl_backlog_histlen": "50"},
     "the master's backlog holds offsets 101 to 150: a replica returning within it resyncs partially"),
    ({"repl_backlog_active": "0"}, "the master has no replication backlog: a returning replica needs a full resync"),
])
def test_a_missing_replica_is_reported_with_the_backlog_range(backlog, says):
    state = replication_state(dict(backlog, role="master", connected_slaves="0", master_repl_offset="0"))
    assert compare({"role": "master", "min_replicas": 1}, state, no_dns) == [
        "min_replicas: expected at least 1 online, found 0 (connected: none; %s)" % says]
