# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""host_info's pure parts: the package query of the host's package manager and its output."""

from __future__ import annotations


from ansible_collections.redisops.redis.plugins.module_utils.host_info import (
    LIVE_FILE,
    MAIN_FILE,
    PID_FILE,
    has_checksum_header,
    installed_packages,
    matching_files,
    unit_names,
    package_query,
    package_status,
    unique,
)


DPKG_OUTPUT = "installed redis-server\nconfig-files redis-tools\ninstalled python3-redis\n"
RPM_OUTPUT = "installed redis\npackage python3-redis is not installed\n"


def test_dpkg_query_output():
    assert installed_packages(DPKG_OUTPUT) == ["redis-server", "python3-redis"]
    wanted = ["redis-tools", "redis-server", "redis", "python3-redis"]
    assert package_status(wanted, DPKG_OUTPUT) == {"installed": ["redis-server", "python3-redis"],
                                                   "missing": ["redis-tools", "redis"]}


def test_rpm_output():
    expected = {"installed": ["redis"], "missing": ["python3-redis"]}
    assert package_status(["redis", "python3-redis"], RPM_OUTPUT) == expected


def test_nothing_printed_means_all_missing():
    assert package_status(["a", "b"], "") == {"installed": [], "missing": ["a", "b"]}


def test_package_query_prefers_dpkg_query_then_rpm():
    both = {"dpkg-query": "/usr/bin/dpkg-query", "rpm": "/usr/bin/rpm"}
    tool, argv = package_query(both.get)
    assert tool == "dpkg-query"
    assert argv == ["/usr/bin/dpkg-query", "--show", "--showformat=${db:Status-Status} ${Package}\n"]
    tool, argv = package_query({"rpm": "/bin/rpm"}.get)
    assert (tool, argv) == ("rpm", ["/bin/rpm", "--query", "--queryformat", "installed %{NAME}\n"])
    assert package_query({}.get) == (None, None)


def test_unique_keeps_the_first_order():
    assert unique(["b", "a", "b", "c", "a"]) == ["b", "a", "c"]


def test_instance_traces_helpers():
    names = ["redis-a.conf", "redis-a.live.conf", "redis.conf", "redis-b.pid", "sentinel.conf"]
    assert matching_files("/etc/redis/", names, MAIN_FILE, LIVE_FILE) == ["/etc/redis/redis-a.conf"]
    assert matching_files("/run/redis", names, PID_FILE) == ["/run/redis/redis-b.pid"]
    assert has_checksum_header("# Managed\n# redisops.redis content sha256: ab\nport 1\n")
    assert not has_checksum_header("port 1\n# not redisops.redis content sha256: ab\n")
    assert unit_names("redis-instance@a.service loaded active running A\n\n") == ["redis-instance@a.service"]
