"""replication_info's binary_version (a replaced server program) with a fake client over recorded INFO."""

from __future__ import annotations

from ansible_collections.redisops.redis.plugins.modules import replication_info

NEW_7015 = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0"
OLD_7015 = "Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=e08dbad3e06f3fb"


def test_the_running_build_is_returned_and_compared(run_main, fake_client):
    result = run_main(replication_info, {"login_port": 16379, "binary_version": NEW_7015},
                      fake_client("redis-7.0-master.txt"))
    assert result["failed"] is False and result["changed"] is False
    assert result["server"]["build_id"] == "ae4d7c971a948f0"
    assert result["server"]["executable"] == "/usr/bin/redis-server"
    assert result["pending_restart"] == []


def test_another_build_on_disk_is_a_pending_restart(run_main, fake_client):
    result = run_main(replication_info, {"login_port": 16379, "binary_version": OLD_7015},
                      fake_client("redis-7.0-master.txt"))
    assert result["pending_restart"] == [{
        "directive": "binary", "file": "redis-server 7.0.15 build e08dbad3e06f3fb",
        "running": "redis-server 7.0.15 build ae4d7c971a948f0",
        "msg": "runs redis-server 7.0.15 build ae4d7c971a948f0 (/usr/bin/redis-server), the installed binary is "
               "redis-server 7.0.15 build e08dbad3e06f3fb: a restart runs the installed one"}]


def test_without_binary_version_nothing_is_compared(run_main, fake_client):
    result = run_main(replication_info, {"login_port": 16379}, fake_client("redis-7.0-master.txt"))
    assert "pending_restart" not in result
    missing = run_main(replication_info, {"login_port": 16379, "binary_version": ""}, fake_client("redis-7.0-master.txt"))
    assert "pending_restart" not in missing
