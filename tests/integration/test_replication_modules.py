"""replication_info and replication_check through ansible-playbook, against real redis-server processes."""

from __future__ import annotations

import concurrent.futures
import os

from harness import run_module, wait_until

PASSWORD = "it-password"


def start_pair(redis_server, masterauth=PASSWORD):
    """A master and its replica, both requiring PASSWORD; the replica logs in with masterauth."""
    master = redis_server(password=PASSWORD)
    replica = redis_server(password=PASSWORD, args=["--replicaof", "127.0.0.1", str(master.port),
                                                    "--masterauth", masterauth])
    return master, replica


def check_replica(master, replica, **options):
    args = dict(login_port=replica.port, login_password=PASSWORD, instance="replica", role="replica",
                master_host="127.0.0.1", master_port=master.port, log_file=replica.log_file)
    args.update(options)
    return args


def test_info_and_check_on_a_master_and_its_replica(redis_server):
    master, replica = start_pair(redis_server)

    # The replica has only just started: the check waits for its link to come up.
    result = run_module("replication_check", check_replica(master, replica, read_only=True, timeout=30))
    assert not result.get("failed"), result["msg"]
    assert result["changed"] is False and result["mismatches"] == []
    assert result["state"]["master_link_status"] == "up"
    assert result["server"]["name"] == "redis"

    result = run_module("replication_check", {
        "login_port": master.port, "login_password": PASSWORD, "instance": "master", "role": "master",
        "replicas": [{"host": "127.0.0.1", "port": replica.port}], "min_replicas": 1, "max_lag": 10})
    assert not result.get("failed"), result["msg"]

    info = run_module("replication_info", {"login_port": replica.port, "login_password": PASSWORD})
    assert info["changed"] is False
    assert info["replication"]["role"] == "replica"
    assert info["replication"]["master_port"] == master.port
    assert info["replication"]["replica_read_only"] is True
    assert info["server"]["version"].split(".")[0].isdigit()

    info = run_module("replication_info", {"login_port": master.port, "login_password": PASSWORD})
    assert info["replication"]["role"] == "master"
    assert [(r["ip"], r["port"], r["state"]) for r in info["replication"]["replicas"]] == [
        ("127.0.0.1", replica.port, "online")]


def test_check_mode(redis_server):
    master, replica = start_pair(redis_server)
    result = run_module("replication_check", check_replica(master, replica), check=True)
    assert not result.get("failed"), result["msg"]
    assert result["changed"] is False

    info = run_module("replication_info", {"login_port": master.port, "login_password": PASSWORD}, check=True)
    assert info["changed"] is False and info["replication"]["role"] == "master"


def test_mismatches_name_the_instance_and_what_was_expected_and_found(redis_server):
    master, replica = start_pair(redis_server)
    wrong_port = replica.port + 1
    wait_until(lambda: master.client().info("replication").get("slave0", {}).get("state") == "online",
               timeout=30, what="the replica online on the master")

    result = run_module("replication_check", {
        "login_port": master.port, "login_password": PASSWORD, "instance": "master", "role": "master",
        "replicas": [{"host": "127.0.0.1", "port": wrong_port}], "timeout": 3})
    assert result["failed"] is True and result["changed"] is False
    assert result["msg"].startswith("master: replicas: expected 127.0.0.1:%d online, found it not connected "
                                    "(connected: 127.0.0.1:%d online; the master's backlog " % (wrong_port, replica.port))
    assert "resyncs partially)" in result["msg"]

    result = run_module("replication_check", check_replica(master, replica, master_port=wrong_port, timeout=1))
    assert result["failed"] is True
    assert result["msg"].startswith("replica: master_port: expected %d, found %d (after 1." % (wrong_port, master.port))
    assert result["state"]["master_port"] == master.port


def test_wrong_masterauth_is_explained_from_the_replica_log(redis_server):
    master, replica = start_pair(redis_server, masterauth="not-the-password")
    result = run_module("replication_check", check_replica(master, replica, timeout=2))
    assert result["failed"] is True
    assert result["msg"].startswith(
        "replica: master_link_status: expected up, found down (not up since the replica started or got this master)")
    assert result["link_down_reason"].startswith("Unable to AUTH to MASTER: -WRONGPASS")
    assert "Last replication error in %s: Unable to AUTH to MASTER" % replica.log_file in result["msg"]
    assert "Check the replica's masterauth" in result["msg"]


