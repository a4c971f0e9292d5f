# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Plan a failover on the controller: who is promoted, who follows, what to change in the inventory.

Pure functions over the resolved topology (plugin_utils/topology.py, without secrets) of every
host of the play. Used by the ``redisops.redis.failover_plan`` filter of ``playbooks/failover.yml``:
every input error is found here, before any host changes.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.redisops.redis.plugins.module_utils.failover import (
    FailoverError,
    Node,
    choose_unplanned,
    follows,
    held_offset,
)
from ansible_collections.redisops.redis.plugins.module_utils.replication import resolve_host

VARIABLE = "redis_failover_target"
UNPLANNED = "redis_failover_unplanned"


class FailoverPlanError(ValueError):
    """The failover target is missing or does not name a replica that can be promoted."""


def _label(host, instance):
    return "%s:%s" % (host, instance["name"])


def _member(host, index, instance):
    return {
        "inventory_host": host,
        "instance": instance["name"],
        "index": index,
        "label": _label(host, instance),
        "address": instance["advertise_address"],
        "port": instance["port"],
        "login_host": instance["login_host"],
    }


def _find(instances, host, name):
    for index, instance in enumerate(instances.get(host) or []):
        if instance["name"] == name:
            return index, instance
    return None, None


def promotable(instances):
    """Labels of the replicas that can be promoted: those whose master is a master of the play."""
    labels = []
    for host, items in instances.items():
        for instance in items:
            master = instance.get("master")
            if instance["role"] != "replica" or not master:
                continue
            index, found = _find(instances, master["inventory_host"], master["instance"])
            if found is not None and found["role"] == "master":
                labels.append(_label(host, instance))
    return labels


def _choices(instances):
    labels = promotable(instances)
    return ("replicas that can be promoted in this play: %s" % ", ".join(labels)) if labels \
        else "this play has no replica whose master is in the play"


def _locate(target, instances):
    """(host, index, instance) the target names; FailoverPlanError with the fix otherwise."""
    example = (promotable(instances) or ["HOST:INSTANCE"])[0]
    if target is None or (isinstance(target, str) and not target.strip()):
        raise FailoverPlanError(
            "%s is not set. Set it to the replica to promote, as HOST:INSTANCE (or HOST for a host's only "
            "instance), for example -e %s=%s (%s). Nothing was changed."
            % (VARIABLE, VARIABLE, example, _choices(instances)))
    if not isinstance(target, str):
        raise FailoverPlanError("%s must be a string HOST:INSTANCE, not %s. Nothing was changed. Example: -e %s=%s"
                                % (VARIABLE, type(target).__name__, VARIABLE, example))
    text = target.strip()
    host, sep, name = text.rpartition(":")
    if not sep or text.count(":") > 1 and host not in instances:
        host, name = text, None
    if host not in instances:
        raise FailoverPlanError(
            "%s=%r names host '%s', which is not in this play (hosts: %s). Nothing was changed. Fix: name an "
            "inventory host of the play, as HOST:INSTANCE (%s)."
            % (VARIABLE, text, host, ", ".join(sorted(instances)) or "none", _choices(instances)))
    items = instances[host] or []
    if name is None:
        if len(items) != 1:
            raise FailoverPlanError(
                "%s=%r names host '%s', which has %d instances (%s). Nothing was changed. Fix: name the instance, "
                "%s=%s:INSTANCE." % (VARIABLE, text, host, len(items), ", ".join(item["name"] for item in items),
                                     VARIABLE, host))
        return host, 0, items[0]
    index, instance = _find(instances, host, name)
    if instance is None:
        raise FailoverPlanError(
            "%s=%r names instance '%s', which host '%s' does not have (it has: %s). Nothing was changed. "
            "Fix: use one of those names (%s)."
            % (VARIABLE, text, name, host, ", ".join(item["name"] for item in items) or "none", _choices(instances)))
    return host, index, instance


