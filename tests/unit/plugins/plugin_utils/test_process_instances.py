# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The items of server_process's instances option, by instance name."""

from __future__ import annotations

from ansible_collections.redisops.redis.plugins.plugin_utils.process_instances import process_instances

RESOLVED = [
    {"name": "master", "port": 6379, "login_host": "127.0.0.1", "role": "master"},
    {"name": "replica", "port": 6479, "login_host": "10.0.0.5", "role": "replica"},
]


def test_items_carry_the_role_paths_of_each_instance():
    assert process_instances(RESOLVED, "/etc/redis/", "/run/redis", "/var/log/redis") == [
        {"name": "master", "config_file": "/etc/redis/redis-master.conf", "pid_file": "/run/redis/redis-master.pid",
         "log_file": "/var/log/redis/redis-master.log", "address": "127.0.0.1", "port": 6379},
        {"name": "replica", "config_file": "/etc/redis/redis-replica.conf", "pid_file": "/run/redis/redis-replica.pid",
         "log_file": "/var/log/redis/redis-replica.log", "address": "10.0.0.5", "port": 6479},
    ]


def test_skipped_names_are_left_out():
    assert [item["name"] for item in process_instances(RESOLVED, "/c", "/r", "/l", skip=["master"])] == ["replica"]
    assert process_instances(RESOLVED, "/c", "/r", "/l", skip=["master", "replica"]) == []
    assert process_instances([], "/c", "/r", "/l") == []
