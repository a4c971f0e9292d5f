# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure decisions of the failover module: where the group stands, what to run, how to stop writes.

Nothing here talks to a server. The module reads each instance's normalised replication state
(replication.replication_state) and its credentials, and asks here whether a promotion is due,
already done or impossible, which commands bring each instance to the new topology, and how to
stop writes on the old master for its version.
"""

from __future__ import annotations

from collections import namedtuple

from ansible_collections.redisops.redis.plugins.module_utils.dialect import of, version_text
from ansible_collections.redisops.redis.plugins.module_utils.replication import resolve_host
from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import MASK, Command

# The functions below that take `server` accept server_identity's {"name", "version"} or a Redis
# version: the dialect table (module_utils/dialect.py) says what that server calls things.
# CLIENT PAUSE ... WRITE and CLIENT UNPAUSE: the dialect's pause_write feature (Redis 6.2, Valkey).
# Before 6.2 CLIENT PAUSE stops every client, the module's own too, until it expires: the old
# master could not be demoted before queued writes run. The module fences writes instead: with
# more good replicas required than can exist, a master refuses every write with NOREPLICAS.
FENCE_REPLICAS = 1000000
FENCE_MAX_LAG = 10

# A member of the replication group, as the module reaches it (address) and names it in messages.
Node = namedtuple("Node", "name host port state")
# action: "promote" (pause, wait, promote, demote, re-point), "repoint" (the target is master and
# the old master its replica already; some replicas still follow another master) or "none".
Assessment = namedtuple("Assessment", "action repoint")


class FailoverError(Exception):
    """The group is not in a state the module can promote from; raised before anything changes."""


def stop_writes_method(server):
    """"pause" (CLIENT PAUSE WRITE, 6.2 and later) or "fence" (min-replicas-to-write, before)."""
    return "pause" if of(server).has("pause_write") else "fence"


def replicaof_verb(server):
    """REPLICAOF from Redis 5 on, SLAVEOF before."""
    return of(server).command("REPLICAOF")


def credential_directives(server):
    """The directives credential_commands() needs the current values of: {name: what this server calls it}."""
    dialect = of(server)
    names = ("masterauth", "masteruser") if dialect.has("acl") else ("masterauth",)
    return {name: dialect.directive(name) for name in names}


def address(node):
    return "%s:%s" % (node.host, node.port)


def _same_host(expected, actual, resolve):
    return actual is not None and (actual == expected or actual in resolve(expected))


def follows(state, host, port, resolve=resolve_host):
    """True when state is a replica of host:port (host matching the address or what it resolves to)."""
    return (state["role"] == "replica" and state["master_port"] == port
            and _same_host(host, state["master_host"], resolve))


def describe(state):
    """"master" or "replica of HOST:PORT (link up)", for messages and the before/after result."""
    if state["role"] == "replica":
        return "replica of %s:%s (link %s)" % (state["master_host"], state["master_port"],
                                               state["master_link_status"] or "unknown")
    return state["role"] or "unknown"


def assess(target, master, replicas, resolve=resolve_host):
    """Decide what to do with the group; raise FailoverError when no safe promotion is possible.

    target: the replica to promote, as the others reach it (host, port). master: the current
    master, as the target reaches it. replicas: the master's other replicas. Each Node carries
    the instance's normalised replication state.
    """
    t_state, m_state = target.state, master.state
    if t_state["role"] == "master":
        if follows(m_state, target.host, target.port, resolve):
            pending = [node.name for node in replicas if not follows(node.state, target.host, target.port, resolve)]
            return Assessment("repoint" if pending else "none", pending)
        if m_state["role"] == "master":
            raise FailoverError(
                "%s (%s) and %s (%s) are both masters: the target was made a master without this module "
                "demoting the old master, and both may have taken writes since. Nothing was changed. Decide "
                "which data to keep: make the other a replica of it (REPLICAOF HOST PORT, or run "
                "site.yml with an inventory that says so), then run the failover again if needed."
                % (target.name, address(target), master.name, address(master)))
        raise FailoverError(
            "%s (%s) is a master already, but %s (%s) is a %s, not a replica of it. Nothing was changed. "
            "Check the topology with playbooks/verify.yml or the replication_info module."
            % (target.name, address(target), master.name, address(master), describe(m_state)))

    if t_state["role"] != "replica" or not follows(t_state, master.host, master.port, resolve):
        raise FailoverError(
            "%s (%s) is a %s, not a replica of the master %s (%s): it cannot be promoted in its place. "
            "Nothing was changed. Name a replica of %s as the target."
            % (target.name, address(target), describe(t_state), master.name, address(master), master.name))
    if m_state["role"] != "master":
        raise FailoverError(
            "%s (%s) is a %s, not a master. Nothing was changed. Promote a replica of the group's master."
            % (master.name, address(master), describe(m_state)))
    if t_state["master_link_status"] != "up" or t_state["master_sync_in_progress"]:
        raise FailoverError(
            "%s (%s) is not in sync with %s: %s%s. Promoting it could lose writes. Nothing was changed. "
            "Fix replication first (playbooks/verify.yml says why the link is down), then run the failover again."
            % (target.name, address(target), master.name, describe(t_state),
               ", full sync in progress" if t_state["master_sync_in_progress"] else ""))
    return Assessment("promote", [node.name for node in replicas])


def caught_up(master_offset, target_state):
    """True when the target has processed the master's replication stream up to master_offset."""
    offset = target_state["replica_repl_offset"]
    return offset is not None and master_offset is not None and offset >= master_offset