def failover_plan(target, instances, running=None):
    """Plan the promotion of target ("HOST:INSTANCE" or "HOST") over its master.

    instances: {inventory host: [resolved instance without secrets, ...]} for every host of the play.
    running: the labels of the instances that answer (unplanned mode), None when all do. Those that
    do not are left out of replicas (listed in unreached instead) and of the new master's replicas,
    and their entries in hosts have running false: their files are written, nothing is asked of them.
    Returns a dict: target, master (old), replicas (the old master's other replicas), each with
    inventory_host, instance, index, label, address, port, login_host; hosts: {inventory host:
    [{name, label, index, role, replicaof, running}]} the new role of each of its instances in the
    group (replicaof {host, port} for a replica); replicaof: {label: the new master's label, or None
    for the new master} for every instance of the group, the topology the role's apply entry point
    resolves (redis_server_replicaof); inventory: the changes to make to redis_server_instances,
    one line each.
    Raises FailoverPlanError, naming redis_failover_target and the fix, when target cannot be promoted.
    """
    if not isinstance(instances, Mapping):
        raise FailoverPlanError("failover_plan needs the resolved instances of every host, as a dict")
    host, index, instance = _locate(target, instances)
    label = _label(host, instance)
    if instance["role"] != "replica":
        replicas = [entry["inventory_host"] + ":" + entry["instance"] for entry in instance.get("replicas") or []]
        raise FailoverPlanError(
            "%s=%r: instance '%s' of host '%s' is a master in the inventory (it has no replicaof), not a replica: "
            "there is nothing to promote it over. Nothing was changed. Fix: name one of its replicas (%s). If you "
            "promoted it already and updated the inventory, there is nothing left to do."
            % (VARIABLE, target, instance["name"], host, ", ".join(replicas) or "it has none"))
    master_ref = instance.get("master")
    if not master_ref:
        replicaof = instance.get("replicaof") or {}
        raise FailoverPlanError(
            "%s=%r: instance '%s' of host '%s' replicates from %s:%s, which is not an instance of this play. The "
            "failover demotes the old master, so it must be in the inventory and in the play. Nothing was "
            "changed. Fix: add that master to the inventory (and to the play), or choose another target (%s)."
            % (VARIABLE, target, instance["name"], host, replicaof.get("host"), replicaof.get("port"),
               _choices(instances)))
    master_host = master_ref["inventory_host"]
    master_index, master = _find(instances, master_host, master_ref["instance"])
    if master is None:
        raise FailoverPlanError("%s=%r: the master %s:%s of '%s' is not in this play. Nothing was changed. Fix: run "
                                "the play on every host of the replication group." % (
                                    VARIABLE, target, master_host, master_ref["instance"], label))
    if master["role"] != "master":
        raise FailoverPlanError(
            "%s=%r: '%s' replicates from '%s', which is itself a replica: the failover promotes a replica of a "
            "group's master. Nothing was changed. Fix: choose one of %s."
            % (VARIABLE, target, label, _label(master_host, master), _choices(instances)))

    def answers(member_host, member):
        return running is None or _label(member_host, member) in running

    siblings = []
    for entry in master.get("replicas") or []:
        if (entry["inventory_host"], entry["instance"]) == (host, instance["name"]):
            continue
        sibling_index, sibling = _find(instances, entry["inventory_host"], entry["instance"])
        if sibling is not None:
            siblings.append((entry["inventory_host"], sibling_index, sibling))

    new_master = _member(host, index, instance)
    old_master = _member(master_host, master_index, master)
    follow = {"host": new_master["address"], "port": new_master["port"]}

    hosts = {}
    replicaof = {}

    def add(member_host, member_index, member, role):
        hosts.setdefault(member_host, []).append({
            "name": member["name"],
            "label": _label(member_host, member),
            "index": member_index,
            "role": role,
            "replicaof": follow if role == "replica" else None,
            "running": answers(member_host, member),
        })
        replicaof[_label(member_host, member)] = label if role == "replica" else None

    add(host, index, instance, "master")
    add(master_host, master_index, master, "replica")
    for member_host, member_index, member in siblings:
        add(member_host, member_index, member, "replica")

    inventory = [
        "host '%s', instance '%s': remove replicaof (it is the master now)" % (host, instance["name"]),
        "host '%s', instance '%s': add replicaof: '%s' (it is a replica of the new master now)"
        % (master_host, master["name"], label),
    ]
    inventory += ["host '%s', instance '%s': set replicaof: '%s'" % (member_host, member["name"], label)
                  for member_host, member_index, member in siblings]
    return {
        "target": new_master,
        "master": old_master,
        "replicas": [_member(member_host, member_index, member) for member_host, member_index, member in siblings
                     if answers(member_host, member)],
        "unreached": [_label(member_host, member) for member_host, member_index, member in siblings
                      if not answers(member_host, member)],
        "hosts": hosts,
        "replicaof": replicaof,
        "inventory": inventory,
    }


