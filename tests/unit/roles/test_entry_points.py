"""Every entry point of roles/server has an argument spec that covers the role variables it reads.

What an entry point reads is computed from the files, so the check cannot go stale: its task file,
the task files it includes or imports (statically named), the handlers and what they include when
a task notifies one, the templates those files name; then, until nothing new turns up, the
definitions in vars/ and defaults/ of every redis_server_* and __redis_server_* name found (a task
reading __redis_server_settings reads every variable its input lists). Comments do not count.
"""

from __future__ import annotations

import os
import re

import pytest
import yaml

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
ROLE = os.path.join(ROOT, "roles", "server")
NAME = re.compile(r"(?<!\w)(?:__)?redis_server_\w+")
JINJA_COMMENT = re.compile(r"\{#.*?#\}", re.S)
INCLUDES = ("ansible.builtin.include_tasks", "ansible.builtin.import_tasks")
TASKS_FROM = re.compile(r"""tasks_from["']?\s*[:=]\s*["']?([A-Za-z_][\w-]*)""")
# An include of another role's entry point (roles/sentinel: tests/unit/roles/test_sentinel_role.py checks those).
OTHER_ROLE_ENTRY = re.compile(r"""name:\s*redisops\.redis\.(?!server\b)\w+\s*\n\s*tasks_from:\s*\S+""")
SKIP_DIRS = {".git", ".venv", ".venv-molecule", "collections", "output", "build", "__pycache__", ".ansible"}


def load(path):
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle)


def strings(node):
    """Every key and scalar of a loaded YAML document, Jinja comments removed."""
    if isinstance(node, dict):
        for key, value in node.items():
            yield str(key)
            yield from strings(value)
    elif isinstance(node, list):
        for value in node:
            yield from strings(value)
    elif isinstance(node, str):
        yield JINJA_COMMENT.sub("", node)
    elif node is not None:
        yield str(node)


def walk(tasks):
    for task in tasks or []:
        yield task
        for key in ("block", "rescue", "always"):
            yield from walk(task.get(key))


def included(task):
    for module in INCLUDES:
        if module in task:
            target = task[module]
            target = target.get("file") if isinstance(target, dict) else target
            assert "{{" not in target, "an included task file must be named statically: %s" % target
            yield target


class Role:
    def __init__(self, path):
        self.path = path

    def tasks(self, name):
        return list(walk(load(os.path.join(self.path, "tasks", name))))

    def task_files(self, name):
        """name and every task file it includes or imports, recursively."""
        todo, found = [name], []
        while todo:
            current = todo.pop()
            if current not in found:
                found.append(current)
                todo.extend(target for task in self.tasks(current) for target in included(task))
        return found

    def texts(self, entry):
        tasks = [task for name in self.task_files(entry + ".yml") for task in self.tasks(name)]
        handlers_file = os.path.join(self.path, "handlers", "main.yml")
        if any("notify" in task for task in tasks) and os.path.exists(handlers_file):
            handlers = list(walk(load(handlers_file)))
            tasks += handlers
            for target in [target for handler in handlers for target in included(handler)]:
                tasks += [task for name in self.task_files(target) for task in self.tasks(name)]
        texts = list(strings(tasks))
        templates = os.path.join(self.path, "templates")
        for name in sorted(os.listdir(templates)) if os.path.isdir(templates) else ():
            if any(name in text for text in texts):
                with open(os.path.join(templates, name), encoding="utf-8") as handle:
                    texts.append(JINJA_COMMENT.sub("", handle.read()))
        return texts

    def definitions(self):
        found = {}
        for folder in ("vars", "defaults"):
            directory = os.path.join(self.path, folder)
            for name in sorted(os.listdir(directory)) if os.path.isdir(directory) else ():
                for key, value in (load(os.path.join(directory, name)) or {}).items():
                    found.setdefault(key, []).append(value)
        return found

    def reads(self, entry):
        """Every redis_server_* and __redis_server_* name the entry point reads, directly or through vars/defaults."""
        definitions = self.definitions()
        found, todo = set(), self.texts(entry)
        while todo:
            for name in NAME.findall(todo.pop()):
                if name not in found:
                    found.add(name)
                    todo.extend(strings(definitions.get(name, [])))
        return found

    def variables_read(self, entry):
        """The role variables (defaults/main.yml) the entry point reads."""
        defaults = load(os.path.join(self.path, "defaults", "main.yml")) or {}
        return {name for name in self.reads(entry) if name in defaults}

    def set_by_tasks(self):
        """Facts and registered results the role's tasks set, and its tags."""
        names = set()
        for name in sorted(os.listdir(os.path.join(self.path, "tasks"))):
            for task in self.tasks(name):
                names.update(task.get("ansible.builtin.set_fact") or {})
                names.add(task.get("register"))
                tags = task.get("tags") or []
                names.update([tags] if isinstance(tags, str) else tags)
        return names


