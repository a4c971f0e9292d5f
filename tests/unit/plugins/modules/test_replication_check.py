"""main() of replication_check with a fake redis client."""

from __future__ import annotations

import os
import shutil

import pytest
import redis

from ansible_collections.redisops.redis.plugins.module_utils.connection import refused_login_message
from ansible_collections.redisops.redis.plugins.modules import replication_check

LOGS = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))), "fixtures", "logs")
REPLICA = {"login_port": 16479, "role": "replica", "master_host": "127.0.0.1", "master_port": 16379,
           "interval": 0.01}


def test_success_returns_the_state_and_changes_nothing(run_main, fake_client):
    result = run_main(replication_check, dict(REPLICA, read_only=True), fake_client("redis-8.0-replica.txt"))
    assert result["failed"] is False and result["changed"] is False
    assert result["mismatches"] == [] and result["attempts"] == 1
    assert result["state"]["master_link_status"] == "up"
    assert result["server"] == {"name": "redis", "version": "8.0.2"}


def test_waits_until_the_link_is_up(run_main, fake_client):
    client = fake_client("redis-7.0-replica-auth-failed.txt", "redis-7.0-replica-syncing.txt", "redis-7.0-replica.txt")
    result = run_main(replication_check, dict(REPLICA, timeout=5), client)
    assert result["failed"] is False and result["attempts"] == 3


def test_check_mode_checks_too(run_main, fake_client):
    result = run_main(replication_check, dict(REPLICA, timeout=0, _ansible_check_mode=True),
                      fake_client("redis-7.0-replica-master-down.txt"))
    assert result["failed"] is True and result["changed"] is False


def test_master_expecting_its_replicas(run_main, fake_client):
    args = {"role": "master", "replicas": [{"host": "127.0.0.1", "port": 16479}, {"host": "127.0.0.1", "port": 16480}],
            "timeout": 0, "instance": "db1/master"}
    result = run_main(replication_check, args, fake_client("redis-6.0-master.txt"))
    assert result["msg"] == ("db1/master: replicas: expected 127.0.0.1:16480 online, found it not connected "
                             "(connected: 127.0.0.1:16479 online; the master's backlog holds offsets 1 to 128: "
                             "a replica returning within it resyncs partially) (after 0.0s, 1 attempt)")
    assert result["mismatches"] == [result["msg"][len("db1/master: "):-len(" (after 0.0s, 1 attempt)")]]


def test_every_mismatch_is_listed_with_the_endpoint_as_instance(run_main, fake_client):
    args = dict(REPLICA, master_host="10.0.0.1", master_port=6379, read_only=False, timeout=0)
    result = run_main(replication_check, args, fake_client("redis-7.0-replica.txt"))
    assert result["msg"] == ("127.0.0.1:16479: master_host: expected 10.0.0.1, found 127.0.0.1; master_port: "
                             "expected 6379, found 16379; read_only: expected false, found true (after 0.0s, 1 attempt)")
    assert len(result["mismatches"]) == 3


@pytest.mark.parametrize("log, reason, hint", [
    ("valkey-8.1-wrong-masterauth.log",
     "Unable to AUTH to PRIMARY: -WRONGPASS invalid username-password pair or user is disabled.", "masterauth"),
    ("redis-6.2-master-down.log", "Error condition on socket for SYNC: Connection refused", "is running"),
])
def test_a_link_down_is_explained_from_the_log(run_main, fake_client, tmp_path, log, reason, hint):
    log_file = str(tmp_path / "redis-replica.log")
    shutil.copy(os.path.join(LOGS, log), log_file)
    result = run_main(replication_check, dict(REPLICA, timeout=0, log_file=log_file),
                      fake_client("redis-6.2-replica-master-down.txt"))
    assert result["link_down_reason"] == reason
    prefix = "127.0.0.1:16479: master_link_status: expected up, found down (down for 3s), replica at offset 128 (after 0.0s, 1 attempt). "
    assert result["msg"].startswith(prefix + "Last replication error in %s: %s " % (log_file, reason))
    assert hint in result["msg"][len(prefix):]


