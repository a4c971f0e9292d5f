# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Controller-side, pure: the server role following Sentinel (roles/server/tasks/sentinel.yml).

- ``sentinel_groups()``: from the play's inventory topology (model.play_model) and the variables of
  the hosts of the Sentinel group (``redis_server_sentinel_group``), the replication groups the
  Sentinels monitor whose master is an instance of the play: their name, inventory master, members
  (every instance whose replicaof chain leads to that master) and the Sentinels to ask, as
  items of the sentinel_master module's instances option.
- ``sentinel_replicaof()``: from the sentinel_master answers, the topology to resolve instead of the
  inventory's (the resolver's ``replicaof`` override, as the apply entry point takes it): nothing
  where the Sentinels name the inventory's master or do not run yet; where they name another member,
  that member is the master and every other member (the old master included) its replica.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import sentinel_rules
from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel import sentinel_address

DEFAULT_SENTINEL_INSTANCES = [{"name": "main", "port": 26379}]


class SentinelError(ValueError):
    """An input or answer the role cannot follow; the message names the variable, host and fix."""


def _label(host, name):
    return "%s:%s" % (host, name)


def _members(play):
    """{instance label: label of the root master of its replicaof chain} and {label: resolved instance}."""
    items, parent = {}, {}
    for host, entry in play["hosts"].items():
        for item in entry["instances"]:
            label = _label(host, item["name"])
            items[label] = dict(item, inventory_host=host)
            master = item.get("master")
            parent[label] = _label(master["inventory_host"], master["instance"]) if master else None
    roots = {}
    for label in items:
        node, seen = label, set()
        while parent.get(node) and node not in seen:
            seen.add(node)
            node = parent[node]
        roots[label] = node
    return roots, items


def _master_label(value, host, play, index):
    where = "redis_sentinel_monitors[%d].master of host '%s'" % (index, host)
    if not isinstance(value, str) or not value.strip():
        raise SentinelError("%s is %r: name the group's master as HOST:INSTANCE of the server role's inventory"
                            % (where, value))
    text = value.strip()
    if text in play["hosts"]:
        names = [item["name"] for item in play["hosts"][text]["instances"]]
        if len(names) == 1:
            return _label(text, names[0])
    return text


def sentinel_hosts(hostvars, hosts):
    """{HOST: {instances, monitors, address}} of the hosts of the Sentinel group, from their variables:
    redis_sentinel_instances (None: the default, one Sentinel on 26379), redis_sentinel_monitors, and
    where the host is reached (ansible_host, else its name)."""
    found = {}
    for host in hosts or []:
        variables = hostvars[host] if host in hostvars else {}
        found[str(host)] = {"instances": variables.get("redis_sentinel_instances"),
                            "monitors": variables.get("redis_sentinel_monitors"),
                            "address": variables.get("ansible_host") or str(host)}
    return found


def sentinel_groups(play, hostvars, hosts):
    """The groups to ask about: [{group, master, members, sentinels}].

    play: model.play_model(); hostvars and hosts: Ansible's hostvars and the hosts of the Sentinel
    group (see sentinel_hosts()). A group is asked when its master is an instance of the play; its
    Sentinels are those of every host whose redis_sentinel_monitors name it.
    """
    roots, items = _members(play)
    groups = {}
    for host, found in sentinel_hosts(hostvars, hosts).items():
        monitors = found.get("monitors") or []
        if not isinstance(monitors, list):
            raise SentinelError("redis_sentinel_monitors of host '%s' must be a list of {name, master, quorum, ...}"
                                % host)
        instances = found.get("instances")
        instances = DEFAULT_SENTINEL_INSTANCES if instances is None else instances
        if not isinstance(instances, list):
            raise SentinelError("redis_sentinel_instances of host '%s' must be a list of {name, port}" % host)
        for index, monitor in enumerate(monitors):
            if not isinstance(monitor, Mapping):
                raise SentinelError("redis_sentinel_monitors[%d] of host '%s' must be a mapping {name, master, ...}"
                                    % (index, host))
            master = _master_label(monitor.get("master"), host, play, index)
            if master not in items:
                continue  # a group of instances outside this play: not this play's to follow
            name = str(monitor.get("name") or items[master]["name"])
            group = groups.setdefault(name, {"group": name, "master": master, "sentinels": [],
                                             "members": sorted(label for label, root in roots.items()
                                                               if root == master)})
            if group["master"] != master:
                raise SentinelError("redis_sentinel_monitors of host '%s' gives group '%s' the master %s, another "
                                    "host's gives it %s: give each group one master everywhere"
                                    % (host, name, master, group["master"]))
            for item in instances:
                if not isinstance(item, Mapping) or "port" not in item:
                    raise SentinelError("redis_sentinel_instances of host '%s' must be a list of {name, port}" % host)
                group["sentinels"].append({"instance": "%s:%s" % (host, item.get("name", "main")),
                                           "login_host": sentinel_address(host, item, found.get("address")),
                                           "login_port": int(item["port"])})
    return [groups[name] for name in sorted(groups)]


