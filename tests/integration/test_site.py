"""site.yml and playbooks/verify.yml end to end: the role deploys real instances (process
service manager, free loopback ports, every path in a temporary tree) and its modules check them.

The tests of this file share one deployed bed and run in order: deploy, then idempotence and
check mode on the converged bed, then changes that must be applied live or by a targeted restart.
"""

from __future__ import annotations

import os
import signal

import pytest
import redis

from harness import PASSWORD, Bed, free_port, recap, run_playbook, show, wait_until


@pytest.fixture(scope="module")
def bed():
    bed = Bed()
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def deployed(bed):
    """The first run of site.yml, with --diff and -v so the test can look for leaked secrets."""
    proc = bed.site("--diff", "-v")
    assert proc.returncode == 0, show(proc)
    return proc


def test_deploy_reproduces_the_guides_bed(bed, deployed):
    master = bed.client(bed.master_port).info("replication")
    assert master["role"] == "master"
    assert master["connected_slaves"] == 1
    assert master["slave0"]["ip"] == "127.0.0.1"
    assert master["slave0"]["port"] == bed.replica_port
    assert master["slave0"]["state"] == "online"
    replica = bed.client(bed.replica_port).info("replication")
    assert replica["role"] == "slave"
    assert replica["master_host"] == "127.0.0.1"
    assert replica["master_port"] == bed.master_port
    assert replica["master_link_status"] == "up"
    assert replica["slave_read_only"] == 1


def test_the_master_starts_a_diskless_sync_once_its_replicas_are_connected(bed, deployed):
    # Redis 7: repl-diskless-sync-max-replicas is the number of replicas the inventory gives an
    # instance, in its live file (applied without a restart when that number changes).
    for name, port, count in (("master", bed.master_port, "1"), ("replica", bed.replica_port, "0")):
        with open(bed.path("etc", "redis-%s.live.conf" % name)) as handle:
            assert "\nrepl-diskless-sync-max-replicas %s\n" % count in handle.read()
        with open(bed.path("etc", "redis-%s.conf" % name)) as handle:
            assert "repl-diskless-sync-max-replicas" not in handle.read()
        assert bed.client(port).config_get("repl-diskless-sync-max-replicas") == {"repl-diskless-sync-max-replicas": count}


def test_data_flows_from_master_to_replica_which_refuses_writes(bed, deployed):
    bed.client(bed.master_port).set("greeting", "hello")
    wait_until(lambda: bed.client(bed.replica_port).get("greeting") == "hello", what="key on the replica")
    with pytest.raises(redis.ReadOnlyError):
        bed.client(bed.replica_port).set("greeting", "bye")


def test_both_instances_refuse_unauthenticated_clients(bed, deployed):
    for port in (bed.master_port, bed.replica_port):
        with pytest.raises(redis.AuthenticationError):
            bed.client(port, password=None).get("greeting")


def test_config_files_are_private_to_root_and_redis(bed, deployed):
    for name in ("master", "replica"):
        for suffix in (".conf", ".live.conf"):
            st = os.stat(bed.path("etc", "redis-%s%s" % (name, suffix)))
            assert oct(st.st_mode & 0o777) == oct(0o640)
            assert st.st_uid == 0


def test_the_run_ends_by_printing_each_instances_replication_state(bed, deployed):
    assert "master 127.0.0.1:%d role=master" % bed.master_port in deployed.stdout
    assert "replica 127.0.0.1:%d role=replica" % bed.replica_port in deployed.stdout


def test_no_secret_in_output_even_with_diff_and_verbose(bed, deployed):
    assert PASSWORD not in deployed.stdout + deployed.stderr


def test_second_run_changes_nothing(bed, deployed):
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids


def test_check_mode_on_a_converged_bed_reports_no_change(bed, deployed):
    proc = bed.site("--check", "--diff")
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert PASSWORD not in proc.stdout


def test_check_mode_reports_a_change_but_makes_none(bed, deployed):
    changed = [dict(bed.instances[0], config={"maxmemory": "64mb"}), bed.instances[1]]
    conf = bed.path("etc", "redis-master.conf")
    with open(conf) as handle:
        before = handle.read()
    run_id = bed.run_id(bed.master_port)
    proc = bed.site("--check", inventory=bed.variant("check", instances=changed))
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)
    with open(conf) as handle:
        assert handle.read() == before
    assert bed.run_id(bed.master_port) == run_id
    assert bed.client(bed.master_port).config_get("maxmemory")["maxmemory"] == "0"


def test_a_main_config_change_restarts_only_that_instance(bed, deployed):
    changed = [bed.instances[0], dict(bed.instances[1], config={"maxmemory": "64mb"})]
    master_run_id, replica_run_id = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    proc = bed.site(inventory=bed.variant("maxmemory", instances=changed))
    assert proc.returncode == 0, show(proc)
    assert bed.run_id(bed.master_port) == master_run_id
    assert bed.run_id(bed.replica_port) != replica_run_id
    assert bed.client(bed.replica_port).config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
    bed.instances[1] = changed[1]
    bed.write_inventory()


