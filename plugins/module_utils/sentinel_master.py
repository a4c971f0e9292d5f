# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the sentinel_master module: what the Sentinels of a replication group answered to
SENTINEL GET-MASTER-ADDR-BY-NAME, and the decision taken from it.

A majority of ALL the Sentinels configured for the group (not of those that answered) must name the
same master; otherwise nobody can tell which side of a partition holds the truth, and the decision
fails naming every Sentinel and its answer. Two cases hold the inventory's topology instead:
no Sentinel accepts a connection at all (no Sentinel runs yet: a first deploy), and every Sentinel
that answers says it does not monitor the group (the group is being added).
"""

from __future__ import annotations

# What Sentinel sends a data instance (Redis's Sentinel documentation, "Redis Access Control List
# authentication"; checked against redis-sentinel 7.0 by tests/integration/test_sentinel_follow.py,
# whose failover runs as this user): the commands, then the one channel it publishes and subscribes
# its hello messages on (channel rules exist from Redis 6.2; 6.0 lets every user use every channel).
SENTINEL_COMMANDS = ("+multi", "+exec", "+slaveof", "+ping", "+subscribe", "+config|rewrite", "+role", "+publish",
                     "+info", "+client|setname", "+client|kill", "+script|kill")
SENTINEL_CHANNELS = ("&__sentinel__:hello",)

AGREED = "agreed"
NO_SENTINEL = "no_sentinel"
UNMONITORED = "unmonitored"


def sentinel_rules(channels=True):
    """The ACL rules of the user Sentinel logs in to the data instances as; channels: the server has
    channel rules (dialect feature acl_channels)."""
    return SENTINEL_COMMANDS + (SENTINEL_CHANNELS if channels else ())


class DecisionError(Exception):
    """The Sentinels do not let a master be chosen; the message names each and its answer."""


def parse_reply(reply):
    """{"host", "port"} of a GET-MASTER-ADDR-BY-NAME reply ([ip, port]), None for a nil reply."""
    if reply is None:
        return None
    if isinstance(reply, (list, tuple)) and len(reply) == 2:
        host, port = reply
        if isinstance(host, bytes):
            host = host.decode("utf-8", "replace")
        if isinstance(port, bytes):
            port = port.decode("ascii", "replace")
        try:
            return {"host": str(host), "port": int(port)}
        except (TypeError, ValueError):
            pass
    raise ValueError("unexpected reply to SENTINEL GET-MASTER-ADDR-BY-NAME: %r" % (reply,))


def answer_text(answer):
    """What one Sentinel answered, for messages."""
    if answer.get("error"):
        return "no answer (%s)" % answer["error"]
    if answer.get("master") is None:
        return "does not monitor the group"
    return "%s:%s" % (answer["master"]["host"], answer["master"]["port"])


def needed(total):
    """The votes a decision needs: a majority of the group's Sentinels."""
    return total // 2 + 1


def decide(group, answers):
    """The decision from answers, one per configured Sentinel of group, in order, each
    {"sentinel": label, "master": {"host", "port"} or None, "error": text or None, "unreachable": bool}.

    Returns {"state": agreed|no_sentinel|unmonitored, "master": {"host", "port"} or None,
    "votes": how many named it, "needed": the majority}. Raises DecisionError.
    """
    total = len(answers)
    if not total:
        raise DecisionError("No Sentinel is configured for group '%s': give at least one." % group)
    majority = needed(total)
    if all(answer.get("error") and answer.get("unreachable") for answer in answers):
        return {"state": NO_SENTINEL, "master": None, "votes": 0, "needed": majority}
    if all(answer.get("unreachable") or (not answer.get("error") and answer.get("master") is None)
           for answer in answers):
        return {"state": UNMONITORED, "master": None, "votes": 0, "needed": majority}
    votes = {}
    for answer in answers:
        if not answer.get("error") and answer.get("master") is not None:
            key = (answer["master"]["host"], answer["master"]["port"])
            votes[key] = votes.get(key, 0) + 1
    ranked = sorted(votes.items(), key=lambda pair: -pair[1])
    if ranked and ranked[0][1] >= majority and (len(ranked) == 1 or ranked[1][1] < ranked[0][1]):
        (host, port), count = ranked[0]
        return {"state": AGREED, "master": {"host": host, "port": port}, "votes": count, "needed": majority}
    said = "; ".join("%s: %s" % (answer["sentinel"], answer_text(answer)) for answer in answers)
    raise DecisionError(
        "The Sentinels of group '%s' do not agree on its master: %d of the %d configured must name the same "
        "master, %s. They answered: %s. Nothing was changed. Fix: start the Sentinels that do not answer, "
        "or wait until a failover in progress ends, then run again."
        % (group, majority, total,
           "the most named %s:%s got %d" % (ranked[0][0][0], ranked[0][0][1], ranked[0][1]) if ranked
           else "none named one", said))
