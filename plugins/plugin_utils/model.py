# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The resolved instance model of the server role: pure, on the controller.

Two levels, so that the play's topology is resolved once per play (not once per host, which
walked every host's variables from every host: O(N^2) in a fleet):

- ``play_model()``: the whole play's topology, resolved and validated once (the role runs it
  with ``run_once``), per host its instances and the instances it retires, without secrets;
  ``play_secrets()`` the passwords of the same, by host and instance name.
- ``instance_model()``: one host's instances, keyed by name, each with everything the role's
  tasks need: its paths, its login item and verify check item for the modules, whether its file
  says ``appendonly yes``, its systemd restart policy. ``with_secrets()`` gives the view with
  passwords (read only under ``no_log``), joined by instance name, never by list position.

The other functions here turn that model and the modules' results into what one task needs
(runtime_config items, the guard's findings, the verify summary, drift, the restart list, the
files for instance_files), so that task files hold no Jinja programs.
"""

from __future__ import annotations

import copy

from ansible_collections.redisops.redis.plugins.module_utils.dialect import live_defaults, of
from ansible_collections.redisops.redis.plugins.module_utils.replication import includes_history
from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import REPLICATION_RULES
from ansible_collections.redisops.redis.plugins.plugin_utils.master_crash import master_crash_check
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import _resolve, split_args

# What the role writes into each main file unless redis_server_config or the instance's config
# sets it (vars/main.yml passes its own __redis_server_default_directives; these are the fallbacks).
DEFAULT_DIRECTIVES = {"dbfilename": "dump.rdb", "appendonly": "yes", "appenddirname": "appendonlydir",
                      "appendfilename": "appendonly.aof"}
SECRET_KEYS = ("password", "masterauth")
# The expected state of a verify row: the replication_check options of its check item (no login).
EXPECTED_KEYS = ("role", "master_host", "master_port", "link_up", "read_only", "replicas", "min_replicas")


# ---------------------------------------------------------------------------------------------
# the play (once per play)
# ---------------------------------------------------------------------------------------------

def play_model(hostvars, host, play_hosts, defaults=None, current=None, **options):
    """The play's resolved topology without secrets.

    {"hosts": {HOST: {"instances": [resolved instance, ...], "retired": [retired instance, ...]}},
     "replica_labels": ["HOST:NAME" of every replica of the play], "replication_rules": [...]}
    host and current: the host that runs the resolution and the variables as it sees them (a play
    var or role parameter, which other hosts cannot see in hostvars, is refused). options go to
    the topology resolver unchanged. Raises topology.TopologyError listing every input problem.
    """
    present = _resolve(hostvars, play_hosts, defaults, str(host), current, False, **options)
    retired = _resolve(hostvars, play_hosts, defaults, str(host), None, False, state="absent", **options)
    hosts = {name: {"instances": instances, "retired": retired.get(name, [])} for name, instances in present.items()}
    labels = ["%s:%s" % (name, item["name"]) for name, instances in present.items() for item in instances
              if item["role"] == "replica"]
    return {"hosts": hosts, "replica_labels": labels, "replication_rules": list(REPLICATION_RULES)}


def play_secrets(hostvars, host, play_hosts, defaults=None, **options):
    """The secrets of the play's instances: {HOST: {NAME: {password, masterauth, replication_user}}}."""
    resolved = _resolve(hostvars, play_hosts, defaults, str(host), None, True, **options)
    return {name: {item["name"]: _secrets_of(item) for item in instances} for name, instances in resolved.items()}


def _secrets_of(item):
    secrets = {key: item.get(key, "") for key in SECRET_KEYS}
    user = item.get("replication_user")
    secrets["replication_user"] = dict(user) if user else None
    return secrets


# ---------------------------------------------------------------------------------------------
# one host's instances
# ---------------------------------------------------------------------------------------------

def _first_arg(value):
    """The first redis.conf argument of a directive's value (a list: its last line), or None."""
    if isinstance(value, list):
        value = value[-1] if value else None
    if value is None:
        return None
    try:
        args = split_args(str(value))
    except ValueError:
        return None
    return args[0] if args else None


def _directive(config, defaults, name):
    value = config[name] if name in config else defaults.get(name, DEFAULT_DIRECTIVES.get(name))
    return _first_arg(value)


