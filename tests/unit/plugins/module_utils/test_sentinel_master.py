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
    decide,
    needed,
    parse_reply,
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
