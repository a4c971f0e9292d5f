"""Static checks of roles/sentinel: every default documented in meta/argument_specs.yml with the same
value in every entry point, prefixes, the managed header, FQCNs, and the filter's defaults equal to
the role's."""

from __future__ import annotations

import glob
import os
import re

import yaml

from ansible_collections.redisops.redis.plugins.plugin_utils import sentinel

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "sentinel")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


DEFAULTS = load("defaults", "main.yml")
SPECS = load("meta", "argument_specs.yml")["argument_specs"]


def test_every_default_is_documented_with_its_value_in_every_entry_point():
    assert set(SPECS) == {"main", "verify", "preflight"}
    for entry, spec in SPECS.items():
        assert set(DEFAULTS) == set(spec["options"]), entry
        for name, value in DEFAULTS.items():
            option = spec["options"][name]
            assert option["default"] == value, (entry, name)
            assert option.get("description") and option.get("type"), (entry, name)


def test_secrets_are_no_log_in_the_spec():
    for name in ("redis_sentinel_password", "redis_sentinel_auth_password"):
        assert SPECS["main"]["options"][name]["no_log"] is True


def test_every_variable_is_prefixed():
    assert all(name.startswith("redis_sentinel_") for name in DEFAULTS)
    assert all(name.startswith("__redis_sentinel_") for name in load("vars", "main.yml"))


def test_the_filter_defaults_are_the_roles():
    for name, value in sentinel.DEFAULTS.items():
        assert DEFAULTS[name] == value, name


def test_every_template_starts_with_the_managed_header():
    for path in glob.glob(os.path.join(ROLE, "templates", "*.j2")):
        with open(path) as handle:
            assert handle.readline().strip() == "{{ ansible_managed | comment }}", path


def test_sentinel_conf_is_only_written_when_missing_and_never_shown():
    tasks = load("tasks", "configure.yml")
    [task] = [task for task in tasks if "ansible.builtin.template" in task]
    assert task["ansible.builtin.template"]["force"] is False
    assert task["no_log"] == "{{ redis_sentinel_secure_logging }}"


def test_only_fully_qualified_modules():
    keywords = {"name", "when", "loop", "loop_control", "register", "vars", "tags", "block", "rescue", "always",
                "notify", "listen", "no_log", "diff", "run_once", "failed_when", "changed_when", "check_mode",
                "module_defaults"}
    for path in glob.glob(os.path.join(ROLE, "*", "*.yml")):
        if "/tasks/" not in path and "/handlers/" not in path:
            continue
        for task in _walk(yaml.safe_load(open(path)) or []):
            for key in set(task) - keywords:
                assert re.match(r"^[a-z_]+\.[a-z_]+\.[a-z_]+$", key), (path, key)


def _walk(tasks):
    for task in tasks:
        yield task
        for key in ("block", "rescue", "always"):
            yield from _walk(task.get(key) or [])


def test_every_entry_point_used_has_a_spec_and_a_task_file():
    used = set()
    for path in glob.glob(os.path.join(ROOT, "*.yml")) + glob.glob(os.path.join(ROOT, "playbooks", "*.yml")):
        with open(path) as handle:
            used.update(re.findall(r"name:\s*redisops\.redis\.sentinel\s*\n\s*tasks_from:\s*(\w+)", handle.read()))
    assert {"preflight", "verify"} <= used
    for entry in used:
        assert entry in SPECS and os.path.exists(os.path.join(ROLE, "tasks", entry + ".yml")), entry
