"""main() of replication_info with a fake redis client."""

from __future__ import annotations

import pytest
import redis

from ansible_collections.redisops.redis.plugins.module_utils.connection import refused_login_message

from ansible_collections.redisops.redis.plugins.module_utils.replication import STATE_KEYS
from ansible_collections.redisops.redis.plugins.modules import replication_info


def test_returns_the_server_and_the_normalised_state(run_main, fake_client):
    client = fake_client("valkey-8.1-replica.txt")
    result = run_main(replication_info, {"login_port": 16479, "login_password": "secret"}, client)
    assert result["failed"] is False and result["changed"] is False
    assert {key: result["server"][key] for key in ("name", "version")} == {"name": "valkey", "version": "8.1.1"}
    assert tuple(result["replication"]) == STATE_KEYS
    assert result["replication"]["role"] == "replica"
    assert result["replication"]["master_port"] == 16379
    assert client.sections == ["server", "replication", "persistence"]
    assert result["aof_enabled"] is False  # the recorded INFO has no persistence section


def test_check_mode_reads_the_same(run_main, fake_client):
    result = run_main(replication_info, {"_ansible_check_mode": True}, fake_client("redis-4.0-master.txt"))
    assert result["failed"] is False and result["changed"] is False
    assert result["replication"]["replicas"] == [{"ip": "127.0.0.1", "port": 6479, "state": "online", "offset": 0, "lag": 1}]


def test_a_refused_info_fails_naming_the_endpoint(run_main, fake_client):
    client = fake_client(redis.exceptions.NoPermissionError("this user has no permissions to run the 'info' command"))
    result = run_main(replication_info, {"login_host": "10.0.0.3", "login_user": "monitor"}, client)
    assert result["failed"] is True
    assert result["msg"] == ("Cannot read INFO from 10.0.0.3:6379: this user has no permissions to run the 'info' "
                             "command")


def test_several_instances_in_one_call_each_read_or_with_its_error(run_main, fake_client):
    clients = {16379: fake_client("redis-7.0-master.txt"), 16479: fake_client("redis-7.0-replica.txt"),
               16480: fake_client(redis.exceptions.ConnectionError("Connection refused."))}
    args = {"login_password": "secret", "directives": ["maxmemory"], "instances": [
        {"instance": "master", "login_port": 16379, "directives": ["no-such-directive", "maxmemory"]},
        {"instance": "replica", "login_port": 16479},
        {"login_port": 16480},
    ]}
    result = run_main(replication_info, args, clients)
    assert result["failed"] is False and result["changed"] is False
    master, replica, stopped = result["instances"]
    assert master["instance"] == "master" and master["replication"]["role"] == "master"
    assert master["unknown_directives"] == ["no-such-directive"] and replica["unknown_directives"] == []
    assert replica["replication"]["master_link_status"] == "up" and replica["server"]["version"] == "7.0.15"
    assert stopped == {"instance": "127.0.0.1:16480", "error": "Cannot connect to 127.0.0.1:16480: Connection refused."}
    assert all(client.closed for client in clients.values())


def test_config_file_returns_the_directives_a_restart_would_apply(run_main, fake_client, tmp_path):
    """The file is newer than the process (uptime in the recorded INFO): its port is pending."""
    conf = tmp_path / "redis-main.conf"
    conf.write_text("port 7001\nmaxmemory 1mb\nrename-command FLUSHALL \"\"\n")
    client = fake_client("redis-7.0-master.txt")
    running = {"port": "7000", "maxmemory": "1048576"}
    client.config_get = lambda name: {name: running[name]} if name in running else {}
    result = run_main(replication_info, {"config_file": str(conf)}, client)
    assert result["pending_restart"] == [{"directive": "port", "file": "7001", "running": "7000"}]
    missing = run_main(replication_info, {"config_file": str(tmp_path / "absent.conf")}, client)
    assert missing["failed"] is False and missing["pending_restart"] == []


def test_the_single_instance_form_is_the_one_item_list(run_main, fake_client):
    """The top-level options run as an instances list of one; the result of that one at the top level."""
    single = run_main(replication_info, {"login_port": 16479, "instance": "replica"}, fake_client("redis-7.0-replica.txt"))
    listed = run_main(replication_info, {"instances": [{"login_port": 16479, "instance": "replica"}]},
                      fake_client("redis-7.0-replica.txt"))
    [item] = listed["instances"]
    assert {key: value for key, value in single.items() if key not in ("changed", "failed", "warnings")} == item


@pytest.mark.parametrize("previous", [[], ["old"]])
def test_a_refused_login_fails_the_single_form_and_flags_an_item(run_main, fake_client, previous):
    refused = redis.exceptions.AuthenticationError("invalid username-password pair or user is disabled.")
    args = {"login_port": 16479, "login_password": "wrong", "previous_passwords": previous}
    message = refused_login_message(dict(args, login_host="127.0.0.1"), refused, len(previous))
    single = run_main(replication_info, args, fake_client(refused))
    assert (single["failed"], single["login_refused"], single["msg"]) == (True, True, message)
    listed = run_main(replication_info, dict(args, instances=[{"instance": "main"}]), fake_client(refused))
    assert listed["failed"] is False
    assert listed["instances"] == [{"instance": "main", "login_refused": True, "error": message}]
