# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side, pure: the decisions of an upgrade (playbooks/upgrade.yml, the role's restart handlers).

An instance that runs a replaced server program has a pending_restart item "binary" in the run's
read (tasks/running.yml, module_utils/binary.py). With redis_server_upgrade_switchover, the rolling
restart leaves such a master running when it has replicas (switchover_masters); upgrade.yml then
promotes one of its replicas through playbooks/failover.yml (switchover_target), and the old master
is restarted on the new program as a replica by the failover's apply. summary() says what ran
before and after, per instance.
"""

from __future__ import annotations

from ansible_collections.redisops.redis.plugins.module_utils.binary import describe
from ansible_collections.redisops.redis.plugins.module_utils.dialect import replication_refusal


class UpgradeError(Exception):
    """The upgrade cannot go on as asked; the message names the instances and the fix."""


def _results(read):
    return {result.get("instance"): result for result in (read or {}).get("instances") or [] if isinstance(result, dict)}


def _replaced(result):
    return [item for item in (result or {}).get("pending_restart") or [] if isinstance(item, dict)
            and item.get("directive") == "binary"]


def switchover_masters(instances, read):
    """Names of the masters of the host (instance model, keyed by name) with replicas in the inventory
    that run a replaced server program (read: the run's replication_info result)."""
    results = _results(read)
    return [name for name, item in instances.items()
            if item["role"] == "master" and item.get("replicas") and _replaced(results.get(name))]


def switchover_target(instances, reads):
    """The switchover of an upgrade: {"master": "HOST:INSTANCE", "target": "HOST:INSTANCE", "msg"}
    for the one master of the play that runs a replaced program and has replicas, the target its
    first replica in the inventory that answered the run's read; None when no master needs one.

    instances: {host: instance model (keyed by name)}; reads: {host: that host's run's read}.
    Raises UpgradeError when more than one master needs it (playbooks/failover.yml promotes one
    replica per run) or when none of its replicas answered.
    """
    found = []
    for host in sorted(instances):
        for name in switchover_masters(instances[host] or {}, reads.get(host)):
            found.append((host, instances[host][name]))
    if not found:
        return None
    if len(found) > 1:
        raise UpgradeError(
            "redis_server_upgrade_switchover: %d masters run a replaced server program (%s), and one switchover is "
            "done per run. Their replicas run the new program; nothing else was changed. Fix: run playbooks/upgrade.yml "
            "again with --limit on the hosts of one replication group at a time."
            % (len(found), ", ".join("%s:%s" % (host, item["name"]) for host, item in found)))
    host, master = found[0]
    answered = []
    for replica in master["replicas"]:
        replica_host, name = replica.get("inventory_host"), replica.get("instance")
        result = _results(reads.get(replica_host)).get(name) or {}
        if "replication" in result:
            answered.append("%s:%s" % (replica_host, name))
    if not answered:
        raise UpgradeError(
            "redis_server_upgrade_switchover: master %s:%s runs a replaced server program, but none of its replicas "
            "(%s) answered, so none can replace it. It still runs the former program; nothing else was changed. "
            "Fix: start its replicas (site.yml), or set redis_server_upgrade_switchover: false to restart it in place."
            % (host, master["name"], ", ".join("%s:%s" % (entry.get("inventory_host"), entry.get("instance"))
                                               for entry in master["replicas"])))
    label = "%s:%s" % (host, master["name"])
    return {"master": label, "target": answered[0],
            "msg": "%s %s; %s replaces it as master through the zero-loss switchover"
                   % (label, _replaced(_results(reads.get(host)).get(master["name"]))[0]["msg"], answered[0])}


def summary(host, before, after):
    """One line per instance of the host: what it ran before the upgrade and what it runs after
    (before, after: replication_info results with instances, read at the start and at the end)."""
    first, last = _results(before), _results(after)
    lines = []
    for name in list(first) + [name for name in last if name not in first]:
        old, new = first.get(name) or {}, last.get(name) or {}
        label = "%s:%s" % (host, name)
        if "server" not in new:
            lines.append("%s: %s before, not running after (%s)" % (label, _program(old), new.get("error", "not read")))
            continue
        role = (new.get("replication") or {}).get("role") or "?"
        if "server" not in old:
            lines.append("%s: not running before, %s after (%s)" % (label, _program(new), role))
            continue
        restarted = old["server"].get("run_id") != new["server"].get("run_id")
        change = "restarted" if restarted else "not restarted"
        if _program(old) == _program(new):
            lines.append("%s: %s, %s (%s)" % (label, _program(new), change, role))
        else:
            lines.append("%s: %s -> %s, %s (%s)" % (label, _program(old), _program(new), change, role))
    return lines


def _program(result):
    server = (result or {}).get("server")
    return describe(server) if server else "not running"


def refused_pairs(instances, host, servers):
    """The replicas of the host (instance model, keyed by name) whose server cannot load their master's
    RDB format (dialect.replication_refusal), one message each naming both instances, both versions and
    the fix. servers: {inventory host: {"name", "version"}} of the server installed on each host of the
    play; a host without one (not in the play, not installed yet) is not compared."""
    mine = (servers or {}).get(host) or {}
    found = []
    for name, item in instances.items():
        master = item.get("master") or {}
        theirs = (servers or {}).get(master.get("inventory_host")) or {}
        if item["role"] != "replica" or not mine.get("version") or not theirs.get("version"):
            continue
        why = replication_refusal(theirs, mine)
        if why:
            found.append(
                "Replica %s:%s cannot replicate from its master %s:%s: %s. Nothing was changed on the instances. Fix: "
                "install the same server on both hosts, or a newer one on the replica's host first "
                "(redis_server_package_version, playbooks/upgrade.yml on the replica's host before the master's)."
                % (host, name, master.get("inventory_host"), master.get("instance"), why))
    return found