def test_a_master_that_went_away_is_explained_from_the_replica_log(redis_server):
    master, replica = start_pair(redis_server)
    wait_until(lambda: replica.client().info("replication")["master_link_status"] == "up", what="the link")
    master.stop()
    wait_until(lambda: replica.client().info("replication").get("master_link_down_since_seconds", -1) >= 1,
               what="the link down for a second")

    result = run_module("replication_check", check_replica(master, replica, timeout=0))
    assert result["failed"] is True
    assert "master_link_status: expected up, found down (down for " in result["msg"]
    assert result["link_down_reason"] == "Error condition on socket for SYNC: Connection refused"


def test_a_replica_restarting_while_waited_for(redis_server):
    master, replica = start_pair(redis_server)
    master.stop()
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(run_module, "replication_check", check_replica(master, replica, timeout=60))
        # Once the module polls INFO, restart the replica under it, and bring the master back.
        wait_until(lambda: any(client["cmd"] == "info" for client in replica.client().client_list()), timeout=60,
                   what="replication_check to poll the replica")
        replica.stop()
        master.start()
        replica.start()
        result = running.result(timeout=120)
    assert not result.get("failed"), result["msg"]
    assert result["state"]["master_link_status"] == "up"


def test_a_stopped_instance_fails_readably(redis_server):
    master = redis_server(password=PASSWORD)
    master.stop()
    result = run_module("replication_info", {"login_port": master.port, "login_password": PASSWORD})
    assert result["failed"] is True
    assert result["msg"].startswith("Cannot connect to 127.0.0.1:%d: " % master.port)
    assert "Connection refused" in result["msg"]


def test_a_wrong_password_fails_readably(redis_server):
    master = redis_server(password=PASSWORD)
    result = run_module("replication_check", {"login_port": master.port, "login_password": "wrong", "role": "master"})
    assert result["failed"] is True
    assert result["msg"].startswith("127.0.0.1:%d: 127.0.0.1:%d refused the login of user 'default' with "
                                    "login_password: invalid username-password pair" % (master.port, master.port))
    assert result["msg"].endswith("redis_server_previous_passwords). (after 0.0s, 1 attempt)")
    assert "Fix: give login_password the password the instance has (server role: redis_server_password" in result["msg"]


def test_a_missing_password_fails_readably(redis_server):
    master = redis_server(password=PASSWORD)
    result = run_module("replication_info", {"login_port": master.port})
    assert result["failed"] is True
    assert result["msg"].startswith("127.0.0.1:%d refused the login of user 'default' with no password: "
                                    % master.port)
    assert result["msg"].endswith("the current one in redis_server_previous_passwords).")
    assert result["login_refused"] is True


def test_a_replica_check_needs_its_master(redis_server):
    replica = redis_server(password=PASSWORD)
    result = run_module("replication_check", {"login_port": replica.port, "login_password": PASSWORD, "role": "replica"})
    assert result["failed"] is True
    assert result["msg"] == "role is replica but all of the following are missing: master_host, master_port"


def test_one_call_checks_several_instances_and_names_each_that_differs(redis_server):
    master, replica = start_pair(redis_server)
    broken = redis_server(password=PASSWORD, args=["--replicaof", "127.0.0.1", str(master.port),
                                                   "--masterauth", "not-the-password"])
    instances = [
        {"instance": "master", "login_port": master.port, "role": "master",
         "replicas": [{"host": "127.0.0.1", "port": replica.port}]},
        {"instance": "replica", "login_port": replica.port, "role": "replica",
         "master_host": "127.0.0.1", "master_port": master.port, "log_file": replica.log_file},
    ]
    # The replica has only just started: the call waits until both match.
    result = run_module("replication_check", {"login_password": PASSWORD, "instances": instances, "timeout": 30})
    assert result["failed"] is False, result.get("msg")
    assert [entry["instance"] for entry in result["instances"]] == ["master", "replica"]
    assert result["instances"][1]["state"]["master_link_status"] == "up"

    instances.append({"instance": "broken", "login_port": broken.port, "role": "replica", "master_host": "127.0.0.1",
                      "master_port": master.port, "log_file": broken.log_file})
    result = run_module("replication_check", {"login_password": PASSWORD, "instances": instances, "timeout": 3})
    assert result["failed"] is True
    assert result["msg"].startswith("broken: master_link_status: expected up, found down"), result["msg"]
    assert "Last replication error in %s" % broken.log_file in result["msg"]
    assert [bool(entry["mismatches"]) for entry in result["instances"]] == [False, False, True]
    assert PASSWORD not in str(result.get("invocation", ""))