def test_a_replica_is_repointed_live_without_restart(bed, deployed):
    second_master = {"name": "other", "port": free_port()}
    repointed = [bed.instances[0], second_master, dict(bed.instances[1], replicaof="localhost:other")]
    run_id, master_run_id = bed.run_id(bed.replica_port), bed.run_id(bed.master_port)
    proc = bed.site(inventory=bed.variant("repointed", instances=repointed))
    assert proc.returncode == 0, show(proc)
    replica = bed.client(bed.replica_port).info("replication")
    assert replica["master_port"] == second_master["port"]
    assert replica["master_link_status"] == "up"
    assert bed.run_id(bed.replica_port) == run_id
    # Both masters' replica counts changed, live: neither restarts for it.
    assert bed.run_id(bed.master_port) == master_run_id
    for port, count in ((bed.master_port, "0"), (second_master["port"], "1")):
        assert bed.client(port).config_get("repl-diskless-sync-max-replicas")["repl-diskless-sync-max-replicas"] == count
    # and back, still without a restart; the second master is retired, or it would keep running
    proc = bed.site(inventory=bed.variant("back", instances=bed.instances + [dict(second_master, state="absent")]))
    assert proc.returncode == 0, show(proc)
    assert bed.client(bed.replica_port).info("replication")["master_port"] == bed.master_port
    assert bed.run_id(bed.replica_port) == run_id


def test_a_change_for_every_instance_is_a_rolling_restart_replica_first(bed, deployed):
    master, replica = bed.client(bed.master_port), bed.client(bed.replica_port)
    master.mset({"rolling:%d" % n: n for n in range(200)})
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    proc = bed.site("-e", '{"redis_server_config": {"maxmemory-policy": "allkeys-lru"}}')
    assert proc.returncode == 0, show(proc)
    out = proc.stdout
    replica_restart = out.index("restart.yml for localhost => (item=replica)")
    replica_back = out.index("replica 127.0.0.1:%d role=replica master=127.0.0.1:%d link=up"
                             % (bed.replica_port, bed.master_port), replica_restart)
    master_restart = out.index("restart.yml for localhost => (item=master)")
    assert replica_restart < replica_back < master_restart, show(proc)
    assert bed.run_id(bed.master_port) != run_ids[0] and bed.run_id(bed.replica_port) != run_ids[1]
    for client in master, replica:
        assert client.config_get("maxmemory-policy")["maxmemory-policy"] == "allkeys-lru"
        assert client.mget(["rolling:%d" % n for n in range(200)]) == [str(n) for n in range(200)]
    proc = bed.site()
    assert proc.returncode == 0, show(proc)


def test_a_stopped_master_comes_back_with_its_data_and_its_replica(bed, deployed):
    master, replica = bed.client(bed.master_port), bed.client(bed.replica_port)
    master.mset({"persisted:%d" % n: n for n in range(100)})
    with open(bed.path("run", "redis-master.pid")) as handle:
        pid = int(handle.read().strip())
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the master to save and exit")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert master.info("replication")["connected_slaves"] == 1
    assert replica.info("replication")["master_link_status"] == "up"
    for client in master, replica:
        assert client.mget(["persisted:%d" % n for n in range(100)]) == [str(n) for n in range(100)]


def promote_by_hand(bed, replica):
    replica.replicaof("no", "one")
    return "localhost:replica: role: expected replica of 127.0.0.1:%d, found master" % bed.master_port


def change_masterauth_by_hand(bed, replica):
    replica.config_set("masterauth", "not-the-password")
    return "DRIFT: would run: CONFIG SET masterauth ********"


def rewrite_config_by_hand(bed, replica):
    # The server may rewrite its file where its directory is writable to it, as Debian's
    # /etc/redis (redis:redis 2770) is; the role's own directory is not.
    os.chmod(bed.path("etc"), 0o770)
    try:
        replica.config_set("maxmemory-policy", "allkeys-lru")
        replica.config_rewrite()
        replica.config_set("maxmemory-policy", "noeviction")
    finally:
        os.chmod(bed.path("etc"), 0o750)
    with open(bed.path("etc", "redis-replica.conf")) as handle:
        assert "# Generated by CONFIG REWRITE" in handle.read()
    return "DRIFT: file differs: %s" % bed.path("etc", "redis-replica.conf")


