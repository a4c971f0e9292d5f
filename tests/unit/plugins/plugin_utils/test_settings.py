"""The role's list, boolean and number variables (plugins/plugin_utils/settings.py).

Every list variable given as a string is refused (or, for a single package name, wrapped), never
split into characters; every message names the variable, the host and the fix, and never a
password. The role's wiring is checked too: every list, bool and int option of the argument spec
is normalised here or by the topology resolver, and no task or template reads one raw.
"""

from __future__ import annotations

import glob
import os
import re

import pytest
import yaml

from ansible_collections.redisops.redis.plugins.plugin_utils import settings as settings_module
from ansible_collections.redisops.redis.plugins.plugin_utils import topology
from ansible_collections.redisops.redis.plugins.plugin_utils.settings import SettingsError, settings

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))))
ROLE = os.path.join(ROOT, "roles", "server")
with open(os.path.join(ROLE, "defaults", "main.yml")) as _handle:
    DEFAULTS = yaml.safe_load(_handle)
with open(os.path.join(ROLE, "meta", "argument_specs.yml")) as _handle:
    OPTIONS = yaml.safe_load(_handle)["argument_specs"]["main"]["options"]


def role_values(**overrides):
    values = {name: DEFAULTS[name] for name in settings_module.VARIABLES}
    values.update(overrides)
    return values


def error_of(**overrides):
    with pytest.raises(SettingsError) as info:
        settings(role_values(**overrides), "db1", secrets=True)
    return str(info.value)


def assert_names(message, *words):
    for word in words:
        assert word in message, "%r not in:\n%s" % (word, message)


def test_the_defaults_pass_unchanged():
    assert settings(role_values(), "db1", secrets=True) == {
        "packages": [], "python_packages": [], "previous_passwords": [], "tls": False,
        "disable_packaged_service": True, "unit_hardening": True, "secure_logging": True,
        "force_topology": False, "verify": True, "verify_timeout": 30, "lock_timeout": 300,
        "upgrade_switchover": False,
    }


# --- each list variable given as a string ----------------------------------------------------

@pytest.mark.parametrize("value", ["oldpw", "old,pw", "o", ""])
def test_previous_passwords_as_a_string_is_refused_without_showing_it(value):
    message = error_of(redis_server_previous_passwords=value)
    assert_names(message, "redis_server_previous_passwords of host 'db1'", "is a string, not a list",
                 "Fix: give a YAML list: redis_server_previous_passwords: [OLD_PASSWORD]")
    if value:
        assert repr(value) not in message and "[%s]" % value not in message


def test_previous_passwords_as_a_list_are_kept_whole_and_left_out_without_secrets():
    values = role_values(redis_server_previous_passwords=["oldpw", "old pw #2"])
    assert settings(values, "db1", secrets=True)["previous_passwords"] == ["oldpw", "old pw #2"]
    assert "previous_passwords" not in settings(values, "db1")


@pytest.mark.parametrize("value, words", [
    ([1234], ["redis_server_previous_passwords[0] of host 'db1'", "must be a string"]),
    (["ok", "a\nb"], ["redis_server_previous_passwords[1] of host 'db1'", "line break"]),
    ({"old": "pw"}, ["must be a list of passwords, not dict"]),
])
def test_previous_passwords_must_be_single_line_strings(value, words):
    message = error_of(redis_server_previous_passwords=value)
    assert_names(message, *words)
    assert "a\nb" not in message


@pytest.mark.parametrize("variable", ["redis_server_packages", "redis_server_python_packages"])
def test_a_single_package_name_given_as_a_string_is_wrapped(variable):
    key = variable[len("redis_server_"):]
    assert settings(role_values(**{variable: "redis-server"}), "db1")[key] == ["redis-server"]


@pytest.mark.parametrize("variable", ["redis_server_packages", "redis_server_python_packages"])
@pytest.mark.parametrize("value", ["redis-server python3-redis", "redis-server,python3-redis"])
def test_several_package_names_in_a_string_are_refused(variable, value):
    message = error_of(**{variable: value})
    assert_names(message, "%s of host 'db1'" % variable, "is a string, not a list",
                 "Fix: give a YAML list, one package per item: %s: [redis-server, python3-redis]" % variable)


@pytest.mark.parametrize("value", [["redis server"], [""], [7], {"a": 1}])
def test_package_lists_hold_package_names(value):
    assert_names(error_of(redis_server_packages=value), "redis_server_packages of host 'db1'")


# The list variables of the topology resolver, given as strings (the resolver's own tests cover
# the rest of their rules).
def topology_error(**host_settings):
    hostvars = {"db1": dict({"redis_server_instances": [{"name": "main", "port": 6379}]}, **host_settings)}
    with pytest.raises(topology.TopologyError) as info:
        topology.server_instances(hostvars, "db1", ["db1"])
    return str(info.value)


def test_instances_as_a_string_is_refused():
    assert_names(topology_error(redis_server_instances="main"), "redis_server_instances of host 'db1'",
                 "must be a non-empty list of instances", "Fix: list the instances")


@pytest.mark.parametrize("value", ["127.0.0.1 0.0.0.0", "127.0.0.1,10.0.0.5", "127.0.0.1\t::1"])
def test_bind_as_a_string_of_several_addresses_is_refused(value):
    assert_names(topology_error(redis_server_bind=value), "redis_server_bind of host 'db1'",
                 "a string holding several addresses", "Fix: give a YAML list, one address per item")
    instances = [{"name": "main", "port": 6379, "bind": value}]
    assert_names(topology_error(redis_server_instances=instances), "redis_server_instances[0].bind of host 'db1'",
                 "(instance 'main')", "a string holding several addresses", "Fix: give a YAML list")