def credential_commands(current, masterauth, masteruser, server):
    """CONFIG SET commands giving an instance the credentials for its new master; secrets masked.

    current: {"masterauth": ..., "masteruser": ...} as CONFIG GET returns them (None: unknown to
    the server), by these names whatever the server calls them. masterauth / masteruser None:
    leave as it is. masteruser needs ACL users (Redis 6).
    """
    dialect = of(server)
    commands = []
    if masterauth is not None and (current.get("masterauth") or "") != masterauth:
        name = dialect.directive("masterauth")
        commands.append(Command(("CONFIG", "SET", name, masterauth), "CONFIG SET %s %s" % (name, MASK)))
    if masteruser is not None and (current.get("masteruser") or "") != masteruser:
        if not dialect.has("acl"):
            raise FailoverError("masteruser needs Redis 6 or later; this instance runs %s. Nothing was changed. "
                                "Leave masteruser unset." % version_text(dialect.version))
        name = dialect.directive("masteruser")
        commands.append(Command(("CONFIG", "SET", name, masteruser), "CONFIG SET %s %s" % (name, masteruser or '""')))
    return commands


def forget_master_commands(current, server=None):
    """CONFIG SET commands clearing the credentials a promoted instance kept for its old master
    (current as for credential_commands; server None: the Redis names)."""
    commands = []
    for name in ("masterauth", "masteruser"):
        if current.get(name):
            spelled = of(server).directive(name) if server is not None else name
            commands.append(Command(("CONFIG", "SET", spelled, ""), 'CONFIG SET %s ""' % spelled))
    return commands


def follow_command(server, host, port):
    verb = replicaof_verb(server)
    return Command((verb, host, str(port)), "%s %s %s" % (verb, host, port))


def promote_command(server):
    verb = replicaof_verb(server)
    return Command((verb, "NO", "ONE"), "%s NO ONE" % verb)


def pause_commands(server, timeout_ms, fence_current=None):
    """(stop, resume) command lists that stop writes on the old master and let them go again.

    6.2 and later: CLIENT PAUSE WRITE, CLIENT UNPAUSE; paused writes run after the resume, and on
    a demoted master fail with READONLY, never acknowledged. Before 6.2: min-replicas-to-write
    above any possible replica count (writes fail with NOREPLICAS), then the values of
    fence_current ({"min-replicas-to-write": "0", "min-replicas-max-lag": "10"}) again.
    """
    if stop_writes_method(server) == "pause":
        return ([Command(("CLIENT", "PAUSE", str(int(timeout_ms)), "WRITE"), "CLIENT PAUSE %d WRITE" % int(timeout_ms))],
                [Command(("CLIENT", "UNPAUSE"), "CLIENT UNPAUSE")])
    fence_current = fence_current or {}
    to_write, max_lag = fence_directives(server)
    stop = [Command(("CONFIG", "SET", to_write, str(FENCE_REPLICAS)), "CONFIG SET %s %d" % (to_write, FENCE_REPLICAS))]
    resume = [Command(("CONFIG", "SET", to_write, str(fence_current.get(to_write, "0"))),
                      "CONFIG SET %s %s" % (to_write, fence_current.get(to_write, "0")))]
    lag = str(fence_current.get(max_lag, FENCE_MAX_LAG))
    if lag == "0":
        stop.append(Command(("CONFIG", "SET", max_lag, str(FENCE_MAX_LAG)), "CONFIG SET %s %d" % (max_lag, FENCE_MAX_LAG)))
        resume.append(Command(("CONFIG", "SET", max_lag, "0"), "CONFIG SET %s 0" % max_lag))
    return stop, resume


