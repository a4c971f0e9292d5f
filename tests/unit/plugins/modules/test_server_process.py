# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""server_process's main() without processes: the two forms' arguments, check mode over a list,
and the single form's result taken from the list form's (tests/integration starts real servers)."""

from __future__ import annotations

import os

import pytest

from ansible_collections.redisops.redis.plugins.modules import server_process


@pytest.fixture
def run_server_process(monkeypatch, run_main):
    def run(args, running=()):
        """args -> result; the instances whose pid file is in running run (pid 100 + its index in running)."""
        running = list(running)
        monkeypatch.setattr(server_process, "running_pid",
                            lambda pid_file, binary: 100 + running.index(pid_file) if pid_file in running else None)
        monkeypatch.setattr(server_process, "launch", lambda *a, **k: pytest.fail("launched in check mode"))
        monkeypatch.setattr(server_process, "stop", lambda *a, **k: pytest.fail("stopped in check mode"))
        return run_main(server_process, args)
    return run


def item(name):
    return {"name": name, "config_file": "/etc/redis/redis-%s.conf" % name, "pid_file": "/run/redis/redis-%s.pid" % name}


@pytest.mark.parametrize("args, message", [
    ({}, "one of the following is required: name, instances"),
    ({"instances": [item("a")], "name": "a"}, "mutually exclusive: instances|name"),
    ({"instances": [item("a")], "login_port": 6379}, "mutually exclusive: instances|login_port"),
    ({"name": "a", "config_file": "/c"}, "parameters are required together: name, config_file, pid_file"),
    ({"instances": [{"name": "a", "pid_file": "/p"}]}, "missing required arguments: config_file"),
])
def test_arguments_of_the_two_forms(run_server_process, args, message):
    result = run_server_process(args)
    assert result["failed"] and message in result["msg"], result


def test_check_mode_over_a_list_says_which_would_start_and_changes_nothing(run_server_process):
    items = [item("a"), item("b"), item("c")]
    result = run_server_process({"instances": items, "_ansible_check_mode": True}, running=[items[1]["pid_file"]])
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
def test_single_form_in_check_mode_returns_its_result_at_the_top(run_server_process, state, running, expected):
    args = dict(item("a"), state=state, _ansible_check_mode=True)
    result = run_server_process(args, running=[args["pid_file"]] if running else [])
    assert {key: result[key] for key in expected} == expected
    assert "instances" not in result
    assert os.path.basename(args["pid_file"]) == "redis-a.pid"


@pytest.mark.parametrize("names", [("login_host", "login_port"), ("address", "port")])
def test_a_start_probes_login_host_and_login_port_address_and_port_being_deprecated_aliases(run_main, monkeypatch,
                                                                                            names):
    probed = []
    monkeypatch.setattr(server_process, "running_pid", lambda pid_file, binary: None)
    monkeypatch.setattr(server_process, "launch", lambda *a, **k: probed.append(("launch", k["address"], k["port"])))
    monkeypatch.setattr(server_process, "wait_ready", lambda *a, **k: probed.append(("wait", k["address"], k["port"])) or 42)
    host, port = names
    assert server_process.instance_spec()["login_host"]["deprecated_aliases"][0]["name"] == "address"
    result = run_main(server_process, dict(item("a"), **{host: "10.0.0.12", port: 6380}))
    assert not result["failed"] and result["pid"] == 42
    assert probed == [("launch", "10.0.0.12", 6380), ("wait", "10.0.0.12", 6380)]
    items = run_main(server_process, {"instances": [dict(item("b"), **{port: 6381})], host: "10.0.0.13"})
    assert not items["failed"] and probed[-1] == ("wait", "10.0.0.13", 6381)