def test_bind_as_a_single_address_string_is_wrapped():
    hostvars = {"db1": {"redis_server_bind": "127.0.0.2", "redis_server_instances": [
        {"name": "main", "port": 6379}, {"name": "other", "port": 6380, "bind": "::1"}]}}
    main, other = topology.server_instances(hostvars, "db1", ["db1"])
    assert (main["bind"], other["bind"]) == (["127.0.0.2"], ["::1"])


def test_config_value_as_a_string_is_one_value_and_a_list_repeats_the_directive():
    hostvars = {"db1": {"redis_server_config": {"save": "900 1", "rename-x": None},
                        "redis_server_instances": [{"name": "main", "port": 6379, "config": {"loadmodule": ["a.so", "b.so"]}}]}}
    assert topology.server_instances(hostvars, "db1", ["db1"])[0]["config"] == {"save": "900 1", "loadmodule": ["a.so", "b.so"]}


# --- booleans and numbers ------------------------------------------------------------------

@pytest.mark.parametrize("variable", settings_module.BOOLEANS)
@pytest.mark.parametrize("value, expected", [("false", False), ("no", False), ("True", True), ("yes", True),
                                             (True, True), (0, False)])
def test_booleans_given_as_strings_become_booleans(variable, value, expected):
    assert settings(role_values(**{variable: value}), "db1")[variable[len("redis_server_"):]] is expected


@pytest.mark.parametrize("variable", settings_module.BOOLEANS)
@pytest.mark.parametrize("value", ["maybe", "", [True], 2])
def test_anything_else_where_a_boolean_belongs_is_refused(variable, value):
    assert_names(error_of(**{variable: value}), "%s of host 'db1'" % variable, "not a boolean",
                 "Fix: set %s to true or false" % variable)


@pytest.mark.parametrize("value, expected", [(30, 30), ("45", 45), (" 5 ", 5)])
def test_verify_timeout_is_a_positive_number(value, expected):
    assert settings(role_values(redis_server_verify_timeout=value), "db1")["verify_timeout"] == expected


@pytest.mark.parametrize("value, words", [(0, ["less than 1"]), ("-3", ["not a whole number"]),
                                          ("thirty", ["not a whole number"]), (True, ["not a whole number"]),
                                          (2.5, ["not a whole number"])])
def test_verify_timeout_anything_else_is_refused(value, words):
    assert_names(error_of(redis_server_verify_timeout=value), "redis_server_verify_timeout of host 'db1'", *words,
                 "Fix: set redis_server_verify_timeout to a number of seconds")


def test_every_problem_is_reported_at_once():
    message = error_of(redis_server_tls="maybe", redis_server_packages="a b", redis_server_verify_timeout=0)
    assert message.count("\n- ") == 3 and "nothing was changed" in message


# --- the role reads only what is normalised ------------------------------------------------

def test_every_list_bool_and_int_option_is_normalised_here_or_by_the_topology_resolver():
    typed = {name for name, option in OPTIONS.items() if option["type"] in ("list", "bool", "int")}
    assert typed == set(settings_module.VARIABLES) | (set(topology.HOST_VARIABLES) & typed)


def test_the_role_passes_every_variable_to_the_filter():
    with open(os.path.join(ROLE, "vars", "main.yml")) as handle:
        role_vars = yaml.safe_load(handle)
    assert role_vars["__redis_server_settings_input"] == {name: "{{ %s }}" % name for name in settings_module.VARIABLES}


EXPRESSION = re.compile(r"\{\{.*?\}\}|\{%.*?%\}", re.S)
CONDITIONS = ("when", "that", "failed_when", "changed_when")
# Where the raw values are handed to the filters that normalise them.
FILTER_INPUTS = ("__redis_server_settings_input", "__redis_server_topology_current")


def expressions(node, key=None):
    """Every Jinja expression of a YAML tree: templates in strings, and conditions whole."""
    if key in FILTER_INPUTS or key == "no_log":
        # no_log is read by Ansible as a boolean itself; resolve.yml refuses a non-boolean first.
        return
    if isinstance(node, dict):
        for child_key, child in node.items():
            yield from expressions(child, child_key)
    elif isinstance(node, list):
        for child in node:
            yield from expressions(child, key)
    elif isinstance(node, str):
        yield from ([node] if key in CONDITIONS else EXPRESSION.findall(node))


def test_no_task_or_template_reads_a_normalised_variable_raw():
    raw = re.compile(r"\b(%s)\b" % "|".join(
        settings_module.VARIABLES + ("redis_server_instances", "redis_server_bind", "redis_server_replica_read_only",
                                     "redis_server_allow_no_password", "redis_server_config")))
    found = []
    for path in glob.glob(os.path.join(ROLE, "tasks", "*.yml")) + glob.glob(os.path.join(ROLE, "handlers", "*.yml")) \
            + [os.path.join(ROLE, "vars", "main.yml")]:
        with open(path) as handle:
            found += [(path, text) for text in expressions(yaml.safe_load(handle)) if raw.search(text)]
    for path in glob.glob(os.path.join(ROLE, "templates", "*.j2")):
        with open(path) as handle:
            found += [(path, text) for text in EXPRESSION.findall(handle.read()) if raw.search(text)]
    assert not found