def _states(probes):
    """{label: replication state} of the instances that answered, from {host: [replication_info result]}
    (or {host: the registered result of replication_info with instances})."""
    states = {}
    for host, results in (probes or {}).items():
        if isinstance(results, Mapping):  # the registered result of replication_info itself
            results = results.get("instances")
        for result in results or []:
            if isinstance(result, Mapping) and isinstance(result.get("replication"), Mapping):
                states["%s:%s" % (host, result.get("instance"))] = result["replication"]
    return states


def _groups(instances):
    """[(master member, [replica members])] for every master of the play with replicas in the play."""
    groups = []
    for host, items in instances.items():
        for index, instance in enumerate(items or []):
            if instance["role"] != "master":
                continue
            members = []
            for entry in instance.get("replicas") or []:
                found_index, found = _find(instances, entry["inventory_host"], entry["instance"])
                if found is not None:
                    members.append(_member(entry["inventory_host"], found_index, found))
            if members:
                groups.append((_member(host, index, instance), members))
    return groups


def _node(member, states):
    return Node(member["label"], member["address"], member["port"], states.get(member["label"]))


def _promoted_by_earlier_run(master, members, states, resolve):
    """True when the master answers as a replica of one of its inventory replicas that runs as a master."""
    state = states.get(master["label"])
    return state is not None and any(
        (states.get(member["label"]) or {}).get("role") == "master"
        and follows(state, member["address"], member["port"], resolve) for member in members)


def unplanned_failover_plan(target, instances, probes, resolve=resolve_host):
    """Plan the promotion of the most up-to-date replica of a master that is down.

    target: the replica the user names, or None/"" to promote the most up-to-date one.
    instances: as for failover_plan. probes: {inventory host: [result of replication_info for each
    of its instances, with instance and replication, or error]}: an instance without replication
    did not answer. Returns the plan of failover_plan for the chosen replica, with running (who
    answered), plus unplanned true, down (the labels that did not answer) and offsets (label: how
    much of the master's stream each running replica holds). Raises FailoverPlanError naming the
    variable and the fix: the master answers (the planned mode is the right one), no master or several
    are down, or the named replica is behind another one (naming it and both offsets).
    """
    if not isinstance(instances, Mapping):
        raise FailoverPlanError("failover_plan needs the resolved instances of every host, as a dict")
    states = _states(probes)
    named = not (target is None or (isinstance(target, str) and not target.strip()))
    if named:
        planned = failover_plan(target, instances)
        master, members = planned["master"], [planned["target"]] + planned["replicas"]
        where = "%s=%r with %s=true" % (VARIABLE, target, UNPLANNED)
    else:
        groups = _groups(instances)
        if not groups:
            raise FailoverPlanError("%s=true: this play has no master with replicas in the play. Nothing was changed."
                                    % UNPLANNED)
        candidates = [(master, members) for master, members in groups
                      if master["label"] not in states or _promoted_by_earlier_run(master, members, states, resolve)]
        if not candidates:
            raise FailoverPlanError(
                "%s=true: every master of the play answers (%s): the unplanned failover replaces a master that is "
                "down. Nothing was changed. Fix: for a switchover from a running master, run the planned failover: "
                "leave %s out and set %s (%s)."
                % (UNPLANNED, ", ".join("%s at %s:%s" % (master["label"], master["address"], master["port"])
                                        for master, members in groups), UNPLANNED, VARIABLE, _choices(instances)))
        if len(candidates) > 1:
            raise FailoverPlanError(
                "%s=true: several masters of the play are down or were replaced (%s). Nothing was changed. Fix: set "
                "%s to a replica of the one to replace (%s)."
                % (UNPLANNED, ", ".join(master["label"] for master, members in candidates), VARIABLE,
                   _choices(instances)))
        master, members = candidates[0]
        where = "%s=true" % UNPLANNED
    if master["label"] in states and not _promoted_by_earlier_run(master, members, states, resolve):
        state = states[master["label"]]
        as_what = "master" if state.get("role") == "master" \
            else "replica of %s:%s" % (state.get("master_host"), state.get("master_port"))
        raise FailoverPlanError(
            "%s: the master %s (%s:%s) answers, as a %s: the unplanned failover replaces a master that is down. "
            "Nothing was changed. Fix: run the planned failover, which stops writes on it before the promotion: "
            "leave %s out and set %s=%s."
            % (where, master["label"], master["address"], master["port"], as_what,
               UNPLANNED, VARIABLE, target if named else members[0]["label"]))
    running = [member for member in members if member["label"] in states]
    if named and planned["target"]["label"] not in states:
        raise FailoverPlanError("%s: %s does not answer, it cannot be promoted. Nothing was changed. Fix: start it, or "
                                "leave %s out to promote the most up-to-date running replica."
                                % (where, planned["target"]["label"], VARIABLE))
    try:
        chosen = choose_unplanned(Node(master["label"], master["address"], master["port"], None),
                                  [_node(member, states) for member in running],
                                  planned["target"]["label"] if named else None, resolve)
    except FailoverError as exc:
        raise FailoverPlanError("%s: %s" % (where, exc)) from None
    labels = {member["label"] for member in running}
    if master["label"] in states:
        labels.add(master["label"])
    plan = failover_plan(chosen.name, instances, running=labels)
    plan["unplanned"] = True
    plan["down"] = [member["label"] for member in [master] + members if member["label"] not in labels]
    plan["offsets"] = {member["label"]: held_offset(states[member["label"]]) for member in running}
    return plan


