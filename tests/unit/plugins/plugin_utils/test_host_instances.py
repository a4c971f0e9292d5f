"""Instances found on a host against the inventory (plugins/plugin_utils/host_instances.py)."""

from __future__ import annotations

from ansible_collections.redisops.redis.plugins.plugin_utils.host_instances import found_instances, unmanaged_instances


def test_traces_are_joined_by_name():
    found = found_instances(conf_files=["/etc/redis/redis-old.conf", "/etc/redis/redis-main.conf"],
                            pid_files=["/run/redis/redis-old.pid", "/run/redis/redis-server.pid"],
                            units=["redis-instance@gone.service", "redis-server.service"])
    assert found == {
        "gone": ["systemd unit redis-instance@gone.service"],
        "main": ["configuration file /etc/redis/redis-main.conf"],
        "old": ["configuration file /etc/redis/redis-old.conf", "pid file /run/redis/redis-old.pid"],
    }


def test_live_files_and_other_names_are_not_instances():
    assert found_instances(conf_files=["/etc/redis/redis-main.live.conf", "/etc/redis/redis.conf",
                                       "/etc/redis/redis-Upper.conf"]) == {}


def test_unknown_names_are_unmanaged_and_absent_ones_not_retired_yet():
    found = found_instances(conf_files=["/e/redis-main.conf", "/e/redis-old.conf", "/e/redis-gone.conf"])
    result = unmanaged_instances(found, present=["main"], retired=["gone"])
    assert [(item["name"], item["retired"]) for item in result] == [("gone", True), ("old", False)]
    assert result[1]["msg"] == ("instance old runs but is not in the inventory (configuration file /e/redis-old.conf);"
                                " set state: absent to retire it")
    assert "state: absent but is not retired yet" in result[0]["msg"] and "run site.yml" in result[0]["msg"]


def test_nothing_found_nothing_reported():
    assert unmanaged_instances(found_instances(), present=["main"]) == []
