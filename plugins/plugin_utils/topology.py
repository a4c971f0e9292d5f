# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Resolve the Redis replication topology of a play, on the controller.

Pure functions, no Ansible runtime needed: the input is a mapping of host name to that host's
variables (``hostvars``) and the list of the play's hosts; the output is, per host, the list of
resolved instance dicts described in ``docs/design.md``. Every host of the play is resolved and
validated together, so an error anywhere stops every host before any of them changes, and each
message names the variable, the host, the instance and the fix.

Also here: ``quote()``, which writes one value as a single ``redis.conf`` argument, and
``split_args()``, a port of Redis' ``sdssplitargs()`` used to check values written verbatim.
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from collections.abc import Mapping

from ansible_collections.redisops.redis.plugins.module_utils.dialect import other_spellings

try:  # ansible-core 2.19+: vaulted values may reach us still encrypted
    from ansible.parsing.vault import EncryptedString
except ImportError:  # pragma: no cover
    EncryptedString = None

try:  # ansible-core 2.19+: whether Ansible will render a string as a template
    from ansible.template import is_trusted_as_template
except ImportError:  # pragma: no cover  (ansible-core < 2.19: every string but those marked !unsafe)
    from ansible.utils.unsafe_proxy import AnsibleUnsafe

    def is_trusted_as_template(value):
        return isinstance(value, str) and not isinstance(value, AnsibleUnsafe)

NAME_RE = re.compile(r"^[a-z][a-z0-9_-]*$")
DIRECTIVE_RE = re.compile(r"^[a-z][a-z0-9-]*$")
# Characters redis.conf reads literally in an unquoted argument (sdssplitargs only treats blanks
# and quotes specially, but a short list keeps the files easy to read and to diff).
SAFE_ARG_RE = re.compile(r"^[A-Za-z0-9_.,:/@%+=-]+$")

INSTANCE_KEYS = ("name", "port", "bind", "replicaof", "replica_read_only", "password", "masterauth",
                 "masteruser", "config", "state", "data")
# state: absent retires an instance (stopped, its files removed); data says what becomes of its data dir.
STATES = ("present", "absent")
DATA_CHOICES = ("keep", "remove")

# The role's defaults for the variables read from every host. The role passes its own values
# (roles/server/defaults/main.yml) as ``defaults``; these are the fallbacks for direct use and are
# kept equal to the role's by a unit test.
DEFAULTS = {
    "redis_server_instances": [{"name": "main", "port": 6379}],
    "redis_server_password": "",
    "redis_server_advertise_address": "",
    "redis_server_bind": ["127.0.0.1"],
    "redis_server_replica_read_only": True,
    "redis_server_masteruser": "",
    "redis_server_replication_password": "",
    "redis_server_config": {},
    "redis_server_allow_no_password": False,
}
HOST_VARIABLES = tuple(DEFAULTS)

_SAME_REPLICAOF = "the instance's replicaof key"
_SAME_READ_ONLY = "redis_server_replica_read_only or the instance's replica_read_only key"
_RUN_MODE = "the role (the systemd unit or the process service manager sets it)"
# Directives the role writes itself: refused in redis_server_config / config, pointing to the right variable.
MANAGED_DIRECTIVES = {
    "port": "the instance's port key",
    "bind": "redis_server_bind or the instance's bind key",
    "requirepass": "redis_server_password or the instance's password key",
    "masterauth": "the instance's masterauth key",
    "masteruser": "redis_server_masteruser or the instance's masteruser key",
    "replicaof": _SAME_REPLICAOF,
    "replica-read-only": _SAME_READ_ONLY,
    "dir": "redis_server_data_dir (each instance gets DATA_DIR/NAME)",
    "logfile": "redis_server_log_dir (each instance logs to LOG_DIR/redis-NAME.log)",
    "include": "the role (the main file includes the live file on its last line)",
    "protected-mode": "the role (always yes; set a password and bind addresses instead)",
    "daemonize": _RUN_MODE,
    "pidfile": _RUN_MODE,
    "supervised": _RUN_MODE,
}
# Their other spellings, which the role writes on the servers that use them (the dialect table:
# slaveof before Redis 5, primaryauth on Valkey 8...), are the role's too.
MANAGED_DIRECTIVES.update((spelling, MANAGED_DIRECTIVES[name]) for spelling, name in other_spellings().items()
                          if name in MANAGED_DIRECTIVES)
# Directives refused in config for what they would do, with the reason and what to use instead:
# they would undo the role's auth at the next restart (an aclfile replaces every user, the default
# user's password included), hide the commands the role's modules send (rename-command), put a
# secret into the main file, which diffs and -v show (tls-*-pass), or take the instance out of
# master-replica replication.
_LOGIN = "changes who may log in, which the role manages"
_USERS = ("redis_server_password, redis_server_masteruser and redis_server_replication_password "
          "(the role defines the users itself)")
_TLS = ("is written by the role when redis_server_tls is true", "redis_server_tls with redis_server_tls_cert, "
        "redis_server_tls_key and redis_server_tls_ca_cert")
_KEY_PASS = ("holds a secret, which the main file would show in diffs and -v output",
             "an unencrypted redis_server_tls_key, kept in Ansible Vault")
