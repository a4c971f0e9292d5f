"""Client writes since a promotion (plugins/module_utils/replication.py), for the guard that refuses to
demote a master holding writes: pings to its replicas are not writes, unsure is writes."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    STATE_KEYS,
    client_writes,
    includes_history,
    promotion_writes,
    stream_command_length,
    stream_window,
)


def promoted(**fields):
    state = {key: None for key in STATE_KEYS}
    state.update(role="master", connected_replicas=1, master_replid="a" * 40, second_repl_offset=191,
                 master_repl_offset=246, writes_since_promotion=56, repl_backlog_active=True,
                 repl_backlog_first_byte_offset=71, repl_backlog_size=1048576)
    state.update(fields)
    return state


def test_stream_lengths_are_those_a_master_writes():
    assert stream_command_length([b"ping"]) == 14  # the 14 bytes every repl-ping-replica-period
    assert stream_command_length([b"SELECT", b"0"]) == 23
    assert stream_command_length([b"SET", b"x", "é".encode()]) == len(b"*3\r\n$3\r\nSET\r\n$1\r\nx\r\n$2\r\n\xc3\xa9\r\n")


def test_pings_select_and_replconf_are_not_client_writes():
    stream = [[b"ping"], [b"PING"], [b"SELECT", b"0"], [b"REPLCONF", b"GETACK", b"*"], [b"SET", b"k", b"v"],
              [b"multi"], [b"DEL", b"k"], [b"exec"]]
    assert client_writes(stream) == ["SET", "MULTI", "DEL", "EXEC"]
    assert client_writes([[b"ping"]] * 4) == []


def test_the_window_is_the_stream_since_the_promotion():
    assert stream_window(promoted()) == ("a" * 40, 191, 56)


@pytest.mark.parametrize("fields, words", [
    ({"repl_backlog_first_byte_offset": 200}, ["no longer holds", "offset 191"]),
    ({"repl_backlog_active": False}, ["no longer holds"]),
    ({"writes_since_promotion": 0}, ["no replication stream"]),
])
def test_a_window_the_backlog_lacks_is_an_error(fields, words):
    with pytest.raises(ValueError) as info:
        stream_window(promoted(**fields))
    for word in words:
        assert word in str(info.value)


def test_only_pings_since_the_promotion_hold_no_writes():
    verdict = promotion_writes(promoted(), writes=[])
    assert verdict == {"holds_writes": False, "client_writes": 0,
                       "summary": "1 replica(s) and no client write since its promotion (only pings to its replicas)"}


def test_one_set_since_the_promotion_holds_writes():
    verdict = promotion_writes(promoted(), writes=["SET"])
    assert verdict["holds_writes"] is True and verdict["client_writes"] == 1
    assert verdict["summary"] == "1 replica(s) and 1 client write(s) (SET) since its promotion"


def test_a_stream_that_could_not_be_read_counts_as_writes():
    verdict = promotion_writes(promoted(), writes=None, error="backlog gone")
    assert verdict["holds_writes"] is True and verdict["client_writes"] is None
    assert "56 byte(s)" in verdict["summary"] and "backlog gone" in verdict["summary"]


def test_no_stream_since_the_promotion_holds_nothing():
    assert promotion_writes(promoted(writes_since_promotion=0, connected_replicas=2))["holds_writes"] is False


def test_replicas_without_a_record_of_a_promotion_count_as_writes():
    verdict = promotion_writes(promoted(writes_since_promotion=None, second_repl_offset=-1, connected_replicas=2))
    assert verdict["holds_writes"] is True and "no record" in verdict["summary"]
    assert promotion_writes(promoted(writes_since_promotion=None, connected_replicas=0))["holds_writes"] is False


def test_a_replica_holds_nothing_of_its_own():
    assert promotion_writes(promoted(role="replica"))["holds_writes"] is False


def inventory_master(**fields):
    state = {key: None for key in STATE_KEYS}
    state.update(role="master", master_replid="b" * 40, master_repl_offset=190, second_repl_offset=-1)
    state.update(fields)
    return state


def test_a_detached_replica_shares_its_masters_history():
    assert includes_history(inventory_master(), promoted(master_replid2="b" * 40)) is True
    # The master went on writing since: still all the promoted instance had.
    assert includes_history(inventory_master(master_repl_offset=5000), promoted(master_replid2="b" * 40)) is True


def test_a_master_restarted_since_keeps_its_old_id_as_the_second():
    master = inventory_master(master_replid="c" * 40, master_replid2="b" * 40, second_repl_offset=191)
    assert includes_history(master, promoted(master_replid2="b" * 40)) is True


def test_a_shorter_master_or_another_history_is_not_enough():
    assert includes_history(inventory_master(master_repl_offset=100), promoted(master_replid2="b" * 40)) is False
    # A restart of the promoted instance shifted its ID: master_replid2 is its own old ID.
    assert includes_history(inventory_master(), promoted(master_replid2="d" * 40)) is False


def test_a_master_that_replicates_now_holds_nothing_for_sure():
    assert includes_history(inventory_master(role="replica", master_replid="a" * 40),
                            promoted(master_replid2="b" * 40)) is False


def test_unknown_master_or_no_record_of_a_promotion_cannot_tell():
    assert includes_history({}, promoted(master_replid2="b" * 40)) is None
    assert includes_history(inventory_master(), promoted(second_repl_offset=-1, master_replid2="0" * 40)) is None
