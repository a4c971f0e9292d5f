"""Static checks of roles/server: every default documented in meta/argument_specs.yml with the same
value (the other entry points: test_entry_points.py), managed headers in every template, and
no_log tied to redis_server_secure_logging on every task that handles passwords.
"""

from __future__ import annotations

import glob
import os

import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "server")


def load(*parts):
    with open(os.path.join(ROLE, *parts)) as handle:
        return yaml.safe_load(handle)


DEFAULTS = load("defaults", "main.yml")
SPECS = load("meta", "argument_specs.yml")["argument_specs"]


def test_every_default_is_documented_and_every_option_has_a_default():
    assert set(DEFAULTS) == set(SPECS["main"]["options"])


def test_documented_defaults_equal_the_defaults():
    for name, value in DEFAULTS.items():
        option = SPECS["main"]["options"][name]
        assert option["default"] == value, name
        assert option.get("description"), name
        assert option.get("type"), name


def test_every_variable_is_prefixed():
    for name in DEFAULTS:
        assert name.startswith("redis_server_"), name
    for path in glob.glob(os.path.join(ROLE, "vars", "*.yml")):
        with open(path) as handle:
            for name in yaml.safe_load(handle):
                assert name.startswith("__redis_server_"), (path, name)


def test_every_template_starts_with_the_managed_header():
    for path in glob.glob(os.path.join(ROLE, "templates", "*.j2")):
        with open(path) as handle:
            assert handle.readline().strip() == "{{ ansible_managed | comment }}", path


def test_main_config_includes_the_live_file_last():
    with open(os.path.join(ROLE, "templates", "redis.conf.j2")) as handle:
        lines = [line for line in handle.read().splitlines() if line.strip()]
    assert lines[-1].startswith("include ")
    assert ".live.conf" in lines[-1]


def tasks():
    for path in sorted(glob.glob(os.path.join(ROLE, "tasks", "*.yml")) + [os.path.join(ROLE, "handlers", "main.yml")]):
        with open(path) as handle:
            for task in yaml.safe_load(handle) or []:
                yield path, task
                for inner in task.get("block", []) + task.get("always", []):
                    yield path, inner


def test_tasks_that_handle_secrets_are_no_log_per_secure_logging():
    for path, task in tasks():
        text = yaml.safe_dump(task)
        # The view with secrets of the instance model (vars/main.yml), and the templates of the live file.
        handles_secrets = "__redis_server_instances_secret" in text or "template" in text and ".conf.j2" in text
        if handles_secrets and "replication_check" not in text and "replication_info" not in text:
            assert task.get("no_log") == "{{ redis_server_secure_logging }}", (path, task.get("name"))


def test_loops_over_instances_label_items_by_name():
    for path, task in tasks():
        if "__redis_server_instances" in str(task.get("loop", "")) or "_instances" in str(task.get("loop", "")):
            loop_var = task.get("loop_control", {}).get("loop_var", "item")
            assert task.get("loop_control", {}).get("label") == "{{ %s.name }}" % loop_var, (path, task.get("name"))


def test_only_fully_qualified_modules():
    keywords = {"name", "when", "loop", "loop_control", "register", "notify", "tags", "vars", "no_log", "block",
                "changed_when", "check_mode", "ignore_errors", "listen", "failed_when", "throttle", "module_defaults", "rescue",
                "always", "run_once", "delegate_to", "become", "diff"}
    for path, task in tasks():
        modules = [key for key in task if key not in keywords]
        for module in modules:
            assert module.count(".") >= 2, (path, task.get("name"), module)
