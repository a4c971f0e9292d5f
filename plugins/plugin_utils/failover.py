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

VARIABLE = "redis_failover_target"


class FailoverPlanError(ValueError):
    """The failover target is missing or does not name a replica that can be promoted."""


def _label(host, instance):
    return "%s:%s" % (host, instance["name"])


def _announced(config, names):
    """The first argument of the first announce directive set in config, or None."""
    for name in names:
        value = config.get(name)
        if isinstance(value, str) and value.strip():
            return value.split()[0].strip('"\'')
    return None


def replica_entry(host, instance):
    """How a master lists instance among its replicas: its announce address/port, else its own."""
    config = instance.get("config") or {}
    address = _announced(config, ("replica-announce-ip", "slave-announce-ip")) or instance["advertise_address"]
    port = _announced(config, ("replica-announce-port", "slave-announce-port"))
    port = int(port) if port and port.isdigit() and int(port) else instance["port"]
    return {"host": address, "port": port, "inventory_host": host, "instance": instance["name"]}


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


def failover_plan(target, instances):
    """Plan the promotion of target ("HOST:INSTANCE" or "HOST") over its master.

    instances: {inventory host: [resolved instance without secrets, ...]} for every host of the play.
    Returns a dict: target, master (old), replicas (the old master's other replicas), each with
    inventory_host, instance, index, label, address, port, login_host; hosts: {inventory host:
    [{name, label, index, role, replicaof, replicas, replica_read_only}]} the new role of each of its instances in the group
    (replicaof {host, port} for a replica, replicas [{host, port}] for the new master);
    inventory: the changes to make to redis_server_instances, one line each.
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
    new_replicas = [dict(host=entry["host"], port=entry["port"]) for entry in instance.get("replicas") or []]
    new_replicas += [{key: value for key, value in replica_entry(member_host, member).items() if key in ("host", "port")}
                     for member_host, member_index, member in [(master_host, master_index, master)] + siblings]

    hosts = {}

    def add(member_host, member_index, member, role):
        hosts.setdefault(member_host, []).append({
            "name": member["name"],
            "label": _label(member_host, member),
            "index": member_index,
            "role": role,
            "replicaof": follow if role == "replica" else None,
            "replicas": new_replicas if role == "master" else [],
            "replica_read_only": member["replica_read_only"],
        })

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
        "replicas": [_member(member_host, member_index, member) for member_host, member_index, member in siblings],
        "hosts": hosts,
        "inventory": inventory,
    }