REFUSED_DIRECTIVES = {
    "aclfile": (_LOGIN + " (the file's users replace every user, the default user's password included)", _USERS),
    "user": (_LOGIN, _USERS),
    "rename-command": ("renames or removes commands the role's modules send (CONFIG, REPLICAOF, ACL, INFO, CLIENT)",
                       "ACL users with restricted rights for the clients, and leave the commands their names"),
    "tls-port": _TLS,
    "tls-cert-file": _TLS,
    "tls-key-file": _TLS,
    "tls-ca-cert-file": _TLS,
    "tls-replication": _TLS,
    "tls-auth-clients": _TLS,
    "tls-key-file-pass": _KEY_PASS,
    "tls-client-key-file-pass": _KEY_PASS,
    "cluster-enabled": ("changes where the data goes: Redis Cluster replaces the master-replica replication the "
                        "role deploys", "a Redis Cluster tool for a cluster, and this role for replication"),
}


class TopologyError(ValueError):
    """One or more input errors; ``errors`` holds one message per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        if len(self.errors) == 1:
            text = "Invalid Redis topology: %s" % self.errors[0]
        else:
            text = "Invalid Redis topology (%d problems):\n%s" % (
                len(self.errors), "\n".join("- " + error for error in self.errors))
        super().__init__(text)


# ---------------------------------------------------------------------------------------------
# redis.conf arguments
# ---------------------------------------------------------------------------------------------

def quote(value):
    """Write value as exactly one redis.conf argument.

    Booleans become yes/no and numbers their digits. A string is written bare when it only
    holds unambiguous characters, otherwise in double quotes with backslash and double quote
    escaped and control characters as \\xHH, which Redis (sdssplitargs) reads back verbatim.
    """
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    value = _text(value)
    if SAFE_ARG_RE.match(value):
        return value
    out = ['"']
    for char in value:
        if char == "\\":
            out.append("\\\\")
        elif char == '"':
            out.append('\\"')
        elif ord(char) < 32 or ord(char) == 127:
            out.append("\\x%02x" % ord(char))
        else:
            out.append(char)
    out.append('"')
    return "".join(out)


def _is_hex(char):
    return char in "0123456789abcdefABCDEF"


def split_args(line):
    """Split a redis.conf line into arguments as Redis' sdssplitargs() does.

    Raises ValueError for what Redis rejects ("Unbalanced quotes in configuration line").
    """
    args = []
    pos, end = 0, len(line)
    while True:
        while pos < end and line[pos].isspace():
            pos += 1
        if pos >= end:
            return args
        in_double = in_single = done = False
        current = []
        while not done:
            char = line[pos] if pos < end else ""
            if in_double:
                if not char:
                    raise ValueError("unbalanced double quotes")
                if char == "\\" and pos + 3 < end and line[pos + 1] == "x" and _is_hex(line[pos + 2]) \
                        and _is_hex(line[pos + 3]):
                    current.append(chr(int(line[pos + 2:pos + 4], 16)))
                    pos += 3
                elif char == "\\" and pos + 1 < end:
                    pos += 1
                    current.append({"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}.get(line[pos], line[pos]))
                elif char == '"':
                    if pos + 1 < end and not line[pos + 1].isspace():
                        raise ValueError("a closing double quote must be followed by a space")
                    done = True
                else:
                    current.append(char)
            elif in_single:
                if not char:
                    raise ValueError("unbalanced single quotes")
                if char == "\\" and pos + 1 < end and line[pos + 1] == "'":
                    pos += 1
                    current.append("'")
                elif char == "'":
                    if pos + 1 < end and not line[pos + 1].isspace():
                        raise ValueError("a closing single quote must be followed by a space")
                    done = True
                else:
                    current.append(char)
            elif char in ("", " ", "\n", "\r", "\t", "\0"):
                done = True
            elif char == '"':
                in_double = True
            elif char == "'":
                in_single = True
            else:
                current.append(char)
            if pos < end:
                pos += 1
        args.append("".join(current))


# ---------------------------------------------------------------------------------------------
# input helpers
# ---------------------------------------------------------------------------------------------

def _text(value):
    """A plain str of a string-like value (tagged str, vault value: str() decrypts it)."""
    return str(value)


def plain(value):
    """A deep copy made of plain dicts, lists and scalars (templating proxies and tags dropped)."""
    if EncryptedString is not None and isinstance(value, EncryptedString):
        return str(value)
    if isinstance(value, Mapping):
        return {plain(key): plain(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(item) for item in value]
    if isinstance(value, str):
        return str(value)
    return value


def _is_str(value):
    return isinstance(value, str) or (EncryptedString is not None and isinstance(value, EncryptedString))


def _bool(value):
    """A boolean from a bool or a YAML/INI style string; ValueError otherwise."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        lowered = value.strip().lower()
        if lowered in ("yes", "true", "on", "1", "y"):
            return True
        if lowered in ("no", "false", "off", "0", "n"):
            return False
    raise ValueError("%r is not a boolean" % (value,))


def _port(value):
    """An int port from an int or a string of digits; ValueError (with the reason) otherwise."""
    if isinstance(value, bool) or value is None:
        raise ValueError("%r is not a TCP port number" % (value,))
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value.strip())
    if not isinstance(value, int):
        raise ValueError("%r is not a TCP port number" % (value,))
    if not 1 <= value <= 65535:
        raise ValueError("%d is out of range 1..65535" % value)
    return value


class BindError(ValueError):
    """A bind value Redis cannot listen on; ``fix`` says what to write instead."""

    def __init__(self, problem, fix):
        super().__init__(problem)
        self.fix = fix


