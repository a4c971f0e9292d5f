# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_info's main(): the facts of the setup module's collectors, the package query run once
with every wanted name, the server program's version, read-only in check mode too."""

from __future__ import annotations

import os
import stat

import pytest

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.redis.plugins.modules import host_info


# run_main: tests/unit/plugins/modules/conftest.py (host_info opens no client).


@pytest.fixture
def fake_host(monkeypatch, tmp_path):
    """A host with dpkg-query (a script printing what a host with redis-server installed prints)."""
    calls = []
    query = tmp_path / "dpkg-query"
    query.write_text("#!/bin/sh\nshift 2\nfor name; do case $name in redis-server|python3-redis) "
                     "echo \"installed $name\";; *) echo \"dpkg-query: no packages found matching $name\" >&2;; "
                     "esac; done\nexit 1\n")
    query.chmod(0o755)
    real_get_bin_path = AnsibleModule.get_bin_path

    def get_bin_path(self, name, *args, **kwargs):
        calls.append(name)
        return str(query) if name == "dpkg-query" else None if name == "rpm" else real_get_bin_path(self, name, *args, **kwargs)

    monkeypatch.setattr(AnsibleModule, "get_bin_path", get_bin_path)
    return calls


def server(tmp_path, output):
    path = tmp_path / "redis-server"
    path.write_text("#!/bin/sh\n[ \"$1\" = --version ] && echo '%s'\n" % output)
    path.chmod(path.stat().st_mode | stat.S_IXUSR)
    return str(path)


@pytest.mark.parametrize("check", [False, True])
def test_facts_packages_and_version_in_one_run(run_main, fake_host, tmp_path, check):
    binary = server(tmp_path, "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1")
    args = {"binary": binary, "packages": ["redis-server", "redis", "python3-redis", "redis-server"]}
    if check:
        args["_ansible_check_mode"] = True
    result = run_main(host_info, args)
    assert result["failed"] is False and result["changed"] is False
    assert set(result["ansible_facts"]) == {"os_family", "service_mgr"}
    assert result["ansible_facts"]["os_family"]  # this machine's, whatever it is
    assert result["packages"] == {"manager": "dpkg-query", "installed": ["redis-server", "python3-redis"],
                                  "missing": ["redis"]}
    assert result["server"] == {"binary": binary, "installed": True, "version": "7.0.15", "flavor": "redis",
                                "output": "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=1"}


def test_missing_program_is_reported_not_failed(run_main, fake_host, tmp_path):
    missing = str(tmp_path / "no-such-server")
    result = run_main(host_info, {"binary": missing, "facts": False})
    assert result["failed"] is False
    assert "ansible_facts" not in result
    assert result["server"]["installed"] is False and result["server"]["version"] == ""
    assert "No such file" in result["server"]["msg"]


def test_program_that_prints_no_version(run_main, fake_host, tmp_path):
    result = run_main(host_info, {"binary": server(tmp_path, "hello"), "facts": False})
    assert (result["server"]["installed"], result["server"]["msg"]) == (False, "hello")


def test_host_without_a_package_query_has_every_package_missing(run_main, monkeypatch):
    monkeypatch.setattr(AnsibleModule, "get_bin_path", lambda self, name, *args, **kwargs: None)
    result = run_main(host_info, {"packages": ["redis", "python3-redis"], "facts": False})
    assert result["packages"] == {"manager": None, "installed": [], "missing": ["redis", "python3-redis"]}
    assert "server" not in result


def test_no_packages_runs_no_query(run_main, fake_host, monkeypatch):
    monkeypatch.setattr(AnsibleModule, "run_command", lambda *args, **kwargs: pytest.fail("ran %r" % (args,)))
    result = run_main(host_info, {"facts": False})
    assert result["packages"] == {"manager": "dpkg-query", "installed": [], "missing": []}
    assert os.path.basename(fake_host[0]) == "dpkg-query"


def test_instance_traces_and_failover_record(run_main, fake_host, tmp_path, monkeypatch):
    conf_dir, run_dir = tmp_path / "etc", tmp_path / "run"
    conf_dir.mkdir()
    run_dir.mkdir()
    header = "# redisops.redis content sha256: 0123\n"
    (conf_dir / "redis-main.conf").write_text(header + "port 6379\n")
    (conf_dir / "redis-main.live.conf").write_text(header)  # a live file is no main file
    (conf_dir / "redis-hand.conf").write_text("port 6380\n")  # not the role's: no header
    (conf_dir / "redis.conf").write_text(header)  # not an instance's name
    (conf_dir / "redis-failover.yml").write_text("replicaof: {}\n")
    (run_dir / "redis-main.pid").write_text("1\n")
    (run_dir / "redis-server.pid").write_text("1\n")
    (run_dir / "other.pid").write_text("1\n")
    monkeypatch.setattr(AnsibleModule, "run_command",
                        lambda self, argv, **kwargs: (0, "redis-instance@main.service loaded active running x\n", ""))
    systemctl = tmp_path / "systemctl"
    systemctl.write_text("")
    real = AnsibleModule.get_bin_path
    monkeypatch.setattr(AnsibleModule, "get_bin_path",
                        lambda self, name, *a, **k: str(systemctl) if name == "systemctl" else real(self, name, *a, **k))
    result = run_main(host_info, {"facts": False, "instance_traces": {"conf_dir": str(conf_dir), "run_dir": str(run_dir)},
                                  "failover_record": str(conf_dir / "redis-failover.yml")})
    assert result["instance_traces"] == {"config_files": [str(conf_dir / "redis-main.conf")],
                                         "pid_files": [str(run_dir / "redis-main.pid"), str(run_dir / "redis-server.pid")],
                                         "units": ["redis-instance@main.service"]}
    assert result["failover_record"] == {"path": str(conf_dir / "redis-failover.yml"), "content": "replicaof: {}\n"}


def test_traces_of_a_host_without_them(run_main, fake_host, tmp_path, monkeypatch):
    # No directories yet, systemctl failing (no systemd as PID 1): nothing found, nothing failed.
    monkeypatch.setattr(AnsibleModule, "run_command", lambda self, argv, **kwargs: (1, "", "System has not been booted"))
    result = run_main(host_info, {"facts": False, "instance_traces": {"conf_dir": str(tmp_path / "none"),
                                                                      "run_dir": str(tmp_path / "none")},
                                  "failover_record": str(tmp_path / "none" / "redis-failover.yml")})
    assert result["instance_traces"]["config_files"] == [] and result["instance_traces"]["pid_files"] == []
    assert result["instance_traces"]["units"] == []
    assert result["failover_record"]["content"] is None