def test_the_check_reports_the_progress_of_the_full_sync_it_waits_for(redis_server):
    master = redis_server(password=PASSWORD)
    # 64 MiB the replica must load: a full sync that takes more than one reading.
    client = master.client()
    for index in range(64):
        client.set("big:%d" % index, os.urandom(1024 * 1024))
    # The master saves each key 20 ms late (a test-only setting of Redis 6 and later): the sync
    # lasts more than a second.
    client.config_set("rdb-key-save-delay", 20000)
    replica = redis_server(password=PASSWORD, args=["--masterauth", PASSWORD])
    with concurrent.futures.ThreadPoolExecutor(max_workers=1) as pool:
        running = pool.submit(run_module, "replication_check", check_replica(master, replica, timeout=60, interval=0.05))
        # The sync starts once the module polls the replica, however long ansible-playbook took to start.
        wait_until(lambda: any(entry["cmd"] == "info" for entry in replica.client().client_list()), timeout=60,
                   what="replication_check to poll the replica")
        replica.client().replicaof("127.0.0.1", master.port)
        result = running.result(timeout=120)
    assert not result.get("failed"), result["msg"]
    assert result["progress"], "no progress sampled while the full sync ran"
    sample = result["progress"][-1]
    assert set(sample) == {"elapsed", "read_bytes", "total_bytes", "percent"}
    assert [s["elapsed"] for s in result["progress"]] == sorted(s["elapsed"] for s in result["progress"])


def test_the_single_instance_form_gives_the_result_of_a_list_of_one(redis_server):
    master, replica = start_pair(redis_server)
    args = check_replica(master, replica, timeout=30)
    single = run_module("replication_check", args)
    assert not single.get("failed"), single["msg"]
    listed = run_module("replication_check", {"login_password": PASSWORD, "instances": [
        {key: value for key, value in args.items() if key != "timeout"}]})
    [item] = listed["instances"]
    assert (single["instance"], single["mismatches"], single["state"]["role"]) == (
        item["instance"], item["mismatches"], item["state"]["role"]) == ("replica", [], "replica")

    single = run_module("replication_info", {"login_port": replica.port, "login_password": PASSWORD})
    listed = run_module("replication_info", {"login_password": PASSWORD, "instances": [{"login_port": replica.port}]})
    [item] = listed["instances"]
    assert single["instance"] == item["instance"] == "127.0.0.1:%d" % replica.port
    assert single["server"] == item["server"] and single["replication"]["master_port"] == master.port


def test_every_module_words_a_refused_login_the_same(redis_server):
    master = redis_server(password=PASSWORD)
    expected = ("127.0.0.1:%d refused the login of user 'default' with login_password: invalid username-password "
                "pair or user is disabled. Fix: give login_password the password the instance has (server role: "
                "redis_server_password or the instance's password; while it changes, the current one in "
                "redis_server_previous_passwords)." % master.port)
    login = {"login_port": master.port, "login_password": "wrong"}
    results = {
        "replication_info": run_module("replication_info", login),
        "replication_check": run_module("replication_check", dict(login, role="master", instance="main")),
        "runtime_config": run_module("runtime_config", dict(login, role="master")),
        "aof_enable": run_module("aof_enable", dict(login, instance="main")),
    }
    assert all(result["failed"] for result in results.values()), results
    assert results["replication_info"]["msg"] == expected
    assert results["runtime_config"]["msg"] == expected
    assert results["replication_check"]["msg"] == "main: %s (after 0.0s, 1 attempt)" % expected
    assert results["aof_enable"]["msg"] == "Instance 'main': %s" % expected