# Wildcards and the addresses they cover: Redis cannot listen on a wildcard and on another address of
# the same family at once (bind: Address already in use), so the instance would not start.
_WILDCARDS = {"0.0.0.0": 4, "*": 4, "::": 6, "::*": 6}


def _family(address):
    if address in _WILDCARDS:
        return _WILDCARDS[address]
    if address == "localhost":
        return 4
    try:
        return ipaddress.ip_address(address).version
    except ValueError:
        return None  # a host name: Redis resolves it, the family is not known here


def _bind_list(value, variable):
    """A list of bind addresses from a list, or a single address given as a string; BindError otherwise."""
    example = "%s: [127.0.0.1, 10.0.0.5]" % variable
    if _is_str(value):
        text = _text(value).strip()
        if any(char.isspace() or char == "," for char in text):
            raise BindError("%r is a string holding several addresses, which Redis would not read as meant" % text,
                            "give a YAML list, one address per item: %s" % example)
        value = [text]
    if not isinstance(value, list) or not value:
        raise BindError("must be a non-empty list of addresses", "list the addresses to listen on: %s" % example)
    result = []
    for address in value:
        if not _is_str(address) or not _text(address).strip() or any(c.isspace() for c in _text(address).strip()):
            raise BindError("%r is not an address" % (address,),
                            "give one address per item, without blanks: %s" % example)
        address = _text(address).strip()
        if address in result:
            raise BindError("%s is listed twice" % address, "list each address once")
        result.append(address)
    plain_addresses = [address[1:] if address.startswith("-") else address for address in result]
    for wildcard, family in _WILDCARDS.items():
        others = [address for address in plain_addresses if address != wildcard and _family(address) == family]
        if wildcard in plain_addresses and others:
            raise BindError("%s listens on every IPv%d address, so %s cannot be bound beside it (the instance would "
                            "not start)" % (wildcard, family, ", ".join(others)),
                            "keep either %s or the other IPv%d addresses" % (wildcard, family))
    return result


def is_loopback(address):
    """True for a loopback bind address (127.0.0.0/8, ::1, localhost; Redis 7's '-' prefix allowed)."""
    address = address[1:] if address.startswith("-") else address
    if address == "localhost":
        return True
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


def login_host(bind):
    """The address the role itself connects to: loopback when the instance listens there."""
    addresses = [address[1:] if address.startswith("-") else address for address in bind]
    if "127.0.0.1" in addresses or any(a in ("*", "0.0.0.0") for a in addresses):
        return "127.0.0.1"
    for address in addresses:
        if address.startswith("127.") and is_loopback(address):
            return address
    if any(a in ("::1", "::", "::*") for a in addresses):
        return "::1"
    if "localhost" in addresses:
        return "localhost"
    return addresses[0]


def _secret_problem(value):
    """Why value cannot be a password in redis.conf, or None."""
    if not _is_str(value):
        return "must be a string (quote it in YAML), not %s" % type(value).__name__
    text = _text(value)
    if "\n" in text or "\r" in text:
        return "contains a line break, which a redis.conf line cannot hold"
    if "\0" in text:
        return "contains a NUL character"
    return None


def _config_value(value):
    """Normalise one config value to what the template writes: str, list of str, or None (omit)."""
    if value is None:
        return None
    if isinstance(value, list):
        if not value:
            raise ValueError("an empty list writes nothing; use null to drop the directive")
        return [_config_scalar(item) for item in value]
    return _config_scalar(value)


def _config_scalar(value):
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, (int, float)):
        return str(value)
    if not _is_str(value):
        raise ValueError("%r must be a string, number, boolean, list or null" % (value,))
    text = _text(value)
    if text == "":
        return '""'
    if "\n" in text or "\r" in text or "\0" in text:
        raise ValueError("contains a line break or NUL, which a redis.conf line cannot hold")
    try:
        args = split_args(text)
    except ValueError as exc:
        raise ValueError("%r is not valid redis.conf syntax: %s" % (text, exc))
    if not args:
        raise ValueError("is blank; write \"\" for an empty value")
    return text


class _Errors:
    """Collects messages in a fixed format: WHERE: PROBLEM. Fix: FIX."""

    def __init__(self):
        self.items = []

    def add(self, where, problem, fix):
        message = "%s: %s. Fix: %s" % (where, problem.rstrip("."), fix.rstrip(".") + ".")
        if message not in self.items:
            self.items.append(message)


def _suggest(word, choices):
    close = difflib.get_close_matches(word, choices, n=1)
    return " (did you mean '%s'?)" % close[0] if close else ""


# ---------------------------------------------------------------------------------------------
# resolution
# ---------------------------------------------------------------------------------------------

class _Instance:
    def __init__(self, host, index, raw):
        self.host = host
        self.index = index
        self.raw = raw
        self.name = raw.get("name") if isinstance(raw.get("name"), str) else None
        self.advertise_address = None
        self.port = None
        self.bind = None
        self.password = None
        self.masterauth = None
        self.masteruser = None
        self.replica_read_only = None
        self.config = {}
        self.replicaof = None      # {"host", "port"} once resolved
        self.master = None         # _Instance in the play, or None
        self.replicas = []
        self.valid_link = True
        self.state = "present"
        self.data = "keep"
        self.link = raw.get("replicaof")  # the replicaof to resolve: the inventory's, or an override's
        self.overridden = False

    @property
    def retired(self):
        return self.state == "absent"

    @property
    def key(self):
        return (self.host, self.name)

    @property
    def label(self):
        return "%s:%s" % (self.host, self.name)

    def where(self, key=None):
        text = "redis_server_instances[%d]%s of host '%s'" % (self.index, "." + key if key else "", self.host)
        if self.name:
            text += " (instance '%s')" % self.name
        return text


