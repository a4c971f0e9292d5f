# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure planning of the live changes made by the runtime_config module.

Given the server version, what the server reports now and the desired settings, plan() returns
the commands that make them match, in a safe order, with a diff and warnings. Nothing here talks
to a server: the module reads the current values and runs the commands.
"""

from __future__ import annotations

import hashlib
from collections import namedtuple

from ansible_collections.redisops.redis.plugins.module_utils.dialect import REDIS, Dialect, of

MASK = "********"
SECRET_DIRECTIVES = ("masterauth", "requirepass")
# Managed through role, master_host and master_port, never as plain directives.
REPLICATION_DIRECTIVES = ("replicaof", "slaveof")

# One desired directive, by the name the server knows it.
Setting = namedtuple("Setting", "name value secret")
# args: what is sent to the server; text: what is shown (secrets masked).
Command = namedtuple("Command", "args text")
Plan = namedtuple("Plan", "commands diff warnings")


class PlanError(Exception):
    """The desired settings cannot be applied; raised before anything changes."""


def server_directive(name, version, flavor=REDIS):
    """The name the server knows a directive by, lower case (the dialect table: slave-read-only on
    Redis 4, primaryauth on Valkey 8)."""
    return Dialect(flavor, version).directive(name)


def check_options(config, secret_config):
    """Raise PlanError for desired settings this module must not apply, before connecting."""
    for name in list(config) + list(secret_config):
        if name.lower() in REPLICATION_DIRECTIVES:
            raise PlanError("%s cannot be set as a directive: use role, master_host and master_port." % name)
    exposed = [name for name in config if name.lower() in SECRET_DIRECTIVES]
    if exposed:
        raise PlanError("Move %s from config to secret_config: config values are shown in the commands and the diff."
                        % ", ".join(exposed))
    duplicated = sorted(set(name.lower() for name in config) & set(name.lower() for name in secret_config))
    if duplicated:
        raise PlanError("%s is set in both config and secret_config: set it in one." % ", ".join(duplicated))


def desired_settings(params, version, flavor=REDIS):
    """The directives of the config and secret_config options, named for this server's flavor and version."""
    dialect = Dialect(flavor, version)
    settings = [Setting(dialect.directive(name), value, False) for name, value in params["config"].items()]
    settings += [Setting(dialect.directive(name), value, True) for name, value in params["secret_config"].items()]
    return settings


def as_text(value):
    """The string sent to the server: booleans as yes/no, None as "" (unset), numbers as digits."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    return str(value)


def comparable(value):
    """Non-secret values compare with yes/no case-insensitive: the server answers in lower case."""
    text = as_text(value)
    return text.lower() if text.lower() in ("yes", "no") else text


def shown(text):
    """A command argument as shown to people: quoted when empty or containing spaces."""
    return '"%s"' % text if text == "" or " " in text else text


def count_keys(keyspace):
    """Keys in all databases, from parsed INFO keyspace ({"db0": "keys=3,expires=0,avg_ttl=0"})."""
    total = 0
    for database, stats in keyspace.items():
        if database.startswith("db"):
            fields = dict(item.split("=", 1) for item in stats.split(","))
            total += int(fields["keys"])
    return total


# What a replica sends its master: the rights of a replication user.
REPLICATION_RULES = ("+psync", "+replconf", "+ping")


def member_options():
    """The settings of one instance (runtime_config), top level and in each item of its instances."""
    return dict(
        role=dict(type="str", choices=["master", "replica"]),
        master_host=dict(type="str"),
        master_port=dict(type="int"),
        config=dict(type="dict", default={}),
        secret_config=dict(type="dict", default={}, no_log=True),
        acl_users=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            password=dict(type="str", required=True, no_log=True),
            previous_passwords=dict(type="list", elements="str", default=[], no_log=True),
            rules=dict(type="list", elements="str", default=list(REPLICATION_RULES)),
        )),
    )


def acl_tokens(value):
    """Rule tokens of a parsed ACL GETUSER field: redis-py versions give strings or lists of them."""
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [token for item in value for token in acl_tokens(item)]
    if isinstance(value, bytes):
        value = value.decode("utf-8")
    return [token for token in str(value).split(" ") if token]


def acl_user_matches(current, password_hash, rules):
    """Whether a parsed ACL GETUSER answer (None: no such user) is an enabled user with exactly this
    password (a hash, or the list of its hashes in order), these command rules and no key patterns.
    Channels are those of the channel rules (&...) when rules has any (the Sentinel user), else left
    to the server's acl-pubsub-default (what reset gives): replication does not use them."""
    if current is None:
        return False
    hashes = list(password_hash) if isinstance(password_hash, list) else [password_hash]
    channels = tuple(rule for rule in rules if rule.startswith("&"))
    commands = set(acl_tokens(current.get("commands")) + acl_tokens(current.get("categories")))
    return ("on" in acl_tokens(current.get("flags"))
            and acl_tokens(current.get("passwords")) == hashes
            and commands == set(("-@all",) + tuple(rule for rule in rules if rule not in channels))
            and (not channels or set(acl_tokens(current.get("channels"))) == set(channels))
            and not acl_tokens(current.get("keys")))


