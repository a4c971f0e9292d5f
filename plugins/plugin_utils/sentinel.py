# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Sentinels of a play and the groups they monitor, resolved and validated on the controller.

Pure: the input is ``hostvars``, the hosts that run Sentinels (the inventory group
``redis_sentinel``) and the hosts of the server role (group ``redis``), whose topology is resolved
with the server role's resolver (``topology.resolve_play``). Every problem of every host is
reported at once, naming the variable, the host and the fix, before any host changes; problems
that are allowed (a local test bed) are returned as warnings.
"""

from __future__ import annotations

from collections.abc import Mapping

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import (
    NAME_RE,
    TopologyError,
    is_loopback,
    login_host,
    plain,
    resolve_play,
)

DEFAULTS = {
    "redis_sentinel_instances": [{"name": "main", "port": 26379}],
    "redis_sentinel_bind": ["127.0.0.1"],
    "redis_sentinel_password": "",
}
MONITOR_DEFAULTS = {"quorum": 2, "down_after_milliseconds": 30000, "failover_timeout": 180000, "parallel_syncs": 1}
INSTANCE_KEYS = ("name", "port", "bind", "advertise_address", "advertise_port", "state")
MONITOR_KEYS = ("name", "master", "quorum", "down_after_milliseconds", "failover_timeout", "parallel_syncs", "state")


class SentinelError(ValueError):
    """The input problems found, one message each."""

    def __init__(self, items):
        super().__init__("\n".join(items))
        self.items = list(items)


class _Errors:
    def __init__(self):
        self.items = []

    def add(self, where, problem, fix):
        message = "%s: %s. Fix: %s." % (where, problem.rstrip("."), fix.rstrip("."))
        if message not in self.items:
            self.items.append(message)


def _int(value):
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isdigit():
        return int(value)
    return None


def _value(hostvars, host, variable, defaults):
    vars_of = hostvars[host] if host in hostvars else {}
    if variable in vars_of:
        return plain(vars_of[variable])
    return plain(defaults.get(variable, DEFAULTS[variable]))


def _binds(value):
    if isinstance(value, str):
        return [value]
    return [str(item) for item in value or []]


def _read_sentinels(hostvars, hosts, defaults, errors):
    """{host: [instance]} of every Sentinel host; each instance {name, port, bind, state, ...}."""
    result = {}
    for host in hosts:
        items = _value(hostvars, host, "redis_sentinel_instances", defaults)
        bind = _binds(_value(hostvars, host, "redis_sentinel_bind", defaults))
        password = _value(hostvars, host, "redis_sentinel_password", defaults) or ""
        where = "redis_sentinel_instances of host '%s'" % host
        if not isinstance(items, list) or not items:
            errors.add(where, "must be a non-empty list", "list the Sentinels, e.g. [{name: main, port: 26379}]")
            items = []
        found, names, ports = [], set(), {}
        for index, item in enumerate(items):
            at = "redis_sentinel_instances[%d] of host '%s'" % (index, host)
            if not isinstance(item, Mapping):
                errors.add(at, "%r is not a mapping" % (item,), "write each Sentinel as {name: NAME, port: PORT}")
                continue
            unknown = sorted(set(item) - set(INSTANCE_KEYS))
            if unknown:
                errors.add(at, "unknown key(s) %s" % ", ".join(unknown), "use only %s" % ", ".join(INSTANCE_KEYS))
            name, port = item.get("name"), _int(item.get("port"))
            if not isinstance(name, str) or not NAME_RE.match(name):
                errors.add(at, "name %r is not a name" % (name,), "give it a name matching ^[a-z][a-z0-9_-]*$")
                name = "#%d" % index
            elif name in names:
                errors.add(at, "name '%s' is used twice" % name, "give each Sentinel of the host its own name")
            names.add(name)
            if port is None or not 0 < port < 65536:
                errors.add(at, "port %r is not a TCP port" % (item.get("port"),), "set port to a number in 1..65535")
                port = 0
            state = item.get("state", "present")
            if state not in ("present", "absent"):
                errors.add(at, "state %r is not present or absent" % (state,), "set state to present or absent")
            instance_bind = _binds(item["bind"]) if item.get("bind") else bind
            if port and state == "present":
                if port in ports:
                    errors.add("redis_sentinel_instances of host '%s' (Sentinel '%s')" % (host, name),
                               "port %d is used twice, also by Sentinel '%s'" % (port, ports[port]),
                               "give each Sentinel of the host its own port")
                ports.setdefault(port, name)
            if state == "present" and not password and not all(is_loopback(a) for a in instance_bind):
                errors.add("redis_sentinel_password of host '%s'" % host,
                           "is empty, but Sentinel '%s' listens on %s, not only on loopback" % (name, ", ".join(instance_bind)),
                           "set redis_sentinel_password (in Ansible Vault), or bind the Sentinel to 127.0.0.1")
            found.append({"name": name, "port": port, "bind": instance_bind,
                          "login_host": sentinel_address(host, item, bind=instance_bind, local=True),
                          "advertise_address": str(item.get("advertise_address") or ""),
                          "advertise_port": _int(item.get("advertise_port")) or 0,
                          "state": state, "host": host})
        result[host] = found
    return result


# A bind address that says nothing about where to reach the Sentinel from another host.
WILDCARDS = ("", "0.0.0.0", "::", "*", "-::*")


def sentinel_address(host, item, host_address=None, bind=None, local=False):
    """Where a Sentinel is reached: the one rule for the sentinel role and the server role.

    item: its redis_sentinel_instances entry; bind: the addresses it listens on (the item's bind, else
    the host's redis_sentinel_bind), read from item when None. local: reached from its own host (the
    sentinel role's modules run there): loopback when it listens there, else its first bind address
    (topology.login_host). Otherwise (the server role, from the play's first host): its
    advertise_address, else its item's first bind address that is not a wildcard, else host_address
    (the host's ansible_host), else the host's name.
    """
    if local:
        return login_host(_binds(item.get("bind")) if bind is None else bind)
    if item.get("advertise_address"):
        return str(item["advertise_address"])
    given = item.get("bind")
    first = (given[0] if isinstance(given, list) and given else given) if given else None
    if isinstance(first, str) and first.split() and first.split()[0] not in WILDCARDS:
        return first.split()[0]
    return host_address or host


def _check_auth(hostvars, host, errors):
    """Sentinel (7.0) rewrites auth-pass and auth-user into its file unquoted: a value with a blank or a
    quote would not load again after a restart. Refused before anything changes."""
    vars_of = hostvars[host] if host in hostvars else {}
    for variable in ("redis_sentinel_auth_user", "redis_sentinel_auth_password"):
        value = plain(vars_of[variable]) if variable in vars_of else ""
        if value is None:
            continue
        if not isinstance(value, str):
            errors.add("%s of host '%s'" % (variable, host), "must be a string", "set it to a string (in Ansible Vault)")
        elif any(char.isspace() or char in "\"'" for char in value):
            errors.add("%s of host '%s'" % (variable, host),
                       "contains a blank or a quote, which Sentinel writes into its own config file unquoted, so that it "
                       "would not start again", "use a value without blanks and quotes (letters, digits, punctuation)")


def _members(resolved, host, instance):
    """The addresses of the instance and of every instance whose replicaof chain leads to it."""
    found, queue, seen = [], [(host, instance)], set()
    by_key = {(h, item["name"]): item for h, items in resolved.items() for item in items}
    while queue:
        key = queue.pop(0)
        item = by_key.get(key)
        if item is None or key in seen:
            continue
        seen.add(key)
        found.append("%s:%d" % (item["advertise_address"], item["port"]))
        queue += [(replica["inventory_host"], replica["instance"]) for replica in item["replicas"]
                  if replica.get("inventory_host")]
    return found


def _monitor(index, item, resolved, server_hosts, errors):
    at = "redis_sentinel_monitors[%d]" % index
    if not isinstance(item, Mapping):
        errors.add(at, "%r is not a mapping" % (item,), "write each group as {master: HOST:INSTANCE, quorum: 2}")
        return None
    unknown = sorted(set(item) - set(MONITOR_KEYS))
    if unknown:
        errors.add(at, "unknown key(s) %s" % ", ".join(unknown), "use only %s" % ", ".join(MONITOR_KEYS))
    master = item.get("master")
    if not isinstance(master, str) or not master:
        errors.add(at, "has no master", "set master to the group's master as HOST:INSTANCE of the inventory")
        return None
    host, sep, name = master.rpartition(":")
    host = host if sep else master
    where = "%s (master '%s')" % (at, master)
    if host not in resolved:
        errors.add(where, "host '%s' is not a host of the server role's group (%s)" % (
            host, ", ".join(server_hosts) or "empty"),
            "name an inventory host of that group as HOST:INSTANCE, e.g. %s" % (
                "%s:%s" % (server_hosts[0], resolved[server_hosts[0]][0]["name"]) if server_hosts and resolved.get(
                    server_hosts[0]) else "redis-1:main"))
        return None
    instances = resolved[host]
    if not sep:
        if len(instances) != 1:
            errors.add(where, "host '%s' has %d instances" % (host, len(instances)),
                       "name one as HOST:INSTANCE (%s)" % ", ".join("%s:%s" % (host, i["name"]) for i in instances))
            return None
        name = instances[0]["name"]
    matches = [instance for instance in instances if instance["name"] == name]
    if not matches:
        errors.add(where, "host '%s' has no instance '%s'" % (host, name),
                   "name one of %s" % ", ".join("%s:%s" % (host, i["name"]) for i in instances))
        return None
    instance = matches[0]
    if instance["role"] != "master":
        errors.add(where, "instance '%s:%s' is a replica (of %s:%s), not a master" % (
            host, name, instance["master"]["inventory_host"], instance["master"]["instance"]) if instance.get("master")
            else "instance '%s:%s' is a replica" % (host, name),
            "name the master of its group")
        return None
    result = {"name": item.get("name") or name, "master": "%s:%s" % (host, name),
              "host": instance["advertise_address"], "port": instance["port"],
              "members": _members(resolved, host, name), "state": item.get("state", "present")}
    if not isinstance(result["name"], str) or not NAME_RE.match(result["name"]):
        errors.add(at, "name %r is not a name" % (result["name"],), "give the group a name matching ^[a-z][a-z0-9_-]*$")
    for option, default in MONITOR_DEFAULTS.items():
        value = _int(item.get(option, default))
        if value is None or value < (1 if option == "parallel_syncs" else 0):
            errors.add("%s.%s" % (at, option), "%r is not a positive number" % (item.get(option),),
                       "set %s to a whole number (default %s)" % (option, default))
            value = default
        result[option] = value
    return result


def sentinel_model(hostvars, host, sentinel_hosts, server_hosts, monitors, defaults=None):
    """The Sentinels of host and the groups they monitor, after validating the whole play.

    Returns {"instances": [present Sentinels of host], "retired": [absent ones], "monitors": [groups:
    name, master (HOST:INSTANCE), host, port, members, quorum, settings, state], "sentinels": the
    number of present Sentinels, "warnings": [...]}. Raises SentinelError listing every problem.
    """
    defaults = dict(defaults or {})
    errors = _Errors()
    sentinel_hosts = [str(name) for name in sentinel_hosts or []]
    server_hosts = [str(name) for name in server_hosts or []]
    sentinels = _read_sentinels(hostvars, sentinel_hosts, defaults, errors)
    for name in sentinel_hosts:
        _check_auth(hostvars, name, errors)
    try:
        resolved = resolve_play(hostvars, server_hosts) if server_hosts else {}
    except TopologyError as exc:
        resolved = {}
        errors.add("redis_server_instances", "the server role's topology does not resolve: %s" % exc,
                   "fix the server inventory first")
    for name, items in sentinels.items():
        used = {item["port"]: item["name"] for item in resolved.get(name, [])}
        for item in items:
            if item["state"] == "present" and item["port"] in used:
                errors.add("redis_sentinel_instances of host '%s' (Sentinel '%s')" % (name, item["name"]),
                           "port %d is also the port of the server instance '%s'" % (item["port"], used[item["port"]]),
                           "give the Sentinel another port (26379 is Sentinel's usual one)")
    monitors = plain(monitors) if monitors is not None else []
    if not isinstance(monitors, list):
        errors.add("redis_sentinel_monitors", "must be a list", "list the groups, e.g. [{master: redis-1:main}]")
        monitors = []
    groups = [_monitor(index, item, resolved, server_hosts, errors) for index, item in enumerate(monitors)]
    groups = [group for group in groups if group is not None]
    present = [item for items in sentinels.values() for item in items if item["state"] == "present"]
    warnings = []
    seen = {}
    for index, group in enumerate(groups):
        if group["name"] in seen:
            errors.add("redis_sentinel_monitors[%d]" % index, "group name '%s' is used twice (also by %s)" % (
                group["name"], seen[group["name"]]), "give each group its own name")
        seen[group["name"]] = group["master"]
        if group["state"] != "present":
            continue
        if not 0 < group["quorum"] <= len(present):
            errors.add("redis_sentinel_monitors[%d].quorum (group '%s')" % (index, group["name"]),
                       ("is 0: no number of Sentinels agreeing that the master is down would start a failover"
                        if group["quorum"] <= 0 else "%d is larger than the %d Sentinel(s) of the play (%s)" % (
                            group["quorum"], len(present),
                            ", ".join("%s:%s" % (i["host"], i["name"]) for i in present) or "none")),
                       "set quorum between 1 and %d (a majority, e.g. 2 of 3), or add Sentinels" % max(1, len(present)))
        if len(present) < 3:
            warnings.append("Group '%s' has %d Sentinel(s): fewer than 3 cannot survive the loss of one of them "
                            "and still authorize a failover; add Sentinels on other hosts (fine for a local test bed)."
                            % (group["name"], len(present)))
        elif len({item["host"] for item in present}) == 1:
            warnings.append("Group '%s': all %d Sentinels run on host '%s': losing that host loses them all; "
                            "spread them over hosts (fine for a local test bed)."
                            % (group["name"], len(present), present[0]["host"]))
    if errors.items:
        raise SentinelError(errors.items)
    mine = sentinels.get(str(host), [])
    return {"instances": [item for item in mine if item["state"] == "present"],
            "retired": [item for item in mine if item["state"] == "absent"],
            "monitors": groups, "sentinels": len(present), "warnings": warnings}


def instance_items(instances, host, dirs):
    """What the role's tasks pass to the modules for the Sentinels of host.

    dirs: {conf_dir, run_dir, log_dir}. Returns {"process": server_process items, "check":
    sentinel_check items, "config_files": {check item name: config file}}, all without secrets.
    """
    result = {"process": [], "check": [], "config_files": {}}
    for item in instances:
        conf = "%s/sentinel-%s.conf" % (dirs["conf_dir"].rstrip("/"), item["name"])
        label = "%s:%s" % (host, item["name"])
        result["process"].append({
            "name": "sentinel-%s" % item["name"], "config_file": conf,
            "pid_file": "%s/sentinel-%s.pid" % (dirs["run_dir"].rstrip("/"), item["name"]),
            "log_file": "%s/sentinel-%s.log" % (dirs["log_dir"].rstrip("/"), item["name"]),
            "login_host": item["login_host"], "login_port": item["port"]})
        result["check"].append({"instance": label, "login_host": item["login_host"], "login_port": item["port"]})
        result["config_files"][label] = conf
    return result


def monitor_items(monitors, auth_user="", auth_password=""):
    """The monitors option of sentinel_config: each group with the Sentinels' credentials."""
    keys = ("name", "host", "port", "quorum", "down_after_milliseconds", "failover_timeout", "parallel_syncs", "state")
    return [dict({key: group[key] for key in keys}, auth_user=auth_user or "", auth_pass=auth_password or "")
            for group in monitors]