def paths(name, dirs, config=None, defaults=None):
    """The files of instance name: main and live file, the main file's .previous, data dir, data
    file (its dbfilename, default dump.rdb), AOF paths, log and pid file."""
    config, defaults = config or {}, defaults or {}
    conf_dir, data_dir = dirs["conf_dir"].rstrip("/") or "/", dirs["data_dir"].rstrip("/") or "/"
    main = "%s/redis-%s.conf" % (conf_dir, name)
    instance_dir = "%s/%s" % (data_dir, name)

    def in_dir(directive):
        # Redis refuses a path in dbfilename/appendfilename: the name is taken as given, in the data dir.
        return "%s/%s" % (instance_dir, (_directive(config, defaults, directive) or DEFAULT_DIRECTIVES[directive])
                          .rsplit("/", 1)[-1])

    return {
        "main": main,
        "live": "%s/redis-%s.live.conf" % (conf_dir, name),
        "previous": main + ".previous",
        "data_dir": instance_dir,
        "data_file": in_dir("dbfilename"),
        "aof_dir": in_dir("appenddirname"),
        "aof_file": in_dir("appendfilename"),
        "log": "%s/redis-%s.log" % (dirs["log_dir"].rstrip("/") or "/", name),
        "pid": "%s/redis-%s.pid" % (dirs["run_dir"].rstrip("/") or "/", name),
    }


def _check(item, host, login):
    check = dict(login, instance="%s:%s" % (host, item["name"]), role=item["role"],
                 replicas=[{"host": replica["host"], "port": replica["port"]} for replica in item["replicas"]],
                 min_replicas=len(item["replicas"]), log_file=item["paths"]["log"])
    if item["role"] == "replica":
        check.update(master_host=item["replicaof"]["host"], master_port=item["replicaof"]["port"], link_up=True,
                     read_only=item["replica_read_only"])
    return check


def instance_model(play, host, dirs, defaults=None):
    """The instances of host, keyed by name, without secrets (the safe view).

    play: play_model(); dirs: {conf_dir, data_dir, log_dir, run_dir} as the host sees them;
    defaults: the directives the role writes unless config sets them (dbfilename, appendonly).
    Each item is the resolved instance (topology.server_instances) plus paths, login (the connection
    part of an item of the modules' instances option), check (a replication_check item), appendonly
    (the file says appendonly yes) and restart_policy (systemd's Restart= of its drop-in).
    """
    result = {}
    for source in play["hosts"][str(host)]["instances"]:
        item = copy.deepcopy(source)
        item["paths"] = paths(item["name"], dirs, item["config"], defaults)
        item["login"] = {"instance": item["name"], "login_host": item["login_host"], "login_port": item["port"]}
        item["check"] = _check(item, host, item["login"])
        item["appendonly"] = (_directive(item["config"], defaults or {}, "appendonly") or "").lower() == "yes"
        item["restart_policy"] = "no" if item["role"] == "master" and item["replicas"] else "on-failure"
        result[item["name"]] = item
    return result


def retired_model(play, host, dirs):
    """The instances host retires (state: absent), keyed by name, with their paths; no secret."""
    result = {}
    for source in play["hosts"][str(host)]["retired"]:
        item = dict(source)
        item["paths"] = paths(item["name"], dirs)
        result[item["name"]] = item
    return result


def with_secrets(instances, secrets):
    """The view with secrets: each instance of instances (instance_model) with its password and
    masterauth, its replication user's password, and login_password in its login and check items.
    Joined by name; an instance without an entry in secrets gets empty passwords."""
    result = {}
    for name, source in instances.items():
        found = (secrets or {}).get(name) or {}
        item = dict(source)
        for key in SECRET_KEYS:
            item[key] = found.get(key) or ""
        if source.get("replication_user"):
            item["replication_user"] = dict(source["replication_user"], **(found.get("replication_user") or {}))
        item["login"] = dict(source["login"], login_password=item["password"])
        item["check"] = dict(source["check"], login_password=item["password"])
        result[name] = item
    return result


# ---------------------------------------------------------------------------------------------
# what single tasks need
# ---------------------------------------------------------------------------------------------