# ---------------------------------------------------------------------------------------------
# after the plan: how the failover module logs in, and what the role's verify checks
# ---------------------------------------------------------------------------------------------

def _login(member, logins, remote):
    """The item of the failover module for a member of the plan, from the role's login of it.

    remote: the module reaches the instance from the target's host, at the address the others use.
    """
    found = (logins.get(member["inventory_host"]) or {}).get(member["instance"])
    if not isinstance(found, Mapping):
        raise FailoverPlanError("no login for %s: the role's topology of host '%s' was not resolved (unreachable?). "
                                "Nothing was changed." % (member["label"], member["inventory_host"]))
    item = dict(found, instance=member["label"])
    if remote:
        item.update(login_host=member["address"], login_port=member["port"])
    return item


def failover_logins(plan, logins):
    """The instances of the failover module for the plan: {target, master, replicas}.

    logins: {inventory host: {instance name: the role's login of it (instance, login_host, login_port,
    login_user, login_password)}}. Joined by name. The target is reached as its own host reaches it
    (the module runs there), the others at their address and port; each is named HOST:INSTANCE.
    """
    return {
        "target": _login(plan["target"], logins, remote=False),
        "master": _login(plan["master"], logins, remote=True),
        "replicas": [_login(member, logins, remote=True) for member in plan["replicas"]],
    }


def _replica_label(entry):
    return "%s:%s" % (entry.get("inventory_host"), entry.get("instance"))


def failover_running(instances, plan, host):
    """The resolved instances of host (in the new topology) to check after the failover.

    The instances of the plan's group on host that run, and in each one's replicas only those that
    run: an instance that did not answer (unplanned mode) is left down, its files written.
    """
    members = {item["name"]: item for item in (plan.get("hosts") or {}).get(host) or []}
    down = {item["label"] for items in (plan.get("hosts") or {}).values() for item in items if not item["running"]}
    result = []
    for instance in instances or []:
        member = members.get(instance["name"])
        if member is None or not member["running"]:
            continue
        replicas = [entry for entry in instance.get("replicas") or [] if _replica_label(entry) not in down]
        item = dict(instance, replicas=replicas)
        if "check" in instance:  # the role's model: its replication_check item expects these replicas
            item["check"] = dict(instance["check"], replicas=[{"host": entry["host"], "port": entry["port"]}
                                                              for entry in replicas], min_replicas=len(replicas))
        result.append(item)
    return result
