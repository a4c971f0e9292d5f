# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_info on this machine, through ansible-playbook: the facts equal the setup module's, the
package query equals dpkg-query's, the version is what the real redis-server prints."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from harness import REDIS_SERVER, ansible_env, run_module

BINARY = shutil.which(REDIS_SERVER)


def setup_facts():
    """os_family and service_mgr as ansible.builtin.setup (min subset) reports them here."""
    proc = subprocess.run(["ansible", "localhost", "-c", "local", "-m", "ansible.builtin.setup", "-a",
                           "gather_subset=!all,min", "-o"], capture_output=True, text=True, env=ansible_env(),
                          check=True)
    facts = json.loads(proc.stdout.split("=>", 1)[1])["ansible_facts"]
    return {"os_family": facts["ansible_os_family"], "service_mgr": facts["ansible_service_mgr"]}


def dpkg_installed(name):
    proc = subprocess.run(["dpkg-query", "--show", "--showformat=${db:Status-Status}", name],
                          capture_output=True, text=True, check=False)
    return proc.stdout == "installed"


@pytest.mark.parametrize("check", [False, True])
def test_facts_packages_and_version(check):
    wanted = ["redis-server", "python3-redis", "redisops-no-such-package"]
    result = run_module("host_info", {"binary": BINARY, "packages": wanted}, check=check)
    assert not result.get("failed"), result
    assert result["changed"] is False
    assert result["ansible_facts"] == setup_facts()
    assert result["packages"]["manager"] == "dpkg-query"
    assert result["packages"]["installed"] == [name for name in wanted if dpkg_installed(name)]
    assert "redisops-no-such-package" in result["packages"]["missing"]
    printed = subprocess.run([BINARY, "--version"], capture_output=True, text=True, check=True).stdout.strip()
    assert result["server"]["output"] == printed
    assert result["server"]["installed"] is True
    assert "v=%s " % result["server"]["version"] in printed
    assert result["server"]["flavor"] in ("redis", "valkey")


def test_missing_server_program_is_reported():
    result = run_module("host_info", {"binary": "/usr/bin/redisops-no-such-server", "facts": False})
    assert not result.get("failed"), result
    assert "ansible_facts" not in result
    assert (result["server"]["installed"], result["server"]["version"]) == (False, "")
    assert "No such file" in result["server"]["msg"]