def live_items(instances, server, sentinel_user=None):
    """The items of runtime_config's instances option: what it applies live to each instance.

    instances: the view with secrets; server: the installed server (a dialect.of() input: the
    server_dialect filter's answer, or a version), which decides whether masteruser and the
    replication user are applied (ACLs) and the live defaults (dialect.live_defaults).
    sentinel_user: the ACL user Sentinel logs in as ({name, password, rules, instances: the names of
    the instances in a monitored group}; plugin_utils/sentinel_follow.py sentinel_acl), or None.
    """
    dialect = of(server)
    acl = dialect.has("acl")
    items = []
    for item in instances.values():
        config = {"replica-read-only": item["replica_read_only"]}
        if acl:
            config["masteruser"] = item["masteruser"]
        config.update(live_defaults(dialect, len(item["replicas"]), item["config"]))
        live = dict(item["login"], role=item["role"], config=config,
                    secret_config={"requirepass": item["password"], "masterauth": item["masterauth"]},
                    acl_users=([dict(item["replication_user"], rules=list(REPLICATION_RULES))]
                               if item.get("replication_user") and acl else [])
                    + ([{"name": sentinel_user["name"], "password": sentinel_user["password"],
                         "previous_passwords": list(sentinel_user.get("previous_passwords") or []),
                         "rules": list(sentinel_user["rules"])}]
                       if acl and sentinel_user and item["name"] in sentinel_user["instances"] else []))
        if item["role"] == "replica":
            live.update(master_host=item["replicaof"]["host"], master_port=item["replicaof"]["port"])
        items.append(live)
    return items


def instance_logins(instances):
    """{instance name: its login item} (instance, login_host, login_port and, in the view with
    secrets, login_password): how the collection's modules log in to each instance."""
    return {name: dict(item["login"]) for name, item in instances.items()}


def process_items(instances, skip=()):
    """The items of server_process's instances option (service manager process): each instance of
    the model not named in skip (those already running), with its files, in order."""
    skip = set(skip or ())
    return [{"name": name, "config_file": item["paths"]["main"], "pid_file": item["paths"]["pid"],
             "log_file": item["paths"]["log"], "login_host": item["login_host"], "login_port": item["port"]}
            for name, item in instances.items() if name not in skip]


def check_items(checked, secrets):
    """The items of replication_check's instances option for the instances checked (the model's
    items, or items derived from them, such as playbooks/failover.yml's with the replicas that run),
    each with the login password from the view with secrets, joined by name."""
    return [dict(item["check"], login_password=secrets[item["name"]]["password"]) for item in checked]


def read_items(instances):
    """The items of the one replication_info call of a run (tasks/running.yml), one per instance:
    its login, its main file (pending restarts) and, for a replica of the inventory, the count
    of client writes since a promotion (the guard)."""
    return [dict(item["login"], config_file=item["paths"]["main"], count_client_writes=item["role"] == "replica")
            for item in instances.values()]


def extra_directives(instances):
    """Every directive of the instances' config, once (the guard asks the running server about them)."""
    found = []
    for item in instances.values():
        for directive in item["config"]:
            if directive not in found:
                found.append(directive)
    return found


def _results(read):
    """{instance name: result} of a replication_info result with instances."""
    return {result.get("instance"): result for result in (read or {}).get("instances") or [] if isinstance(result, dict)}


def answering(read):
    """Names of the instances whose replication state was read."""
    return [name for name, result in _results(read).items() if "replication" in result]


def refused_logins(read):
    """Names of the instances that refused every password tried."""
    return [name for name, result in _results(read).items() if result.get("login_refused")]


def pending_restarts(read):
    """{name: [pending directive, ...]} of the instances that still run an older main file."""
    return {name: result["pending_restart"] for name, result in _results(read).items()
            if result.get("pending_restart")}


def down_masters(instances, read):
    """The masters of the host with replicas in the inventory that did not answer the read."""
    up = answering(read)
    return [item for item in instances.values() if item["role"] == "master" and item["replicas"]
            and item["name"] not in up]


def down_master_files(instances, read):
    """The rdb_info files of down_masters(): [{name, path}], path its data file (its dbfilename)."""
    return [{"name": item["name"], "path": item["paths"]["data_file"]} for item in down_masters(instances, read)]