def acl_commands(acl_users, current_acl_users):
    """ACL SETUSER commands for the users that differ: reset, then exactly the wanted rights. A user's
    previous_passwords stay accepted after its password (a rotation: old and new accepted)."""
    commands = []
    for user in acl_users:
        hashes = password_hashes([user["password"]] + [p for p in user.get("previous_passwords") or [] if p])
        rules = tuple(user.get("rules") or REPLICATION_RULES)
        if acl_user_matches(current_acl_users.get(user["name"]), hashes, rules):
            continue
        args = ("ACL", "SETUSER", user["name"], "reset", "on") + tuple("#" + digest for digest in hashes) + rules
        text = "ACL SETUSER %s reset on %s %s" % (user["name"], " ".join(["#" + MASK] * len(hashes)), " ".join(rules))
        commands.append(Command(args, text))
    return commands


def password_hashes(passwords):
    """SHA-256 hex digests of the passwords, in order, each once: how ACL stores them."""
    hashes = []
    for password in passwords:
        digest = hashlib.sha256(password.encode("utf-8")).hexdigest()
        if digest not in hashes:
            hashes.append(digest)
    return hashes


def wanted_default_passwords(params):
    """Hashes of the passwords the default user must accept: requirepass, then the kept previous ones."""
    # An empty previous password stands for "none" (logging in): nothing to keep accepting.
    kept = [password for password in params.get("previous_passwords") or [] if password] \
        if params.get("keep_previous_passwords") else []
    return password_hashes([as_text(params["secret_config"]["requirepass"])] + kept)


def default_user_passwords(params, server, current_default, requirepass_changes):
    """The commands that leave the default user (Redis 6 or later) with exactly requirepass and,
    with keep_previous_passwords, the previous passwords too: during a rotation both the old and
    the new password are accepted until the old one is dropped from previous_passwords.

    server: {"name", "version"} or a version. current_default: parsed ACL GETUSER default, None when
    not read (Redis < 6, no requirepass).
    """
    requirepass = params["secret_config"].get("requirepass")
    if not requirepass or current_default is None or not of(server).has("acl"):
        return []
    wanted = wanted_default_passwords(params)
    # CONFIG SET requirepass leaves the default user with that one password.
    current = password_hashes([as_text(requirepass)]) if requirepass_changes else acl_tokens(current_default.get("passwords"))
    if set(current) == set(wanted):
        return []
    args = ("ACL", "SETUSER", "default", "resetpass") + tuple("#" + digest for digest in wanted)
    return [Command(args, "ACL SETUSER default resetpass %s" % " ".join(["#" + MASK] * len(wanted)))]