def test_only_the_tail_of_a_long_log_is_read(run_main, fake_client, tmp_path):
    log_file = tmp_path / "redis-replica.log"
    with open(os.path.join(LOGS, "redis-7.0-wrong-masterauth.log")) as handle:
        log_file.write_text("x" * (2 * replication_check.LOG_TAIL_BYTES) + "\n" + handle.read())
    result = run_main(replication_check, dict(REPLICA, timeout=0, log_file=str(log_file)),
                      fake_client("redis-7.0-replica-auth-failed.txt"))
    assert result["link_down_reason"].startswith("Unable to AUTH to MASTER")


def test_an_unreadable_log_file_is_a_warning(run_main, fake_client, tmp_path):
    missing = str(tmp_path / "missing.log")
    result = run_main(replication_check, dict(REPLICA, timeout=0, log_file=missing),
                      fake_client("redis-7.0-replica-auth-failed.txt"))
    assert result["failed"] is True and "link_down_reason" not in result
    assert result["msg"].endswith("(after 0.0s, 1 attempt)")
    [warning] = result["warnings"]
    assert warning.startswith("Cannot read log_file %s" % missing)


def test_the_log_is_not_read_when_the_link_is_up(run_main, fake_client, tmp_path):
    result = run_main(replication_check, dict(REPLICA, read_only=False, timeout=0, log_file=str(tmp_path / "none.log")),
                      fake_client("redis-7.0-replica.txt"))
    assert result["failed"] is True and result["warnings"] == []


def test_connection_failures_are_retried(run_main, fake_client):
    client = fake_client(redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:16479. Connection refused."),
                         redis.exceptions.BusyLoadingError("Redis is loading the dataset in memory"),
                         "redis-7.0-replica.txt")
    result = run_main(replication_check, dict(REPLICA, timeout=5), client)
    assert result["failed"] is False and result["attempts"] == 3


def test_a_connection_failure_at_the_end_is_reported(run_main, fake_client):
    client = fake_client("redis-7.0-replica.txt", redis.exceptions.TimeoutError("Timeout reading from socket"))
    result = run_main(replication_check, dict(REPLICA, read_only=False, timeout=0.05), client)
    assert result["failed"] is True and result["state"] is None
    assert result["mismatches"] == ["cannot connect: Timeout reading from socket"]
    assert result["msg"].startswith("127.0.0.1:16479: cannot connect: Timeout reading from socket (after 0.")


def test_a_refused_login_is_not_retried(run_main, fake_client):
    client = fake_client(redis.exceptions.AuthenticationError("invalid username-password pair"))
    result = run_main(replication_check, dict(REPLICA, timeout=30), client)
    message = refused_login_message(dict(REPLICA, login_host="127.0.0.1"), "invalid username-password pair")
    assert result["msg"] == "127.0.0.1:16479: %s (after 0.0s, 1 attempt)" % message
    assert result["attempts"] == 1


@pytest.mark.parametrize("args, message", [
    ({"role": "replica", "master_host": "127.0.0.1"}, "role is replica but all of the following are missing: master_port"),
    ({"role": "master", "replicas": [{"host": "127.0.0.1"}]}, "missing required arguments: port found in replicas"),
    ({"role": "primary"}, "value of role must be one of: master, replica, got: primary"),
])
def test_invalid_arguments(run_main, fake_client, args, message):
    result = run_main(replication_check, args, fake_client("redis-7.0-replica.txt"))
    assert result["failed"] is True and result["msg"] == message


# --- several instances in one call ---------------------------------------------------------------

MASTER_AND_REPLICA = [
    {"instance": "master", "login_port": 16379, "role": "master", "min_replicas": 1},
    {"instance": "replica", "login_port": 16479, "role": "replica", "master_host": "127.0.0.1", "master_port": 16379},
]


def test_several_instances_pass_in_one_call(run_main, fake_client):
    clients = {16379: fake_client("redis-7.0-master.txt"), 16479: fake_client("redis-7.0-replica.txt")}
    result = run_main(replication_check, {"instances": MASTER_AND_REPLICA, "interval": 0.01}, clients)
    assert result["failed"] is False and result["changed"] is False and result["mismatches"] == []
    assert [entry["instance"] for entry in result["instances"]] == ["master", "replica"]
    assert result["instances"][1]["state"]["master_link_status"] == "up"
    assert result["instances"][0]["server"] == {"name": "redis", "version": "7.0.15"}