def guard_hosts(instances, read):
    """The hosts whose reads the guard needs: the inventory masters of instances that run as masters
    against the inventory, and the replicas' hosts of masters that are down."""
    results = _results(read)
    hosts = []
    for item in instances.values():
        state = (results.get(item["name"]) or {}).get("replication") or {}
        if item["role"] == "replica" and state.get("role") == "master" and item.get("master"):
            hosts.append(item["master"]["inventory_host"])
    for master in down_masters(instances, read):
        hosts += [replica["inventory_host"] for replica in master["replicas"] if replica.get("inventory_host")]
    return sorted(set(hosts))


def _unknown_directives(instances, host, read):
    answered = [result for result in _results(read).values() if "server" in result]
    if not answered:
        return None
    server = answered[0]["server"]
    unknown = set()
    for result in answered:
        unknown.update(result.get("unknown_directives") or [])
    lines = []
    for item in instances.values():
        directives = [directive for directive in item["config"] if directive in unknown]
        if directives:
            lines.append("Instance '%s' of host '%s': %s %s does not know %s (set in redis_server_config or the "
                         "instance's config)." % (item["name"], host, server.get("name"), server.get("version"),
                                                  ", ".join(directives)))
    if not lines:
        return None
    return "\n".join(lines + ["Nothing was changed. Fix: remove the directive(s), or install a server version that "
                              "has them."])


def _promoted(instances, host, read, live):
    lines = []
    results = _results(read)
    for item in instances.values():
        result = results.get(item["name"]) or {}
        state = result.get("replication")
        if not state or item["role"] != "replica" or state.get("role") != "master":
            continue
        master = {}
        if item.get("master"):
            for other in live.get(item["master"]["inventory_host"]) or []:
                if isinstance(other, dict) and other.get("instance") == item["master"]["instance"]:
                    master = other.get("replication") or {}
        lineage = includes_history(master, state)
        promotion = result.get("promotion") or {}
        if not (promotion.get("holds_writes") or lineage is False
                or (lineage is None and (state.get("connected_replicas") or 0) > 0)):
            continue
        lines.append(
            "Instance '%s' of host '%s' (%s:%s) is a master now, with %s%s, but the inventory says it replicates "
            "from %s:%s. Making it a replica again would discard those writes."
            % (item["name"], host, item["login_host"], item["port"], promotion.get("summary"),
               ", and its inventory master does not hold all it had then (restarted since, or its master "
               "replicates from it now)" if lineage is False else "",
               item["replicaof"]["host"], item["replicaof"]["port"]))
    if not lines:
        return None
    return "\n".join(lines + [
        "Nothing was changed. Fix: update the inventory to the live topology (remove replicaof from the promoted "
        "instance and point the other instances, the old master included, at it), or set "
        "redis_server_force_topology=true to overwrite the promoted data with the inventory's."])


def _recorded_failover(record, record_path, host, replica_labels):
    master = (record or {}).get("master") or {}
    label = master.get("label") or ""
    if not label or label not in (replica_labels or []):
        return None
    return ("playbooks/failover.yml promoted %s (%s:%s) to master (%s on %s), but the inventory still says it is "
            "a replica. Nothing was changed. Fix: update redis_server_instances as the record says (%s), or set "
            "redis_server_force_topology=true to overwrite the promoted data with the inventory's."
            % (label, master.get("address", "?"), master.get("port", "?"), record_path, host,
               "; ".join(record.get("inventory_changes") or [])))


def guard_findings(instances, host, read, live=None, record=None, record_path="", replica_labels=(),
                   data_files=()):
    """The guard's refusals on host, one message each (empty: nothing to refuse).

    instances: instance_model(); read: this host's replication_info result (tasks/running.yml);
    live: {HOST: replication_info results of its instances} of the hosts guard_hosts() names;
    record: the failover record (playbooks/failover.yml) read on the host, record_path its path;
    replica_labels: HOST:NAME of every replica of the play; data_files: rdb_info results of
    down_masters(). Checked: directives the running server does not know, an instance the
    inventory calls a replica that took writes as a master, a failover the inventory does not
    know of yet, a master that is down while a replica holds writes its data file lacks.
    """
    live = dict(live or {})
    live[str(host)] = (read or {}).get("instances") or []
    findings = [_unknown_directives(instances, host, read), _promoted(instances, host, read, live),
                _recorded_failover(record, record_path, host, replica_labels)]
    masters = down_masters(instances, read)
    if masters:
        findings += [finding["message"] for finding in master_crash_check(masters, str(host), data_files, live)]
    return [finding for finding in findings if finding]