class _Host:
    def __init__(self, name):
        self.name = name
        self.settings = {}
        self.instances = []
        self.advertise_address = name


def _host_value(hostvars_of_host, variable, defaults):
    if hostvars_of_host is not None and variable in hostvars_of_host:
        return plain(hostvars_of_host[variable])
    if variable in defaults:
        return plain(defaults[variable])
    return plain(DEFAULTS[variable])


def _read_host(name, hostvars, defaults, errors):
    host = _Host(name)
    hv = hostvars[name] if name in hostvars else None
    raw = {variable: _host_value(hv, variable, defaults) for variable in HOST_VARIABLES}
    where = "%s of host '%s'"
    settings = host.settings

    for variable in ("redis_server_password", "redis_server_masteruser", "redis_server_replication_password"):
        problem = _secret_problem(raw[variable]) if raw[variable] is not None else None
        if raw[variable] is None:
            settings[variable] = ""
        elif problem:
            errors.add(where % (variable, name), problem, "set %s to a single-line string" % variable)
            settings[variable] = ""
        else:
            settings[variable] = _text(raw[variable])

    if settings["redis_server_replication_password"]:
        if not settings["redis_server_masteruser"]:
            errors.add(where % ("redis_server_replication_password", name),
                       "is set but redis_server_masteruser is empty, so no ACL user would have it",
                       "set redis_server_masteruser to the name of the replication user (e.g. replicator)")
        elif settings["redis_server_replication_password"] == settings["redis_server_password"]:
            errors.add(where % ("redis_server_replication_password", name),
                       "equals redis_server_password: the replication user must not share the default user's password",
                       "give redis_server_replication_password its own value (in Ansible Vault)")

    address = raw["redis_server_advertise_address"]
    if address in (None, ""):
        address = plain(hv.get("ansible_host")) if hv is not None and "ansible_host" in hv else None
        address = address if address not in (None, "") else name
    if not _is_str(address) or not _text(address).strip() or any(c.isspace() for c in _text(address).strip()):
        errors.add(where % ("redis_server_advertise_address", name), "%r is not an address" % (address,),
                   "set redis_server_advertise_address (or ansible_host) to the IP or DNS name other hosts reach it at")
        address = name
    host.advertise_address = _text(address).strip()

    try:
        settings["redis_server_bind"] = _bind_list(raw["redis_server_bind"], "redis_server_bind")
    except BindError as exc:
        errors.add(where % ("redis_server_bind", name), str(exc), exc.fix)
        settings["redis_server_bind"] = ["127.0.0.1"]

    for variable in ("redis_server_replica_read_only", "redis_server_allow_no_password"):
        try:
            settings[variable] = _bool(raw[variable])
        except ValueError as exc:
            errors.add(where % (variable, name), str(exc), "set %s to true or false" % variable)
            settings[variable] = bool(DEFAULTS[variable])

    settings["redis_server_config"] = _config(raw["redis_server_config"], where % ("redis_server_config", name),
                                              "redis_server_config", errors)

    instances = raw["redis_server_instances"]
    if not isinstance(instances, list) or not instances:
        errors.add(where % ("redis_server_instances", name), "must be a non-empty list of instances",
                   "list the instances, e.g. [{name: main, port: 6379}], or remove the variable for that default")
        instances = []
    for index, item in enumerate(instances):
        if not isinstance(item, dict):
            errors.add("redis_server_instances[%d] of host '%s'" % (index, name),
                       "%r is not a mapping" % (item,), "write each instance as {name: NAME, port: PORT, ...}")
            continue
        host.instances.append(_Instance(name, index, item))
    return host


