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


# ---------------------------------------------------------------------------------------------
# a planned switchover through Sentinel (the failover module's sentinel option)
# ---------------------------------------------------------------------------------------------

# A replica in one of these states is never promoted by SENTINEL FAILOVER (sentinelSelectSlave).
NOT_PROMOTED_FLAGS = ("s_down", "o_down", "disconnected")


def _text(value):
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


def entry_dict(reply):
    """One entry of SENTINEL REPLICAS (a flat [key, value, ...] list, or a dict) as a dict of texts."""
    if isinstance(reply, dict):
        return {_text(key): _text(value) for key, value in reply.items()}
    reply = list(reply or [])
    return {_text(reply[index]): _text(reply[index + 1]) for index in range(0, len(reply) - 1, 2)}


def replica_priority(entry):
    """The replica-priority a Sentinel knows of a replica (slave-priority in its reply; 100 when unknown)."""
    value = entry.get("slave-priority", entry.get("replica-priority", "100"))
    try:
        return int(value)
    except (TypeError, ValueError):
        return 100


def why_not_promoted(entry):
    """Why Sentinel would not promote this replica, or None when it may."""
    down = [flag for flag in entry.get("flags", "").split(",") if flag in NOT_PROMOTED_FLAGS]
    if down:
        return "flagged %s" % ",".join(down)
    if replica_priority(entry) == 0:
        return "replica-priority 0 (never promoted)"
    return None


def entry_address(entry):
    return "%s:%s" % (entry.get("ip"), entry.get("port"))


def is_entry(entry, host, port, aliases=()):
    """Whether a Sentinel entry is the instance at host:port (aliases: the addresses host resolves to)."""
    return str(entry.get("port")) == str(port) and (entry.get("ip") == host or entry.get("ip") in aliases)


def switch_candidates(group, sentinel, entries, target, aliases=()):
    """The replicas SENTINEL FAILOVER may promote, after checking that it will promote the target.

    entries: the group's SENTINEL REPLICAS as dicts (entry_dict), as the Sentinel that is asked to fail
    over knows them. target: (host, port) of the target as the Sentinels know it; aliases: what its
    host resolves to. Sentinel promotes, of the replicas it may promote, the one with the lowest
    replica-priority, then the largest replication offset (its last INFO, up to ten seconds old), then
    the smallest run id: the target must be the only one with the lowest priority, so that the choice
    does not depend on offsets Sentinel read before writes stopped.

    Returns the addresses (ip:port) of every replica Sentinel may promote: all of them must hold the
    master's whole stream before the failover is asked for. Raises DecisionError naming the fix.
    """
    host, port = target
    mine = [entry for entry in entries if is_entry(entry, host, port, aliases)]
    known = ", ".join(entry_address(entry) for entry in entries) or "none"
    if not mine:
        raise DecisionError(
            "Sentinel %s does not know %s:%s as a replica of group '%s' (it knows: %s). Nothing was changed. "
            "Fix: check that the target replicates from the master and that the Sentinels reach it at that "
            "address (redis_server_advertise_address), then run again." % (sentinel, host, port, group, known))
    reason = why_not_promoted(mine[0])
    if reason:
        raise DecisionError(
            "Sentinel %s would not promote %s:%s in group '%s': %s. Nothing was changed. Fix: start the target "
            "or wait until its link is up; give it a replica-priority above 0." % (sentinel, host, port, group, reason))
    candidates = [entry for entry in entries if why_not_promoted(entry) is None]
    mine_priority = replica_priority(mine[0])
    rivals = [entry for entry in candidates if entry is not mine[0] and replica_priority(entry) <= mine_priority]
    if rivals:
        raise DecisionError(
            "SENTINEL FAILOVER %s would not surely promote %s:%s: %s %s the same or a lower replica-priority "
            "(%s; the target has %d), and Sentinel promotes the replica with the lowest replica-priority, "
            "then the one with the largest offset it read last. Nothing was changed. Fix: give the target a "
            "lower replica-priority than every other replica of the group (its replica-priority setting, "
            "CONFIG SET replica-priority), or name %s as the target."
            % (group, host, port, ", ".join(entry_address(entry) for entry in rivals),
               "has" if len(rivals) == 1 else "have",
               ", ".join("%s: %d" % (entry_address(entry), replica_priority(entry)) for entry in rivals),
               mine_priority, entry_address(rivals[0])))
    return [entry_address(entry) for entry in candidates]


def agreed_on(group, answers, host, port, aliases=()):
    """Whether a majority of all the group's Sentinels (answers as for decide) name host:port."""
    try:
        decision = decide(group, answers)
    except DecisionError:
        return False
    master = decision["master"]
    return (decision["state"] == AGREED and str(master["port"]) == str(port)
            and (master["host"] == host or master["host"] in aliases))


def answers_text(answers):
    """Each Sentinel and what it answered, for messages."""
    return "; ".join("%s: %s" % (answer["sentinel"], answer_text(answer)) for answer in answers)