def aof_instances(instances, read=None):
    """Names of the instances whose file says appendonly yes, but for those the run's read
    (read: this host's replication_info result, tasks/running.yml) found running with the AOF on
    already: nothing to turn on there."""
    aof_on = set(name for name, result in _results(read).items() if result.get("aof_enabled"))
    return [item["name"] for item in instances.values() if item["appendonly"] and item["name"] not in aof_on]


def aof_paths(instances, stopped):
    """The data file and AOF paths of the stopped instances, to look for: [{name, kind, path}]."""
    found = []
    for name in stopped or []:
        if name in instances:
            item_paths = instances[name]["paths"]
            found += [{"name": name, "kind": "rdb", "path": item_paths["data_file"]},
                      {"name": name, "kind": "aof", "path": item_paths["aof_dir"]},
                      {"name": name, "kind": "aof", "path": item_paths["aof_file"]}]
    return found


def rdb_only(found):
    """Names of the instances that have their RDB file and no AOF. found: [{name, kind}] that exist."""
    rdb = [item["name"] for item in found or [] if item["kind"] == "rdb"]
    aof = set(item["name"] for item in found or [] if item["kind"] == "aof")
    return [name for name in dict.fromkeys(rdb) if name not in aof]


def restart_instances(instances, written=None, pending=None, all_instances=False, started=()):
    """The instances to restart, in inventory order: all of them (the unit changed, or a TLS file
    every instance reads), else those whose main file this run changed so that a restart applies,
    and those that still run an older main file (pending: names). Never those this run has just
    started (started: names): they run their new files already."""
    started = set(started or ())
    return [item for item in _restart_candidates(instances, written, pending, all_instances)
            if item["name"] not in started]


def _restart_candidates(instances, written, pending, all_instances):
    if all_instances:
        return list(instances.values())
    main_files = {item["paths"]["main"]: name for name, item in instances.items()}
    own_files = set(main_files) | set(item["paths"]["live"] for item in instances.values())
    results = (written or {}).get("files") or []
    # pending compares the running configuration with the main file as the run found it: when the
    # run wrote that file (back) itself, as after an outside CONFIG REWRITE, the comparison was with
    # a file that is gone. The next run compares with the role's file.
    rewritten = set(main_files[result["path"]] for result in results
                    if result.get("changed") and result.get("path") in main_files)
    restart = set(pending or []) - rewritten
    # A replaced binary (module_utils/binary.py) does not depend on the file: restarted all the same.
    if isinstance(pending, dict):
        restart |= set(name for name, found in pending.items()
                       if any(isinstance(item, dict) and item.get("directive") == "binary" for item in found or []))
    for result in results:
        if not result.get("restart"):
            continue
        if result.get("path") in main_files:
            restart.add(main_files[result["path"]])
        elif result.get("path") not in own_files:
            return list(instances.values())  # a shared file (TLS) that every instance reads at start
    return [item for name, item in instances.items() if name in restart]


def layout(instances, rendered, base_dirs, owner, group, tls_files=None, tls_dir=None):
    """The directories and files of instance_files: base dirs (created when missing), per instance
    its data dir, main file (with checksum header and .previous) and live file, then the TLS files.

    rendered: {name: {"main": text, "live": text}}; base_dirs: [{path, owner}]; tls_files:
    [{path, content | secret_content}] when TLS is on.
    """
    directories = [dict(base, group=group, mode="0750", only_create=True) for base in base_dirs]
    files = []
    for name, item in instances.items():
        directories.append({"path": item["paths"]["data_dir"], "owner": owner, "group": group, "mode": "0750"})
        files.append({"path": item["paths"]["main"], "checksum_header": True, "previous": item["paths"]["previous"],
                      "content": rendered[name]["main"], "owner": "root", "group": group, "mode": "0640"})
        # Its secrets are masked in the diff (module_utils/instance_files.py): a plan shows the live file too.
        files.append({"path": item["paths"]["live"], "secret_content": rendered[name]["live"], "masked_diff": True,
                      "owner": "root", "group": group, "mode": "0640"})
    if tls_files:
        directories.append({"path": tls_dir, "owner": "root", "group": group, "mode": "0750"})
        files += [dict(tls, checksum_header=True, owner="root", group=group, mode="0640") for tls in tls_files]
    return {"directories": directories, "files": files}