def _config(value, where, variable, errors):
    """Validated, normalised directives of a config mapping (None values kept: they remove)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        errors.add(where, "must be a mapping of directive to value, not %s" % type(value).__name__,
                   "write it as {maxmemory: 256mb, ...}")
        return {}
    result = {}
    for key, item in value.items():
        directive = key.lower() if isinstance(key, str) else key
        if not isinstance(directive, str) or not DIRECTIVE_RE.match(directive):
            errors.add(where, "%r is not a redis.conf directive name" % (key,),
                       "use directive names as in redis.conf, e.g. maxmemory-policy")
            continue
        if directive in MANAGED_DIRECTIVES:
            errors.add("%s, directive '%s'" % (where, directive), "the role writes this directive itself",
                       "remove it from %s and use %s" % (variable, MANAGED_DIRECTIVES[directive]))
            continue
        if directive in REFUSED_DIRECTIVES:
            why, use = REFUSED_DIRECTIVES[directive]
            errors.add("%s, directive '%s'" % (where, directive), "refused: it %s" % why,
                       "remove it from %s and use %s" % (variable, use))
            continue
        try:
            result[directive] = _config_value(item)
        except ValueError as exc:
            errors.add("%s, directive '%s'" % (where, directive), str(exc),
                       "give the directive's arguments as in redis.conf (a list writes the directive once per item)")
    return result


def _check_instance_keys(instance, host, errors):
    raw = instance.raw
    for key in raw:
        if key not in INSTANCE_KEYS:
            errors.add(instance.where(), "unknown key %r%s" % (key, _suggest(str(key), INSTANCE_KEYS)),
                       "use only %s; put redis.conf directives under config" % ", ".join(INSTANCE_KEYS))

    if "name" not in raw:
        errors.add(instance.where("name"), "missing", "give every instance a name, e.g. name: main")
    elif not isinstance(raw["name"], str) or not NAME_RE.match(raw["name"]):
        errors.add(instance.where("name"), "%r is not a valid instance name" % (raw["name"],),
                   "use lower-case letters, digits, '-' and '_', starting with a letter (^[a-z][a-z0-9_-]*$)")
        instance.name = None

    if "port" not in raw:
        errors.add(instance.where("port"), "missing", "give every instance its TCP port, e.g. port: 6379")
    else:
        try:
            instance.port = _port(raw["port"])
        except ValueError as exc:
            errors.add(instance.where("port"), "port %s" % exc, "use a TCP port between 1 and 65535")

    if raw.get("bind") is not None:
        try:
            instance.bind = _bind_list(raw["bind"], "bind")
        except BindError as exc:
            errors.add(instance.where("bind"), str(exc), exc.fix)
    if instance.bind is None:
        instance.bind = list(host.settings["redis_server_bind"])

    for key in ("password", "masterauth", "masteruser"):
        if raw.get(key) is None:
            continue
        problem = _secret_problem(raw[key])
        if problem:
            errors.add(instance.where(key), problem, "set %s to a single-line string" % key)
        else:
            setattr(instance, key, _text(raw[key]))
    if instance.password is None:
        instance.password = host.settings["redis_server_password"]

    if raw.get("replica_read_only") is not None:
        try:
            instance.replica_read_only = _bool(raw["replica_read_only"])
        except ValueError as exc:
            errors.add(instance.where("replica_read_only"), str(exc), "set replica_read_only to true or false")

    if raw.get("state") is not None:
        if raw["state"] in STATES:
            instance.state = raw["state"]
        else:
            errors.add(instance.where("state"), "%r is not a state" % (raw["state"],),
                       "set state to present (the default) or absent (stop the instance and remove its files)")
    if raw.get("data") is not None:
        if raw["data"] not in DATA_CHOICES:
            errors.add(instance.where("data"), "%r is not a choice" % (raw["data"],),
                       "set data to keep (the default) or remove")
        elif not instance.retired:
            errors.add(instance.where("data"), "set on an instance that is not retired",
                       "remove data, or set state: absent to retire the instance")
        else:
            instance.data = raw["data"]

    config = _config(raw.get("config"), instance.where("config"), "config", errors)
    merged = dict(host.settings["redis_server_config"])
    merged.update(config)
    instance.config = {key: value for key, value in merged.items() if value is not None}


def _parse_replicaof(instance, value, hosts, hostvars, errors):
    """Return (target _Instance or None, {"host", "port"} or None) for a replicaof value."""
    where = instance.where("replicaof")
    fix_forms = ("write replicaof as 'HOST' (that inventory host's only instance), 'HOST:INSTANCE', "
                 "or {host: ADDRESS, port: PORT} for a master outside the inventory")
    if isinstance(value, dict):
        unknown = sorted(str(key) for key in value if key not in ("host", "port"))
        if unknown or "host" not in value or "port" not in value:
            errors.add(where, "a mapping needs exactly the keys host and port%s"
                       % (" (found %s)" % ", ".join(unknown) if unknown else ""), fix_forms)
            return None, None
        address = value["host"]
        if not _is_str(address) or not _text(address).strip() or any(c.isspace() for c in _text(address).strip()):
            errors.add(instance.where("replicaof.host"), "%r is not an address" % (address,), "give the master's IP address or DNS name")
            return None, None
        try:
            port = _port(value["port"])
        except ValueError as exc:
            errors.add(instance.where("replicaof.port"), "port %s" % exc, "give the master's TCP port (1..65535)")
            return None, None
        address = _text(address).strip()
        return _match_address(instance, address, port, hosts), {"host": address, "port": port}

    if not _is_str(value) or not _text(value).strip():
        errors.add(where, "%r is neither a host name nor a mapping" % (value,), fix_forms)
        return None, None
    text = _text(value).strip()
    if text in hostvars:
        host_name, instance_name = text, None
    elif ":" in text:
        host_name, instance_name = text.rsplit(":", 1)
    else:
        host_name, instance_name = text, None

    if host_name not in hostvars:
        fix = "use an inventory host name, or {host: ADDRESS, port: PORT} for a master outside the inventory"
        if instance_name is not None and instance_name.isdigit():
            fix = "for a master outside the inventory write {host: %s, port: %s}" % (host_name, instance_name)
        errors.add(where, "%r names host '%s', which is not in the inventory" % (text, host_name), fix)
        return None, None
    if host_name not in hosts:
        errors.add(where, "%r names host '%s', which is in the inventory but not in this play "
                   "(not targeted by the play, or left out by --limit)" % (text, host_name),
                   "run the play on '%s' too, or write {host: ADDRESS, port: PORT} to replicate from it "
                   "without managing it" % host_name)
        return None, None
    target_host = hosts[host_name]
    named = [item for item in target_host.instances if item.name]
    if instance_name is None:
        named = [item for item in named if not item.retired]
        if len(named) != 1:
            errors.add(where, "%r names host '%s', which has %d instances (%s)"
                       % (text, host_name, len(named), ", ".join(item.name for item in named) or "none"),
                       "name the instance: '%s:INSTANCE'" % host_name)
            return None, None
        target = named[0]
    else:
        matches = [item for item in named if item.name == instance_name]
        if not matches:
            errors.add(where, "%r names instance '%s', which host '%s' does not have (it has: %s)"
                       % (text, instance_name, host_name, ", ".join(item.name for item in named) or "none"),
                       "use one of the instance names listed in redis_server_instances of '%s'" % host_name)
            return None, None
        target = matches[0]
    if target.port is None:
        return None, None  # its own port error is reported
    return target, {"host": target_host.advertise_address, "port": target.port}


def _match_address(instance, address, port, hosts):
    """The play instance an explicit {host, port} points at, when exactly one matches."""
    matches = []
    for host in hosts.values():
        same_host = host.name == instance.host and is_loopback(address)
        if same_host or address in (host.advertise_address, host.name):
            matches.extend(item for item in host.instances if item.port == port and item.name and not item.retired)
    return matches[0] if len(matches) == 1 else None


def _resolve_links(hosts, hostvars, errors):
    for host in hosts.values():
        for instance in host.instances:
            value = instance.link
            if value in (None, "") or instance.retired:
                continue
            target, replicaof = _parse_replicaof(instance, value, hosts, hostvars, errors)
            if target is instance:
                errors.add(instance.where("replicaof"),
                           "%r points at the instance itself" % (plain(value),),
                           "point replicaof at another instance, or remove it to make '%s' a master" % instance.name)
                instance.valid_link = False
                continue
            if replicaof is None:
                instance.valid_link = False
                continue
            instance.replicaof = replicaof
            instance.master = target


def _check_cycles(hosts, errors):
    reported = set()
    for host in hosts.values():
        for start in host.instances:
            path, seen = [], set()
            node = start
            while node is not None and node.key not in seen:
                seen.add(node.key)
                path.append(node)
                node = node.master
            if node is None:
                continue
            cycle = path[path.index(node):]
            members = frozenset(item.key for item in cycle)
            if members in reported:
                continue
            reported.add(members)
            chain = " -> ".join(item.label for item in cycle + [node])
            first = min(cycle, key=lambda item: (item.host, item.index))
            errors.add(first.where("replicaof"), "replication cycle %s" % chain,
                       "make one instance of the cycle a master by removing its replicaof")
            for item in cycle:
                item.valid_link = False


def _finish(hosts, errors, sentinel_members=()):
    for host in hosts.values():
        for instance in host.instances:
            if instance.retired:
                continue
            raw = instance.raw
            if instance.replicaof is None and instance.link in (None, ""):
                if raw.get("replica_read_only") is not None and not instance.overridden:
                    errors.add(instance.where("replica_read_only"), "set on a master (the instance has no replicaof)",
                               "remove replica_read_only, or add replicaof to make it a replica")
                instance.replica_read_only = host.settings["redis_server_replica_read_only"]
                if instance.label in sentinel_members:
                    # Sentinel demotes a master without the role (SENTINEL FAILOVER, or its return after
                    # a failover): it must then log in to its former replica as they log in to it.
                    if instance.masteruser is None:
                        instance.masteruser = host.settings["redis_server_masteruser"]
                    if instance.masterauth is None:
                        instance.masterauth = _default_masterauth(instance, hosts, master=instance)
                instance.masteruser = instance.masteruser or ""
                instance.masterauth = instance.masterauth or ""
            else:
                if instance.replica_read_only is None:
                    instance.replica_read_only = host.settings["redis_server_replica_read_only"]
                if instance.masteruser is None:
                    instance.masteruser = host.settings["redis_server_masteruser"]
                if instance.masterauth is None:
                    instance.masterauth = _default_masterauth(instance, hosts)
            if instance.masteruser and not instance.masterauth:
                errors.add(instance.where("masteruser"),
                           "masteruser '%s' is set but there is no masterauth to log in with" % instance.masteruser,
                           "set masterauth to the password of ACL user '%s' (or set a password on the master)"
                           % instance.masteruser)
            public = [address for address in instance.bind if not is_loopback(address)]
            if public and not instance.password and not host.settings["redis_server_allow_no_password"]:
                errors.add(instance.where("bind"),
                           "listens on %s without a password" % ", ".join(public),
                           "set redis_server_password (keep it in Ansible Vault) or the instance's password, bind "
                           "only to loopback addresses, or set redis_server_allow_no_password: true")
            if instance.master is not None and instance.valid_link:
                instance.master.replicas.append(instance)
    _check_retired_masters(hosts, errors)


def _check_retired_masters(hosts, errors):
    """A retired instance must not be the master of an instance that stays: it would lose its source."""
    for host in hosts.values():
        for instance in host.instances:
            if instance.retired and instance.replicas:
                errors.add(instance.where("state"),
                           "instance '%s' is to be retired (state: absent) but %s replicate(s) from it"
                           % (instance.name, ", ".join(replica.label for replica in instance.replicas)),
                           "re-point them first (change their replicaof to the master that stays, run the "
                           "role), then retire '%s'" % instance.name)


def _default_masterauth(instance, hosts, master=None):
    """The master's replication user's password when the replica logs in as that user, else its password.

    master: the instance whose credentials to take, when not the replica's master (a master that
    Sentinel may demote logs in to its former replicas with the credentials they log in to it with).
    """
    master = master or instance.master
    if master is None:
        return instance.password
    master_settings = hosts[master.host].settings
    if instance.masteruser and instance.masteruser == master_settings["redis_server_masteruser"] \
            and master_settings["redis_server_replication_password"]:
        return master_settings["redis_server_replication_password"]
    return master.password


def _replication_user(host, secrets):
    """The ACL user every instance of the host defines for its replicas, or None."""
    settings = host.settings
    if not (settings["redis_server_masteruser"] and settings["redis_server_replication_password"]):
        return None
    user = {"name": settings["redis_server_masteruser"]}
    if secrets:
        user["password"] = settings["redis_server_replication_password"]
    return user


def _check_names_and_ports(host, errors):
    by_name, by_port = {}, {}
    for instance in host.instances:
        if instance.name:
            if instance.name in by_name:
                errors.add(instance.where("name"),
                           "name '%s' is used twice on host '%s' (redis_server_instances[%d] and [%d])"
                           % (instance.name, host.name, by_name[instance.name].index, instance.index),
                           "give each instance of a host its own name")
                instance.name = None
            else:
                by_name[instance.name] = instance
        if instance.port is not None and not instance.retired:
            if instance.port in by_port:
                other = by_port[instance.port]
                errors.add(instance.where("port"),
                           "port %d is used twice on host '%s' (instances '%s' and '%s')"
                           % (instance.port, host.name, other.name or other.index, instance.name or instance.index),
                           "give each instance of a host its own port")
            else:
                by_port[instance.port] = instance


def _check_current(host_name, hostvars, defaults, current, errors):
    """Variables the role sees for this host must be the ones every other host reads from hostvars."""
    hv = hostvars[host_name] if host_name in hostvars else None
    for variable in HOST_VARIABLES:
        if variable not in current:
            continue
        if plain(current[variable]) != _host_value(hv, variable, defaults):
            errors.add("%s of host '%s'" % (variable, host_name),
                       "the role sees a value that other hosts cannot see in hostvars (set as a play var, role "
                       "parameter or include_role vars?)",
                       "set %s in the inventory (group_vars/host_vars) or as an extra var (-e), so that every "
                       "host resolves the same topology" % variable)


# A password holding Jinja markers that Ansible renders: "{{ abc }}x" silently becomes the value of
# abc followed by x. A value that is one expression ("{{ vault_redis_password }}") is a reference,
# the usual way to read a secret from Vault: allowed.
SECRET_HOST_VARIABLES = ("redis_server_password", "redis_server_replication_password",
                         "redis_server_previous_passwords")
SECRET_INSTANCE_KEYS = ("password", "masterauth")
_TEMPLATE_MARKERS = re.compile(r"\{\{|\{%|\{#")
_ONE_EXPRESSION = re.compile(r"^\s*\{\{((?!\}\}).)*\}\}\s*$", re.S)


def _rendered_in_part(value):
    """True for a string Ansible renders as a template and that is not one whole expression."""
    return (isinstance(value, str) and is_trusted_as_template(value) and bool(_TEMPLATE_MARKERS.search(value))
            and not _ONE_EXPRESSION.match(value))


def _check_templated_secrets(hosts, hostvars, errors):
    """Refuse passwords that mix literal text with Jinja markers, read before Ansible renders them.

    Only where the variables can be read raw (Ansible's hostvars; a plain mapping has nothing to render).
    """
    raw_get = getattr(hostvars, "raw_get", None)
    if raw_get is None:
        return
    fix = ("if the characters are part of the password, mark it unsafe in YAML: !unsafe '...' (Ansible then "
           "takes it literally); to build it from variables, write one expression: '{{ a ~ b }}'")
    problem = "holds '{{', '{%' or '{#', which Ansible renders as a template: the password would silently be " \
              "what it renders to"
    for host in hosts.values():
        raw = raw_get(host.name)
        if not isinstance(raw, Mapping):
            continue
        for variable in SECRET_HOST_VARIABLES:
            values = raw.get(variable)
            for value in values if isinstance(values, list) else [values]:
                if _rendered_in_part(value):
                    errors.add("%s of host '%s'" % (variable, host.name), problem, fix)
        instances = raw.get("redis_server_instances")
        for index, item in enumerate(instances if isinstance(instances, list) else []):
            for key in SECRET_INSTANCE_KEYS:
                if isinstance(item, Mapping) and _rendered_in_part(item.get(key)):
                    name = item.get("name")
                    errors.add("redis_server_instances[%d].%s of host '%s'%s" % (
                        index, key, host.name, " (instance '%s')" % name if isinstance(name, str) else ""),
                        problem, fix)


def _output(instance, host, secrets):
    result = {
        "name": instance.name,
        "port": instance.port,
        "bind": list(instance.bind),
        "advertise_address": host.advertise_address,
        "login_host": login_host(instance.bind),
        "role": "replica" if instance.replicaof is not None else "master",
        "replicaof": dict(instance.replicaof) if instance.replicaof is not None else None,
        "master": {"inventory_host": instance.master.host, "instance": instance.master.name}
        if instance.master is not None else None,
        "masteruser": instance.masteruser,
        "replica_read_only": instance.replica_read_only,
        "config": dict(instance.config),
        "replicas": [_replica_entry(replica) for replica in instance.replicas],
        "replication_user": _replication_user(host, secrets),
    }
    if secrets:
        result["password"] = instance.password
        result["masterauth"] = instance.masterauth
    return result


def _retired_output(instance, host):
    """What retiring an instance needs: no secret, as stopping it takes none."""
    return {"name": instance.name, "port": instance.port, "login_host": login_host(instance.bind),
            "advertise_address": host.advertise_address, "data": instance.data}


def _announced(config, *names):
    """The first argument of the first of the directives that is set (a single value), or None."""
    for name in names:
        value = config.get(name)
        if isinstance(value, str):
            args = split_args(value)
            if args and args[0]:
                return args[0]
    return None


def _replica_entry(replica):
    """How a master lists a replica in INFO replication: its announce-ip/port when set, else its address."""
    address = _announced(replica.config, "replica-announce-ip", "slave-announce-ip") or replica.advertise_address
    port = _announced(replica.config, "replica-announce-port", "slave-announce-port")
    port = int(port) if port and port.isdigit() and int(port) else replica.port
    return {"host": address, "port": port, "inventory_host": replica.host, "instance": replica.name}


def resolve_play(hostvars, play_hosts, defaults=None, replicaof=None, sentinel_members=None):
    """Resolve every host of the play: {host name: [resolved instance, ...]} (with secrets).

    Raises TopologyError listing every problem found.
    """
    return _resolve(hostvars, play_hosts, defaults, None, None, True, replicaof=replicaof,
                    sentinel_members=sentinel_members)


# ---------------------------------------------------------------------------------------------
# a topology given instead of the inventory's (the role's apply entry point, after a failover)
# ---------------------------------------------------------------------------------------------

OVERRIDE_VARIABLE = "redis_server_replicaof"


def _override(hosts, replicaof, errors):
    """Give the instances that replicaof names ("HOST:INSTANCE" -> replicaof value, None for a master)
    that replicaof instead of the inventory's; the rest of the resolution is the same."""
    if replicaof is None:
        return
    example = "{'HOST:INSTANCE': 'HOST:MASTER_INSTANCE'} (null for an instance that is a master)"
    if not isinstance(replicaof, Mapping):
        errors.add(OVERRIDE_VARIABLE, "must be a mapping of instance to replicaof, not %s" % type(replicaof).__name__,
                   "write it as %s" % example)
        return
    for label, value in replicaof.items():
        label = _text(label)
        host_name, sep, name = label.rpartition(":")
        host = hosts.get(host_name) if sep else None
        matches = [item for item in host.instances if item.name == name and not item.retired] if host else []
        if not matches:
            errors.add("%s[%r]" % (OVERRIDE_VARIABLE, label), "names no instance of the play",
                       "name each instance as HOST:INSTANCE, an inventory host of the play and one of its instances")
            continue
        matches[0].link = plain(value)
        matches[0].overridden = True


def _resolve(hostvars, play_hosts, defaults, host_name, current, secrets, state="present", replicaof=None,
             sentinel_members=None):
    defaults = dict(defaults or {})
    errors = _Errors()
    names = []
    for name in list(play_hosts or []) + ([host_name] if host_name else []):
        name = _text(name)
        if name not in names:
            names.append(name)
    hosts = {}
    for name in names:
        hosts[name] = _read_host(name, hostvars, defaults, errors)
    for host in hosts.values():
        for instance in host.instances:
            instance.advertise_address = host.advertise_address
            _check_instance_keys(instance, host, errors)
        _check_names_and_ports(host, errors)
    _override(hosts, replicaof, errors)
    _resolve_links(hosts, hostvars, errors)
    _check_cycles(hosts, errors)
    _finish(hosts, errors, frozenset(_text(label) for label in sentinel_members or ()))
    if host_name and current:
        _check_current(host_name, hostvars, defaults, current, errors)
    _check_templated_secrets(hosts, hostvars, errors)
    if errors.items:
        raise TopologyError(errors.items)
    if state == "absent":
        return {name: [_retired_output(instance, host) for instance in host.instances if instance.retired]
                for name, host in hosts.items()}
    return {name: [_output(instance, host, secrets) for instance in host.instances if not instance.retired]
            for name, host in hosts.items()}


def server_instances(hostvars, host, play_hosts, defaults=None, current=None, secrets=True, state="present",
                     replicaof=None, sentinel_members=None):
    """The resolved instances of one host, after validating the whole play.

    hostvars: mapping host name -> that host's variables (Ansible's ``hostvars``).
    host: the host to return the instances of (``inventory_hostname``).
    play_hosts: every host of the play (``ansible_play_hosts_all``); replicaof may only name these.
    defaults: the role's defaults for HOST_VARIABLES, used for hosts that do not set them.
    current: optional, the values the role sees for ``host``; each must equal what hostvars give,
        otherwise other hosts would resolve a different topology (play vars, role parameters).
    secrets: False leaves out password and masterauth (for loops whose items are displayed).
    state: "present" returns the instances the host runs; "absent" those it retires (state: absent),
        as {name, port, login_host, advertise_address, data}.
    replicaof: optional, {"HOST:INSTANCE": replicaof value, or None for a master}: the topology to
        resolve instead of the inventory's for those instances (the role's apply entry point).
    sentinel_members: optional, "HOST:INSTANCE" of every instance of a replication group that Sentinels
        monitor: a master among them gets the masteruser and masterauth its replicas use (Sentinel may
        make it a replica of one of them), unless the inventory gives its own.
    """
    resolved = _resolve(hostvars, play_hosts, defaults, _text(host), current, secrets, state, replicaof,
                        sentinel_members)
    return resolved[_text(host)]