SERVER = Role(ROLE)
SPECS = load(os.path.join(ROLE, "meta", "argument_specs.yml"))["argument_specs"]


def entry_points_used():
    """Entry points named by tasks_from anywhere in the repository's YAML and Markdown."""
    used = set()
    for directory, dirs, files in os.walk(ROOT):
        dirs[:] = [name for name in dirs if name not in SKIP_DIRS]
        for name in files:
            if name.endswith((".yml", ".yaml", ".md")):
                with open(os.path.join(directory, name), encoding="utf-8") as handle:
                    used.update(TASKS_FROM.findall(OTHER_ROLE_ENTRY.sub("", handle.read())))
    return used


def test_every_entry_point_in_use_has_an_argument_spec():
    used = entry_points_used()
    assert {"verify", "drift"} <= used  # playbooks/verify.yml: the scan itself works
    assert used <= set(SPECS), "tasks_from without an argument spec: %s" % sorted(used - set(SPECS))


@pytest.mark.parametrize("entry", sorted(SPECS))
def test_entry_point_has_a_task_file(entry):
    assert os.path.exists(os.path.join(ROLE, "tasks", entry + ".yml")), entry


@pytest.mark.parametrize("entry", sorted(SPECS))
def test_entry_point_spec_covers_every_variable_it_reads(entry):
    missing = SERVER.variables_read(entry) - set(SPECS[entry].get("options") or {})
    assert not missing, "roles/server/meta/argument_specs.yml %s lacks %s" % (entry, sorted(missing))


# Options an entry point has and main has not: what it is called with instead of the inventory.
OWN_OPTIONS = {"apply": {"redis_server_replicaof"}}


@pytest.mark.parametrize("entry", sorted(set(SPECS) - {"main"}))
def test_entry_point_options_are_those_of_main(entry):
    for name, option in (SPECS[entry].get("options") or {}).items():
        if name in OWN_OPTIONS.get(entry, ()):
            continue
        main = SPECS["main"]["options"][name]
        for key in ("type", "default", "elements", "choices", "no_log"):
            assert option.get(key) == main.get(key), (entry, name, key)


def test_every_name_the_role_reads_is_a_variable_a_fact_or_a_tag():
    """A misspelt variable would otherwise be read as undefined (or its default) without any spec noticing."""
    defaults = set(load(os.path.join(ROLE, "defaults", "main.yml")))
    known = defaults | SERVER.set_by_tasks() | set(SERVER.definitions())
    for entry in SPECS:
        unknown = {name for name in SERVER.reads(entry) if not name.startswith("__")} - known - OWN_OPTIONS.get(entry, set())
        assert not unknown, (entry, sorted(unknown))


def write(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "w", encoding="utf-8") as handle:
        handle.write(text)


def test_reads_follows_includes_vars_defaults_templates_and_handlers_not_comments(tmp_path):
    role = str(tmp_path)
    write(os.path.join(role, "tasks", "check.yml"), """---
# redis_server_in_a_comment
- name: Include the rest
  ansible.builtin.include_tasks: more.yml
- name: Configure
  ansible.builtin.template:
    src: main.conf.j2
    dest: /tmp/x
  notify: Restart
""")
    write(os.path.join(role, "tasks", "more.yml"), """---
- name: Use a setting
  ansible.builtin.debug:
    msg: "{{ __redis_server_settings.a }} {# redis_server_in_a_jinja_comment #}"
""")
    write(os.path.join(role, "tasks", "restart.yml"), """---
- name: Restart
  ansible.builtin.debug:
    msg: "{{ redis_server_from_restart }}"
""")
    write(os.path.join(role, "tasks", "other.yml"), """---
- name: Not included
  ansible.builtin.debug:
    msg: "{{ redis_server_elsewhere }}"
""")
    write(os.path.join(role, "handlers", "main.yml"), """---
- name: Restart
  ansible.builtin.include_tasks: restart.yml
""")
    write(os.path.join(role, "templates", "main.conf.j2"), "port {{ redis_server_from_template }}\n")
    write(os.path.join(role, "vars", "main.yml"), """---
__redis_server_settings: "{{ __redis_server_settings_input | f }}"
__redis_server_settings_input:
  a: "{{ redis_server_a }}"
""")
    write(os.path.join(role, "defaults", "main.yml"), """---
redis_server_a: "{{ redis_server_b }}"
redis_server_b: 1
redis_server_from_restart: 2
redis_server_from_template: 3
redis_server_elsewhere: 4
""")
    assert Role(role).variables_read("check") == {"redis_server_a", "redis_server_b", "redis_server_from_restart",
                                                  "redis_server_from_template"}
    assert Role(role).variables_read("other") == {"redis_server_elsewhere"}