# A live default that counts the instance's replicas (dialect.live_defaults): a failover Sentinel made
# changes it; site.yml sets it live. Not drift in a Sentinel group.
FOLLOWS_TOPOLOGY = "CONFIG SET repl-diskless-sync-max-replicas "


def _follows_topology(command, member):
    """Whether a live command of an instance (member: in a Sentinel group) only follows the topology
    the Sentinels name, which is no drift."""
    return member and command.startswith(FOLLOWS_TOPOLOGY)


def _sentinel_rewrites(instances, file_drift, sentinel_members, host):
    """{name: {path: note}} of the instances in a Sentinel group whose files differ only by Sentinel's
    failover, not drift: a main file by what CONFIG REWRITE writes (instance_files' rewritten), a live
    file in its replicaof and repl-diskless-sync-max-replicas lines (failover_only: the role renders the
    topology the Sentinels name)."""
    members = set(sentinel_members or [])
    by_path = dict((result.get("path"), result) for result in (file_drift or {}).get("files") or [])
    found = {}
    for name, item in instances.items():
        if "%s:%s" % (host, name) not in members:
            continue
        notes = {}
        main = by_path.get(item["paths"]["main"]) or {}
        if main.get("changed") and main.get("rewritten") and not main.get("restart"):
            notes[item["paths"]["main"]] = "rewritten by CONFIG REWRITE (Sentinel)"
        live = by_path.get(item["paths"]["live"]) or {}
        if live.get("changed") and live.get("failover_only") and not live.get("restart"):
            notes[item["paths"]["live"]] = "differs only in what Sentinel's failover changes (replicaof, the replica count)"
        if notes:
            found[name] = notes
    return found


def instance_drift(instances, file_drift=None, pending=None, runtime=None, sentinel_members=None, host=None):
    """{name: [difference, ...]} of each instance: its files that differ from what the role renders,
    restarts pending, and the live commands runtime_config would run (check mode).

    sentinel_members: the labels (HOST:NAME) of the instances in a group Sentinels monitor, host: this
    host's name. The main file of such an instance that differs only by what CONFIG REWRITE writes,
    and its live file differing only in replicaof (Sentinel's failover), are no difference here:
    sentinel_rewrites() names them."""
    by_path = {}
    for result in (file_drift or {}).get("files") or []:
        by_path[result.get("path")] = result
    rewrites = _sentinel_rewrites(instances, file_drift, sentinel_members, host)
    members = set(sentinel_members or [])
    live = _results(runtime)
    drift = {}
    for name, item in instances.items():
        lines = []
        for path in (item["paths"]["main"], item["paths"]["live"]):
            result = by_path.get(path) or {}
            if result.get("changed") and path not in rewrites.get(name, {}):
                lines.append(("restart pending: " if result.get("restart") else "") + "file differs: " + path)
        for found in (pending or {}).get(name) or []:
            # A replaced binary (module_utils/binary.py) says itself what runs and what is installed.
            lines.append("restart pending: " + (found.get("msg") or "%s %s in the file, %s running"
                                                % (found.get("directive"), found.get("file"), found.get("running"))))
        result = live.get(name) or {"failed": True, "msg": (runtime or {}).get("msg") or ""}
        if result.get("failed"):
            lines.append("live settings cannot be compared: " + (result.get("msg") or ""))
        else:
            member = "%s:%s" % (host, name) in members
            lines += ["would run: " + command for command in result.get("commands") or []
                      if not _follows_topology(command, member)]
        drift[name] = lines
    return drift


def sentinel_rewrites(instances, file_drift=None, sentinel_members=None, host=None, runtime=None):
    """One line per difference of an instance in a Sentinel group that only Sentinel's failover made
    (a main file by CONFIG REWRITE, a live file in replicaof and the replica count, the replica count
    live), which instance_drift() does not count."""
    lines = ["%s: %s %s; site.yml writes it back without a restart" % (name, path, note)
             for name, notes in sorted(_sentinel_rewrites(instances, file_drift, sentinel_members, host).items())
             for path, note in sorted(notes.items())]
    members = set(sentinel_members or [])
    for name, result in sorted(_results(runtime).items()):
        if name in instances and not result.get("failed"):
            member = "%s:%s" % (host, name) in members
            lines += ["%s: %s follows the topology the Sentinels name; site.yml runs it" % (name, command)
                      for command in result.get("commands") or [] if _follows_topology(command, member)]
    return lines