def plan(server, replication, keyspace, current_config, params, current_acl_users=None):
    """Plan the changes that bring a running server to the desired settings.

    server: {"name": "redis" | "valkey", "version": "x.y.z"} (replication.server_identity of
    INFO server). replication, keyspace: parsed INFO replication and
    INFO keyspace. current_config: server directive name -> CONFIG GET value, None when the server
    does not know the directive. params: the module's role, master_host, master_port, config and
    secret_config, and acl_users ({name, password, rules}). current_acl_users: name -> parsed ACL
    GETUSER answer (None when the user does not exist); its "default" entry, when present, is the
    default user, whose passwords default_user_passwords() manages.

    Order: the ACL users (a master serves its replicas' user before they switch to it), every
    CONFIG SET but requirepass, then REPLICAOF, then requirepass. A replica must hold
    the credentials for its new master (masterauth, masteruser) before it connects to it;
    requirepass locks out every client still using the old password, so it changes only once
    everything else has worked, immediately followed by the default user's kept passwords.
    """
    version = server["version"]
    dialect = of(server)
    settings = desired_settings(params, version, dialect.flavor)
    unknown = [setting.name for setting in settings if current_config.get(setting.name) is None]
    if unknown:
        raise PlanError("%s %s does not know the directive(s) %s: CONFIG GET returned nothing. Nothing was "
                        "changed. Remove them or use a server version that has them."
                        % (server["name"], version, ", ".join(unknown)))

    before, after, config_sets, requirepass_sets = {}, {}, [], []
    for setting in settings:
        current, value = current_config[setting.name], as_text(setting.value)
        if setting.secret:
            differs = value != current
            before[setting.name] = MASK
            after[setting.name] = "%s (%s)" % (MASK, "changed" if differs else "unchanged")
            text = "CONFIG SET %s %s" % (setting.name, MASK)
        else:
            differs = comparable(value) != comparable(current)
            before[setting.name], after[setting.name] = current, value
            text = "CONFIG SET %s %s" % (setting.name, shown(value))
        if not differs:
            continue
        command = Command(("CONFIG", "SET", setting.name, value), text)
        if setting.name == "requirepass":
            requirepass_sets.append(command)
        else:
            config_sets.append(command)

    verb = dialect.command("REPLICAOF")
    directive = dialect.directive("replicaof")
    is_master = replication.get("role") == "master"
    before[directive] = "no one" if is_master else "%s %s" % (replication.get("master_host"), replication.get("master_port"))
    if params["role"] == "master":
        args = (verb, "NO", "ONE")
        after[directive] = "no one"
    else:
        args = (verb, params["master_host"], str(params["master_port"]))
        after[directive] = "%s %s" % args[1:]
    replicaof = [Command(args, " ".join(args))] if before[directive] != after[directive] else []

    warnings = []
    keys = count_keys(keyspace)
    if replicaof and is_master and params["role"] == "replica" and keys:
        warnings.append("%s %s turns a master holding %d key(s) into a replica: its data is replaced by the new "
                        "master's." % (verb, after[directive], keys))

    acl_users = params.get("acl_users") or []
    if acl_users and not dialect.has("acl"):
        raise PlanError("%s %s has no ACL users (Redis 6 or later): nothing was changed. Remove acl_users."
                        % (server["name"], version))
    acl_sets = acl_commands(acl_users, current_acl_users or {})
    for user in acl_users:
        key = "acl user %s" % user["name"]
        before[key] = MASK
        after[key] = "%s (%s)" % (MASK, "changed" if any(c.args[2] == user["name"] for c in acl_sets) else "unchanged")

    current_default = (current_acl_users or {}).get("default")
    default_sets = default_user_passwords(params, dialect, current_default, bool(requirepass_sets))
    if current_default is not None and params["secret_config"].get("requirepass"):
        before["default user passwords"] = "%d" % len(acl_tokens(current_default.get("passwords")))
        after["default user passwords"] = "%d" % len(wanted_default_passwords(params))
    elif requirepass_sets and params.get("keep_previous_passwords") and params.get("previous_passwords"):
        warnings.append("%s %s accepts a single password (ACL users came with Redis 6): clients still using a "
                        "previous password are refused from now on." % (server["name"], version))

    return Plan(acl_sets + config_sets + replicaof + requirepass_sets + default_sets,
                dict(before=before, after=after), warnings)