def fence_directives(server):
    """The directives pause_commands() needs the current values of before 6.2 (CONFIG GET)."""
    if stop_writes_method(server) == "pause":
        return ()
    return tuple(of(server).directive(name) for name in ("min-replicas-to-write", "min-replicas-max-lag"))


def held_offset(state):
    """The replication offset up to which a replica holds its master's stream, or None when it holds none.

    A replica keeps its master's replication ID and offset when the link drops (master_replid,
    master_repl_offset); one that never completed a sync reports its own ID and offset 0.
    """
    offset = state.get("master_repl_offset")
    return offset if offset else None


def choose_unplanned(master, nodes, wanted=None, resolve=resolve_host):
    """The replica to promote in place of a master that is down: the one holding the most of its stream.

    master: Node of the dead master (host, port as its replicas reach it; its state is not read).
    nodes: Nodes of the running replicas of its group, in inventory order, with their states.
    wanted: the name of the node the user asked for, or None for the most up-to-date one.
    Returns the Node to promote. A node that runs as a master already (promoted by an earlier run)
    is returned as it is: the caller points the others at it. Raises FailoverError, naming the
    instances and the fix, when a promotion could lose data: a replica still linked to the master
    (it is not down), a replica of another master, replicas of different histories (replication
    IDs), or a wanted node behind another replica.
    """
    promoted = [node for node in nodes if node.state["role"] == "master"]
    if len(promoted) > 1:
        raise FailoverError(
            "%s are all masters: each may have taken writes since %s went down. Nothing was changed. Decide "
            "which data to keep and make the others its replicas (REPLICAOF HOST PORT), then run the failover "
            "again naming it." % (", ".join("%s (%s)" % (node.name, address(node)) for node in promoted),
                                  master.name))
    if promoted:
        chosen = promoted[0]
        if wanted is not None and wanted != chosen.name:
            raise FailoverError(
                "%s (%s) runs as the master of the group already (promoted by an earlier failover or by hand), "
                "so %s cannot be promoted in its place. Nothing was changed. Name %s, or leave the target unset."
                % (chosen.name, address(chosen), wanted, chosen.name))
        return chosen

    for node in nodes:
        if not follows(node.state, master.host, master.port, resolve):
            raise FailoverError(
                "%s (%s) is a %s, not a replica of %s (%s). Nothing was changed. Bring it back to the group "
                "(playbooks/verify.yml shows the topology) or remove it from the inventory, then run the "
                "failover again." % (node.name, address(node), describe(node.state), master.name, address(master)))
        if node.state["master_link_status"] == "up":
            raise FailoverError(
                "%s (%s) is linked to %s (%s) right now: the master is not down, only unreachable from where the "
                "failover runs. Promoting a replica now would make two masters. Nothing was changed. Fix the "
                "network, or use the planned failover." % (node.name, address(node), master.name, address(master)))

    holding = [node for node in nodes if held_offset(node.state) is not None]
    if not holding:
        raise FailoverError(
            "No running replica of %s (%s) holds any of its data (%s). Nothing was changed. Start a replica "
            "that was in sync with it, or restore %s from a backup."
            % (master.name, address(master), ", ".join(node.name for node in nodes) or "none answers", master.name))
    histories = sorted({node.state["master_replid"] for node in holding})
    if len(histories) > 1:
        raise FailoverError(
            "The replicas of %s hold different histories: %s. Promoting one would throw away the others' data. "
            "Nothing was changed. Decide which to keep and name it as the target with the planned failover once "
            "the others replicate from it." % (master.name, "; ".join(
                "%s replication ID %s at offset %s" % (node.name, node.state["master_replid"],
                                                       held_offset(node.state)) for node in holding)))
    best = max(holding, key=lambda node: held_offset(node.state))
    if wanted is None:
        return best
    chosen = next((node for node in nodes if node.name == wanted), None)
    if chosen is None:
        raise FailoverError("%s is not a running replica of %s. Nothing was changed. Running replicas: %s."
                            % (wanted, master.name, ", ".join(node.name for node in nodes) or "none"))
    offset = held_offset(chosen.state)
    if offset is None or offset < held_offset(best.state):
        raise FailoverError(
            "%s is at replication offset %s, behind %s at offset %d: promoting %s would lose the %s byte(s) of "
            "%s's stream that only %s holds. Nothing was changed. Name %s as the target, or leave the target "
            "unset to promote the most up-to-date replica."
            % (chosen.name, offset if offset is not None else "0 (it holds nothing)", best.name,
               held_offset(best.state), chosen.name, held_offset(best.state) - (offset or 0), master.name,
               best.name, best.name))
    return chosen
