# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The role's list, boolean and number variables, validated and normalised once, on the controller.

The role's argument spec validates a value but leaves the variable as it was given: a string
where a list belongs would be iterated by character by a template (``"oldpw"`` becomes five
one-letter passwords), and ``-e redis_server_verify=false`` is the string ``"false"``, which a
condition refuses and a template takes for true. Tasks and templates read what ``settings()``
returns instead of the raw variables. The topology variables (``redis_server_instances``,
``redis_server_bind``, ...) are normalised by the topology resolver (``topology.py``), which
reads them from every host of the play.

Pure functions, no Ansible runtime needed. Messages name the variable, the host and the fix,
never the value of a secret.
"""

from __future__ import annotations

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import _Errors, _bool, _is_str, _text, plain

# Package names: a single name given as a string is unambiguous and wrapped; a string with blanks
# or commas (several names?) is refused.
PACKAGE_LISTS = ("redis_server_packages", "redis_server_python_packages")
SECRET_LISTS = ("redis_server_previous_passwords",)
BOOLEANS = ("redis_server_tls", "redis_server_disable_packaged_service", "redis_server_unit_hardening",
            "redis_server_secure_logging", "redis_server_force_topology", "redis_server_verify",
            "redis_server_upgrade_switchover")
POSITIVE_INTS = ("redis_server_verify_timeout",)
# Seconds where 0 means "do not wait".
NON_NEGATIVE_INTS = ("redis_server_lock_timeout",)
VARIABLES = PACKAGE_LISTS + SECRET_LISTS + BOOLEANS + POSITIVE_INTS + NON_NEGATIVE_INTS
PREFIX = "redis_server_"


class SettingsError(ValueError):
    """One or more invalid role variables; ``errors`` holds one message per problem."""

    def __init__(self, errors):
        self.errors = list(errors)
        super().__init__("Invalid role variables (nothing was changed):\n%s"
                         % "\n".join("- " + error for error in self.errors))


def _package_list(value, variable, where, errors):
    if _is_str(value):
        text = _text(value).strip()
        if text and not any(char.isspace() or char == "," for char in text):
            return [text]
        errors.add(where, "%r is a string, not a list of package names" % (text,),
                   "give a YAML list, one package per item: %s: [%s] (or [] for the OS family's)"
                   % (variable, ", ".join(text.replace(",", " ").split()) or "PACKAGE"))
        return []
    if not isinstance(value, list):
        errors.add(where, "must be a list of package names, not %s" % type(value).__name__,
                   "give a YAML list: %s: [PACKAGE, ...] (or [] for the OS family's)" % variable)
        return []
    result = []
    for item in value:
        if not _is_str(item) or not _text(item).strip() or any(char.isspace() for char in _text(item).strip()):
            errors.add(where, "%r is not a package name" % (item,), "list one package name per item")
            continue
        result.append(_text(item).strip())
    return result


def _secret_list(value, variable, host, errors):
    """A list of passwords; a string is refused (iterated, each character would become a password)."""
    where = "%s of host '%s'" % (variable, host)
    if value is None:
        return []
    if _is_str(value):
        errors.add(where, "is a string, not a list (each of its characters would be taken for a password)",
                   "give a YAML list: %s: [OLD_PASSWORD] (with -e, as JSON: -e '{\"%s\": [\"OLD_PASSWORD\"]}')"
                   % (variable, variable))
        return []
    if not isinstance(value, list):
        errors.add(where, "must be a list of passwords, not %s" % type(value).__name__,
                   "give a YAML list: %s: [OLD_PASSWORD]" % variable)
        return []
    result = []
    for index, item in enumerate(value):
        if not _is_str(item):
            errors.add("%s[%d] of host '%s'" % (variable, index, host), "must be a string (quote it in YAML), not %s" % type(item).__name__,
                       "write each password as a string")
        elif any(char in _text(item) for char in "\r\n\0"):
            errors.add("%s[%d] of host '%s'" % (variable, index, host), "contains a line break or NUL, which a redis.conf line cannot hold",
                       "remove the password from the list; the instances cannot have it")
        else:
            result.append(_text(item))
    return result


def _seconds(value, variable, where, errors, minimum=1):
    if isinstance(value, bool) or not (isinstance(value, int) or (_is_str(value) and _text(value).strip().isdigit())):
        errors.add(where, "%r is not a whole number" % (value,), "set %s to a number of seconds, e.g. 30" % variable)
        return None
    number = int(value) if isinstance(value, int) else int(_text(value).strip())
    if number < minimum:
        errors.add(where, "%d is less than %d" % (number, minimum), "set %s to a number of seconds, e.g. 30" % variable)
        return None
    return number


def settings(values, host, secrets=False):
    """The role variables of ``host``, normalised, keyed by their name without ``redis_server_``.

    values: mapping variable name -> value as the role sees it; the names of VARIABLES it holds are
        normalised, others are ignored (the role passes them all).
    secrets: False leaves the passwords (previous_passwords) out of the result, which is then
        safe to show; they are validated either way.
    Raises SettingsError listing every problem.
    """
    errors = _Errors()
    result = {}
    for variable in VARIABLES:
        where = "%s of host '%s'" % (variable, _text(host))
        if variable not in values:
            continue
        value = plain(values[variable])
        key = variable[len(PREFIX):]
        if variable in PACKAGE_LISTS:
            result[key] = _package_list(value, variable, where, errors)
        elif variable in SECRET_LISTS:
            passwords = _secret_list(value, variable, _text(host), errors)
            if secrets:
                result[key] = passwords
        elif variable in BOOLEANS:
            try:
                result[key] = _bool(value)
            except ValueError:
                errors.add(where, "%r is not a boolean" % (value,), "set %s to true or false" % variable)
        else:
            result[key] = _seconds(value, variable, where, errors, minimum=0 if variable in NON_NEGATIVE_INTS else 1)
    if errors.items:
        raise SettingsError(errors.items)
    return result