def live_plan(runtime, check_mode=True, pending=()):
    """The lines a run shows for the live settings of each instance, from a runtime_config result with
    instances (replication.yml): per instance that changes (or would, check_mode) each setting
    "before -> after" (from the diff, secrets already masked by the module) and each command,
    "NAME: would run: COMMAND" or "NAME: ran: COMMAND"; an instance in pending (check mode: not running
    yet) gets one line saying that its live settings come from its files when it starts."""
    verb = "would run: " if check_mode else "ran: "
    lines = []
    for name, result in _results(runtime).items():
        if result.get("failed") or not result.get("commands"):
            continue
        diff = result.get("diff") or {}
        before, after = diff.get("before") or {}, diff.get("after") or {}
        for setting in sorted(after):
            # A secret says "(unchanged)" or "(changed)" after its mask.
            if before.get(setting) != after[setting] and not str(after[setting]).endswith("(unchanged)"):
                lines.append("%s: %s: %s -> %s" % (name, setting, _shown(before.get(setting)), _shown(after[setting])))
        lines += ["%s: %s%s" % (name, verb, command) for command in result["commands"]]
    for name in pending:
        lines.append("%s: not running yet: it starts with the settings of its live file (no live command)" % name)
    return lines


def _shown(value):
    return '""' if value is None or value == "" else str(value)


def _summary_line(item, result, skipped):
    where = "%s %s:%s" % (item["name"], item["advertise_address"], item["port"])
    state = result.get("state") or {}
    if skipped:
        return where + " not checked: check mode predicts changes in the play"
    if result.get("msg") is not None:
        return where + " FAILED: " + str(result["msg"])
    if state.get("role") == "replica":
        return "%s role=replica master=%s:%s link=%s" % (where, state.get("master_host"), state.get("master_port"),
                                                         state.get("master_link_status"))
    links = ["%s:%s %s" % (replica.get("ip"), replica.get("port"), replica.get("state"))
             for replica in state.get("replicas") or []]
    return "%s role=%s replicas=[%s]" % (where, state.get("role") or "?", ", ".join(links))


def verify_rows(instances, host, outcome=None, drift=None, unmanaged=None):
    """One summary row per instance checked ({host, instance, port, role, ok, mismatches, summary} and,
    for the report, expected, live, server, checked, check_mismatches, reason, drift), then one per
    instance found on the host that the inventory does not run (when drift is given).

    instances: the instances checked (list or dict of instance_model items); outcome: the
    replication_check result (skipped in check mode); drift: instance_drift() or None.
    """
    outcome = outcome or {}
    skipped = bool(outcome.get("skipped"))
    results = _results(outcome)
    items = list(instances.values()) if isinstance(instances, dict) else list(instances)
    rows = []
    for item in items:
        label = "%s:%s" % (host, item["name"])
        result = results.get(label) or results.get(item["name"]) or {"msg": outcome.get("msg") or "check failed"}
        differences = list((drift or {}).get(item["name"]) or [])
        healthy = skipped or result.get("msg") is None
        problems = ([] if healthy else list(result.get("mismatches") or [result.get("msg")])) + differences
        line = _summary_line(item, result, skipped)
        if differences:
            line += " DRIFT: " + "; ".join(differences)
        rows.append({"host": host, "instance": item["name"], "port": item["port"], "role": item["role"],
                     "ok": healthy and not differences, "mismatches": problems, "summary": line,
                     # For the verify report (plugin_utils/report.py): what was expected, what was read,
                     # the check's own mismatches apart from the drift.
                     "expected": {key: item["check"].get(key) for key in EXPECTED_KEYS},
                     "live": result.get("state"), "server": result.get("server"), "checked": not skipped,
                     "check_mismatches": [] if healthy else list(result.get("mismatches") or [result.get("msg")]),
                     "reason": None if healthy else result.get("msg"), "drift": differences})
    if drift is not None:
        for found in unmanaged or []:
            rows.append({"host": host, "instance": found["name"], "port": None, "role": None, "ok": False,
                         "mismatches": [found["msg"]], "summary": "%s DRIFT: %s" % (found["name"], found["msg"])})
    return rows
