# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""server_process's main() without processes: the two forms' arguments, check mode over a list,
and the single form's result taken from the list form's (tests/integration starts real servers)."""

from __future__ import annotations

import os

import pytest

from ansible.module_utils.basic import AnsibleModule
from ansible.module_utils.testing import patch_module_args

from ansible_collections.redisops.redis.plugins.modules import server_process


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


@pytest.fixture
def run_main(monkeypatch):
    def exit_json(self, **result):
        raise ModuleExit(dict(result, failed=False))

    def fail_json(self, msg, **result):
        raise ModuleExit(dict(result, failed=True, msg=msg))

    def run(args, running=()):
        """args -> result; the instances whose pid file is in running run (pid 100 + its index in running)."""
        monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)
        running = list(running)
        monkeypatch.setattr(server_process, "running_pid",
                            lambda pid_file, binary: 100 + running.index(pid_file) if pid_file in running else None)
        monkeypatch.setattr(server_process, "launch", lambda *a, **k: pytest.fail("launched in check mode"))
        monkeypatch.setattr(server_process, "stop", lambda *a, **k: pytest.fail("stopped in check mode"))
        with patch_module_args(args), pytest.raises(ModuleExit) as raised:
            server_process.main()
        return raised.value.result
    return run


def item(name):
    return {"name": name, "config_file": "/etc/redis/redis-%s.conf" % name, "pid_file": "/run/redis/redis-%s.pid" % name}


@pytest.mark.parametrize("args, message", [
    ({}, "one of the following is required: name, instances"),
    ({"instances": [item("a")], "name": "a"}, "mutually exclusive: instances|name"),
    ({"instances": [item("a")], "port": 6379}, "mutually exclusive: instances|port"),
    ({"name": "a", "config_file": "/c"}, "parameters are required together: name, config_file, pid_file"),
    ({"instances": [{"name": "a", "pid_file": "/p"}]}, "missing required arguments: config_file"),
])
def test_arguments_of_the_two_forms(run_main, args, message):
    result = run_main(args)
    assert result["failed"] and message in result["msg"], result


def test_check_mode_over_a_list_says_which_would_start_and_changes_nothing(run_main):
    items = [item("a"), item("b"), item("c")]
    result = run_main({"instances": items, "_ansible_check_mode": True}, running=[items[1]["pid_file"]])
    assert result["changed"] and not result["failed"]
    assert [(r["name"], r["changed"], r["state"], r["pid"], r["previous_pid"]) for r in result["instances"]] == [
        ("a", True, "running", None, None), ("b", False, "running", 100, 100), ("c", True, "running", None, None)]


@pytest.mark.parametrize("state, running, expected", [
    ("started", True, {"changed": False, "state": "running", "pid": 100, "previous_pid": 100}),
    ("started", False, {"changed": True, "state": "running", "pid": None, "previous_pid": None}),
    ("stopped", True, {"changed": True, "state": "stopped", "pid": None, "previous_pid": 100}),
    ("stopped", False, {"changed": False, "state": "stopped", "pid": None, "previous_pid": None}),
    ("restarted", True, {"changed": True, "state": "running", "pid": None, "previous_pid": 100}),
])
def test_single_form_in_check_mode_returns_its_result_at_the_top(run_main, state, running, expected):
    args = dict(item("a"), state=state, _ansible_check_mode=True)
    result = run_main(args, running=[args["pid_file"]] if running else [])
    assert {key: result[key] for key in expected} == expected
    assert "instances" not in result
    assert os.path.basename(args["pid_file"]) == "redis-a.pid"