@pytest.mark.parametrize("drift", [promote_by_hand, change_masterauth_by_hand, rewrite_config_by_hand])
def test_drift_is_reported_by_verify_and_repaired_live(bed, deployed, drift):
    replica = bed.client(bed.replica_port)
    run_id = bed.run_id(bed.replica_port)
    expected = drift(bed, replica)
    proc = run_playbook("playbooks/verify.yml", bed.inventory)
    assert proc.returncode != 0, show(proc)
    assert expected in " ".join(proc.stdout.split()), show(proc)
    assert PASSWORD not in proc.stdout + proc.stderr and "not-the-password" not in proc.stdout
    assert recap(proc)[1] == 0, show(proc)

    proc = bed.site("--check")
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)

    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)
    assert bed.run_id(bed.replica_port) == run_id
    assert replica.info("replication")["role"] == "slave"
    assert replica.config_get("masterauth")["masterauth"] == PASSWORD
    with open(bed.path("etc", "redis-replica.conf")) as handle:
        assert "CONFIG REWRITE" not in handle.read()
    proc = run_playbook("playbooks/verify.yml", bed.inventory)
    assert proc.returncode == 0, show(proc)


def test_a_replica_killed_with_sigkill_is_brought_back_with_every_key(bed, deployed):
    master, replica = bed.client(bed.master_port), bed.client(bed.replica_port)
    master.mset({"before:%d" % n: n for n in range(100)})
    wait_until(lambda: replica.get("before:99") == "99", what="the keys on the replica")
    with open(bed.path("run", "redis-replica.pid")) as handle:
        os.kill(int(handle.read().strip()), signal.SIGKILL)
    master.mset({"during:%d" % n: n for n in range(100)})
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)
    assert replica.info("replication")["master_link_status"] == "up"
    assert replica.mget(["before:%d" % n for n in range(100)] + ["during:%d" % n for n in range(100)]) == [
        str(n) for n in range(100)] * 2


def test_a_promoted_replica_that_took_writes_is_not_demoted(bed, deployed):
    replica = bed.client(bed.replica_port)
    replica.replicaof("no", "one")
    replica.set("written-after-promotion", "keep me")
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    with open(bed.path("etc", "redis-replica.live.conf")) as handle:
        live_conf = handle.read()

    for args in ((), ("--check",)):
        proc = bed.site(*args)
        assert proc.returncode != 0, show(proc)
        assert recap(proc)[1] == 0, show(proc)
        assert ("Instance 'replica' of host 'localhost' (127.0.0.1:%d) is a master now" % bed.replica_port
                in " ".join(proc.stdout.split())), show(proc)
        assert "redis_server_force_topology=true" in proc.stdout, show(proc)
    assert replica.info("replication")["role"] == "master"
    assert replica.get("written-after-promotion") == "keep me"
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids
    with open(bed.path("etc", "redis-replica.live.conf")) as handle:
        assert handle.read() == live_conf

    # The operator decides the inventory's master wins: the replica follows it again, live.
    proc = bed.site("-e", "redis_server_force_topology=true")
    assert proc.returncode == 0, show(proc)
    assert replica.info("replication")["role"] == "slave"
    assert bed.run_id(bed.replica_port) == run_ids[1]


@pytest.mark.parametrize("instances, variable, words", [
    ([{"name": "master", "port": 70000}], "port", ["70000"]),
    ([{"name": "master", "port": 1}, {"name": "other", "port": 1}], "port", ["used twice"]),
    ([{"name": "master", "port": 1, "replicaof": "localhost:master"}], "replicaof", ["itself"]),
    ([{"name": "master", "port": 1, "replicaof": "nowhere:main"}], "replicaof", ["nowhere"]),
    ([{"name": "master", "port": 1}, {"name": "master", "port": 2}], "name", ["master"]),
    ([{"name": "a", "port": 1, "replicaof": "localhost:b"}, {"name": "b", "port": 2, "replicaof": "localhost:a"}],
     "replicaof", ["cycle", "localhost:a -> localhost:b -> localhost:a"]),
    ([{"name": "master", "port": 1, "replica_read_only": False}], "replica_read_only", ["master", "Fix:"]),
    ([{"name": "master", "port": 1, "password": "two\nlines"}], "password", ["line break"]),
    ([{"name": "master", "port": 1, "config": {"dir": "/tmp"}}], "config", ["dir"]),
])
def test_bad_input_fails_before_anything_changes(bed, deployed, instances, variable, words):
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    proc = bed.site(inventory=bed.variant("bad", instances=instances))
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = proc.stdout + proc.stderr
    assert variable in out and all(word in out for word in words), show(proc)
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids


def test_an_unknown_directive_is_refused_before_any_file_changes(bed, deployed):
    """Even for a new instance: the host's running instances are asked about every extra directive."""
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    files = sorted(os.listdir(bed.path("etc")))
    instances = bed.instances + [{"name": "extra", "port": 1, "config": {"no-such-directive": "1"}}]
    proc = bed.site(inventory=bed.variant("unknown-directive", instances=instances))
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = " ".join(proc.stdout.split())
    assert "Instance 'extra' of host 'localhost': redis" in out and "does not know no-such-directive" in out, show(proc)
    assert sorted(os.listdir(bed.path("etc"))) == files
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids
