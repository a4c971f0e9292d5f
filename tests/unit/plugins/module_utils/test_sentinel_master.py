"""The decision of sentinel_master (plugins/module_utils/sentinel_master.py): a majority of all the
configured Sentinels must name one master; no Sentinel at all, or none monitoring the group, keeps
the inventory's topology; anything else fails naming every Sentinel and its answer."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import (
    AGREED,
    NO_SENTINEL,
    UNMONITORED,
    DecisionError,
    agreed_on,
    decide,
    entry_dict,
    needed,
    parse_reply,
    replica_priority,
    switch_candidates,
    why_not_promoted,
)

A = {"host": "10.0.0.1", "port": 6379}
B = {"host": "10.0.0.2", "port": 6379}


def said(label, master=None, error=None, unreachable=False):
    return {"sentinel": label, "master": master, "error": error, "unreachable": unreachable}


DOWN = "Cannot connect: refused"


@pytest.mark.parametrize("reply, expected", [
    (["10.0.0.1", "6379"], A),
    ([b"10.0.0.1", b"6379"], A),
    (("10.0.0.2", 6379), B),
    (None, None),
])
def test_parse_reply(reply, expected):
    assert parse_reply(reply) == expected


@pytest.mark.parametrize("reply", [["10.0.0.1"], "OK", ["10.0.0.1", "port"]])
def test_parse_reply_refuses_other_replies(reply):
    with pytest.raises(ValueError, match="GET-MASTER-ADDR-BY-NAME"):
        parse_reply(reply)


@pytest.mark.parametrize("total, majority", [(1, 1), (2, 2), (3, 2), (4, 3), (5, 3)])
def test_needed(total, majority):
    assert needed(total) == majority


@pytest.mark.parametrize("answers, state, master, votes", [
    ([said("s1", A), said("s2", A), said("s3", A)], AGREED, A, 3),
    # one down, the two others agree: a majority of three
    ([said("s1", B), said("s2", error=DOWN, unreachable=True), said("s3", B)], AGREED, B, 2),
    # one that does not know the group yet does not stop the two that agree
    ([said("s1", B), said("s2"), said("s3", B)], AGREED, B, 2),
    ([said("s1", error=DOWN, unreachable=True), said("s2", error=DOWN, unreachable=True)], NO_SENTINEL, None, 0),
    ([said("s1"), said("s2", error=DOWN, unreachable=True), said("s3")], UNMONITORED, None, 0),
    ([said("s1", A)], AGREED, A, 1),
])
def test_decisions(answers, state, master, votes):
    decision = decide("master", answers)
    assert (decision["state"], decision["master"], decision["votes"]) == (state, master, votes)
    assert decision["needed"] == len(answers) // 2 + 1


@pytest.mark.parametrize("answers, named", [
    # two of three unreachable: one answer is no majority of the three configured
    ([said("s1", A), said("s2", error=DOWN, unreachable=True), said("s3", error=DOWN, unreachable=True)],
     ["s1: 10.0.0.1:6379", "s2: no answer (Cannot connect: refused)", "the most named 10.0.0.1:6379 got 1"]),
    # a split
    ([said("s1", A), said("s2", B), said("s3", error=DOWN, unreachable=True)], ["s1: 10.0.0.1:6379", "s2: 10.0.0.2:6379"]),
    ([said("s1", A), said("s2", A), said("s3", B), said("s4", B)], ["3 of the 4", "s4: 10.0.0.2:6379"]),
    # a Sentinel that refuses the login runs: the others being down is no first deploy
    ([said("s1", error="refused the login"), said("s2", error=DOWN, unreachable=True)],
     ["s1: no answer (refused the login)", "none named one"]),
])
def test_no_majority_names_every_sentinel(answers, named):
    with pytest.raises(DecisionError) as error:
        decide("master", answers)
    message = str(error.value)
    assert "group 'master'" in message and "Nothing was changed" in message
    for text in named:
        assert text in message


def test_no_sentinel_configured():
    with pytest.raises(DecisionError, match="No Sentinel is configured for group 'g'"):
        decide("g", [])


# ---------------------------------------------------------------------------------------------
# the switchover through Sentinel: which replica SENTINEL FAILOVER promotes, and agreement after it
# ---------------------------------------------------------------------------------------------

def replica(ip, port, flags="slave", priority="100", offset="1000"):
    """A SENTINEL REPLICAS entry as Redis 7.0 sends it (RESP2: a flat list of byte strings)."""
    return entry_dict([b"name", ("%s:%s" % (ip, port)).encode(), b"ip", ip.encode(), b"port", str(port).encode(),
                       b"flags", flags.encode(), b"slave-priority", priority.encode(),
                       b"slave-repl-offset", offset.encode(), b"master-link-status", b"ok"])


def test_entry_dict_reads_resp2_lists_and_resp3_maps_alike():
    flat = replica("10.0.0.2", 6379)
    mapped = entry_dict({b"ip": b"10.0.0.2", "port": 6379, "flags": "slave", "slave-priority": 100,
                         "slave-repl-offset": 1000, "name": "10.0.0.2:6379", "master-link-status": "ok"})
    assert flat == mapped
    assert replica_priority(flat) == 100 and replica_priority({}) == 100


@pytest.mark.parametrize("entry, reason", [
    (replica("10.0.0.2", 6379), None),
    (replica("10.0.0.2", 6379, flags="slave,s_down"), "flagged s_down"),
    (replica("10.0.0.2", 6379, flags="slave,disconnected"), "flagged disconnected"),
    (replica("10.0.0.2", 6379, priority="0"), "replica-priority 0 (never promoted)"),
])
def test_why_not_promoted(entry, reason):
    assert why_not_promoted(entry) == reason


def test_the_only_replica_is_the_candidate():
    entries = [replica("10.0.0.2", 6379)]
    assert switch_candidates("g", "s1", entries, ("10.0.0.2", 6379)) == ["10.0.0.2:6379"]


def test_the_target_is_found_by_what_its_name_resolves_to():
    entries = [replica("10.0.0.2", 6379)]
    assert switch_candidates("g", "s1", entries, ("redis-2", 6379), aliases={"10.0.0.2"}) == ["10.0.0.2:6379"]


def test_every_replica_sentinel_may_promote_is_a_candidate_the_target_first_by_priority():
    entries = [replica("10.0.0.2", 6379, priority="10"), replica("10.0.0.3", 6379, priority="100"),
               replica("10.0.0.4", 6379, priority="0"), replica("10.0.0.5", 6379, flags="slave,s_down", priority="1")]
    assert switch_candidates("g", "s1", entries, ("10.0.0.2", 6379)) == ["10.0.0.2:6379", "10.0.0.3:6379"]


def test_a_target_sharing_the_lowest_priority_is_refused_naming_the_rival_and_the_fix():
    entries = [replica("10.0.0.2", 6379), replica("10.0.0.3", 6379, offset="2000")]
    with pytest.raises(DecisionError) as caught:
        switch_candidates("g", "s1", entries, ("10.0.0.2", 6379))
    text = str(caught.value)
    assert "10.0.0.3:6379 has the same or a lower replica-priority (10.0.0.3:6379: 100; the target has 100)" in text
    assert "Nothing was changed" in text and "lower replica-priority than every other replica" in text
    assert "or name 10.0.0.3:6379 as the target" in text


def test_a_target_with_a_higher_priority_is_refused():
    entries = [replica("10.0.0.2", 6379, priority="50"), replica("10.0.0.3", 6379, priority="10")]
    with pytest.raises(DecisionError, match="10.0.0.3:6379: 10; the target has 50"):
        switch_candidates("g", "s1", entries, ("10.0.0.2", 6379))


@pytest.mark.parametrize("entries, expected", [
    ([replica("10.0.0.3", 6379)], "Sentinel s1 does not know 10.0.0.2:6379 as a replica of group 'g' (it knows: 10.0.0.3:6379)"),
    ([], "(it knows: none)"),
    ([replica("10.0.0.2", 6379, priority="0")], "Sentinel s1 would not promote 10.0.0.2:6379 in group 'g': replica-priority 0"),
    ([replica("10.0.0.2", 6379, flags="slave,o_down")], "would not promote 10.0.0.2:6379 in group 'g': flagged o_down"),
])
def test_a_target_sentinel_cannot_promote_is_refused(entries, expected):
    with pytest.raises(DecisionError) as caught:
        switch_candidates("g", "s1", entries, ("10.0.0.2", 6379))
    assert expected in str(caught.value)


@pytest.mark.parametrize("answers, expected", [
    ([said("s1", B), said("s2", B), said("s3", A)], True),
    ([said("s1", B), said("s2", A), said("s3", error=DOWN)], False),
    ([said("s1", A), said("s2", A), said("s3", A)], False),
    ([said("s1", error=DOWN, unreachable=True)] * 3, False),
])
def test_agreed_on_needs_a_majority_of_all_naming_the_new_master(answers, expected):
    assert agreed_on("g", answers, "10.0.0.2", 6379) is expected


def test_agreed_on_matches_the_host_by_its_addresses():
    answers = [said("s1", B), said("s2", B)]
    assert agreed_on("g", answers, "redis-2", 6379, aliases={"10.0.0.2"})
    assert not agreed_on("g", answers, "redis-2", 6379)