def test_several_instances_wait_for_the_slowest_and_read_the_others_once(run_main, fake_client):
    replica = fake_client("redis-7.0-replica-syncing.txt", "redis-7.0-replica-syncing.txt", "redis-7.0-replica.txt")
    clients = {16379: fake_client("redis-7.0-master.txt"), 16479: replica}
    result = run_main(replication_check, {"instances": MASTER_AND_REPLICA, "timeout": 5, "interval": 0.01}, clients)
    assert result["failed"] is False
    assert [entry["attempts"] for entry in result["instances"]] == [1, 3]


def test_several_instances_fail_naming_each_one_that_differs(run_main, fake_client):
    clients = {16379: fake_client("redis-7.0-master.txt"), 16479: fake_client("redis-7.0-replica-master-down.txt")}
    instances = MASTER_AND_REPLICA + [dict(MASTER_AND_REPLICA[1], instance="replica2", login_port=16480)]
    clients[16480] = fake_client(redis.exceptions.AuthenticationError("invalid username-password pair"))
    result = run_main(replication_check, {"instances": instances, "timeout": 0}, clients)
    assert result["failed"] is True
    assert result["msg"].startswith("replica: master_link_status: expected up, found down")
    assert " | replica2: 127.0.0.1:16480 refused the login of user 'default' with no password: invalid " \
           "username-password pair. Fix: give login_password the password the instance has" in result["msg"]
    assert "master:" not in result["msg"]
    assert [bool(entry["mismatches"]) for entry in result["instances"]] == [False, True, True]
    assert result["mismatches"][0].startswith("replica: master_link_status")


@pytest.mark.parametrize("args, message", [
    ({"instances": MASTER_AND_REPLICA, "role": "master"}, "mutually exclusive: role|instances"),
    ({"instances": [{"role": "replica", "master_host": "127.0.0.1"}]}, "master_port"),
    ({}, "one of the following is required: role, instances"),
])
def test_several_instances_invalid_arguments(run_main, fake_client, args, message):
    result = run_main(replication_check, args, fake_client("redis-7.0-replica.txt"))
    assert result["failed"] is True and message in result["msg"], result["msg"]


def test_the_single_instance_form_is_the_one_item_list(run_main, fake_client):
    """Its result is the one item's, at the top level; it fails with that item's message."""
    args = dict(REPLICA, instance="replica", read_only=False, timeout=0)
    single = run_main(replication_check, args, fake_client("redis-7.0-replica.txt"))
    listed = run_main(replication_check, {"timeout": 0, "instances": [{key: value for key, value in args.items()
                                                                       if key not in ("timeout", "interval")}]},
                      fake_client("redis-7.0-replica.txt"))
    [item] = listed["instances"]
    assert single["msg"] == item["msg"] == listed["msg"]
    assert {key: single[key] for key in item if key != "elapsed"} == {key: item[key] for key in item if key != "elapsed"}


def test_the_single_form_waits_for_an_instance_that_does_not_answer_yet(run_main, fake_client):
    client = fake_client(redis.exceptions.ConnectionError("Error 111 connecting to 127.0.0.1:16479. Connection refused."),
                         "redis-7.0-replica.txt")
    result = run_main(replication_check, dict(REPLICA, timeout=5), client)
    assert result["failed"] is False and result["attempts"] == 2


def test_a_refused_info_is_not_retried_and_names_the_endpoint(run_main, fake_client):
    client = fake_client(redis.exceptions.NoPermissionError("this user has no permissions to run the 'info' command"))
    result = run_main(replication_check, dict(REPLICA, timeout=30), client)
    assert result["msg"] == ("127.0.0.1:16479: cannot read INFO from 127.0.0.1:16479: this user has no permissions to "
                             "run the 'info' command (after 0.0s, 1 attempt)")