def _addresses(item, items):
    """The addresses an instance is known by: its advertise address, its host name, how its master lists it."""
    found = {item["advertise_address"], item["inventory_host"], item.get("login_host")}
    for other in items.values():
        for replica in other.get("replicas") or []:
            if replica.get("inventory_host") == item["inventory_host"] and replica.get("instance") == item["name"]:
                found.add(replica.get("host"))
    return found


def sentinel_replicaof(groups, answers, play):
    """The replicaof override from what the Sentinels answered: {"HOST:INSTANCE": "HOST:MASTER" or None}.

    groups: sentinel_groups(); answers: {group name: the sentinel_master result}, or the registered
    result of a loop over groups (results with item.group). Raises SentinelError when the master the
    Sentinels agree on is no member of the group.
    """
    if isinstance(answers, Mapping) and "results" in answers:
        answers = {result["item"]["group"]: result for result in answers["results"] if result.get("item")}
    items = _members(play)[1]
    override = {}
    for group in groups:
        answer = (answers or {}).get(group["group"]) or {}
        master = answer.get("master")
        if answer.get("state") != "agreed" or not master:
            continue
        named = [label for label in group["members"] if items[label]["port"] == master["port"]
                 and master["host"] in _addresses(items[label], items)]
        if len(named) != 1:
            raise SentinelError(
                "The Sentinels of group '%s' agree that its master is %s:%s, which is %s of the group's instances "
                "(%s). Nothing was changed. Fix: make the inventory's instances and addresses "
                "(redis_server_advertise_address, ansible_host) those the Sentinels know, or correct the "
                "Sentinels' monitor (SENTINEL REMOVE and MONITOR)."
                % (group["group"], master["host"], master["port"], "none" if not named else "more than one",
                   ", ".join("%s at %s:%s" % (label, items[label]["advertise_address"], items[label]["port"])
                             for label in group["members"])))
        current = named[0]
        if current == group["master"]:
            continue
        for label in group["members"]:
            override[label] = None if label == current else current
    return override


def sentinel_acl(groups, hostvars, hosts, host, channels=True):
    """The ACL user Sentinel logs in to the data instances as, for the instances of host in a monitored
    group: {name, password, previous_passwords (redis_sentinel_previous_auth_passwords: still accepted
    while the Sentinels change to password), rules, instances: [instance names]}, or None when the Sentinel hosts'
    redis_sentinel_auth_user is empty (Sentinel logs in as the default user) or host has no such
    instance. A secret: read it under no_log only.

    groups: sentinel_groups(); hostvars, hosts: as for sentinel_groups() (the first host of the Sentinel
    group that sets redis_sentinel_auth_user gives it); channels: the server has channel rules.
    """
    name, password, previous, source = "", "", [], None
    for sentinel_host in hosts or []:
        variables = hostvars[sentinel_host] if sentinel_host in hostvars else {}
        if variables.get("redis_sentinel_auth_user"):
            name = str(variables.get("redis_sentinel_auth_user"))
            password = variables.get("redis_sentinel_auth_password") or ""
            previous = variables.get("redis_sentinel_previous_auth_passwords") or []
            source = sentinel_host
            break
    if not name:
        return None
    if not password:
        raise SentinelError("redis_sentinel_auth_password of host '%s' is empty while redis_sentinel_auth_user is "
                            "'%s': set the password Sentinel logs in to the data instances with (in Ansible Vault)"
                            % (source, name))
    prefix = "%s:" % host
    instances = sorted(set(label[len(prefix):] for group in groups or [] for label in group["members"]
                           if label.startswith(prefix)))
    if not instances:
        return None
    if isinstance(previous, str):
        raise SentinelError("redis_sentinel_previous_auth_passwords of host '%s' is a string: give a list of the "
                            "passwords the data instances keep accepting for user '%s'" % (source, name))
    kept = []
    for item in previous:
        if item and str(item) != str(password) and str(item) not in kept:
            kept.append(str(item))
    return {"name": name, "password": str(password), "previous_passwords": kept, "rules": list(sentinel_rules(channels)),
            "instances": instances}
