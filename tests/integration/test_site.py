"""site.yml and playbooks/verify.yml end to end: the role deploys real instances (process
service manager, free loopback ports, every path in a temporary tree) and its modules check them.

The tests of this file share one deployed bed and run in order: deploy, then idempotence and
check mode on the converged bed, then changes that must be applied live or by a targeted restart.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import sys
import tempfile

import pytest
import redis
import yaml

from harness import free_port, run_playbook, wait_until

PASSWORD = "s3cret pass#with 'quotes' \"and\" \\backslash"
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Bed:
    """A master and a replica deployed by site.yml, all state under one directory."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="redisops-site-")
        os.chmod(self.dir, 0o755)
        self.master_port = free_port()
        self.replica_port = free_port()
        self.instances = [
            {"name": "master", "port": self.master_port},
            {"name": "replica", "port": self.replica_port, "replicaof": "localhost:master"},
        ]
        self.inventory = os.path.join(self.dir, "hosts.yml")
        self.write_inventory()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def host_vars(self, instances=None, **overrides):
        host = {
            "ansible_connection": "local",
            "ansible_host": "127.0.0.1",
            "ansible_python_interpreter": sys.executable,
            "redis_server_service_manager": "process",
            "redis_server_conf_dir": self.path("etc"),
            "redis_server_data_dir": self.path("data"),
            "redis_server_log_dir": self.path("log"),
            "redis_server_run_dir": self.path("run"),
            "redis_server_password": PASSWORD,
            "redis_server_verify_timeout": 20,
            "redis_server_instances": instances if instances is not None else self.instances,
        }
        host.update(overrides)
        return host

    def write_inventory(self, path=None, **kwargs):
        with open(path or self.inventory, "w") as handle:
            yaml.safe_dump({"redis": {"hosts": {"localhost": self.host_vars(**kwargs)}}}, handle)
        return path or self.inventory

    def variant(self, name, **kwargs):
        """Another inventory for the same bed, e.g. with one setting changed."""
        return self.write_inventory(self.path(name + ".yml"), **kwargs)

    def site(self, *args, inventory=None):
        return run_playbook("site.yml", inventory or self.inventory, extra_args=args)

    def client(self, port, **kwargs):
        kwargs.setdefault("password", PASSWORD)
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=5, **kwargs)

    def run_id(self, port):
        return self.client(port).info("server")["run_id"]

    def stop_all(self):
        run_dir = self.path("run")
        for name in os.listdir(run_dir) if os.path.isdir(run_dir) else ():
            try:
                with open(os.path.join(run_dir, name)) as handle:
                    os.kill(int(handle.read().strip()), signal.SIGKILL)
            except (OSError, ValueError):
                pass
        shutil.rmtree(self.dir, ignore_errors=True)


def recap(proc):
    """(ok, changed, unreachable, failed) of localhost from a play recap."""
    found = RECAP.findall(proc.stdout)
    assert found, "no play recap:\n%s\n%s" % (proc.stdout[-5000:], proc.stderr[-3000:])
    return tuple(int(n) for n in found[-1])


def show(proc):
    return "rc=%s\n%s\n%s" % (proc.returncode, proc.stdout[-8000:], proc.stderr[-3000:])


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
    run_id = bed.run_id(bed.replica_port)
    proc = bed.site(inventory=bed.variant("repointed", instances=repointed))
    assert proc.returncode == 0, show(proc)
    replica = bed.client(bed.replica_port).info("replication")
    assert replica["master_port"] == second_master["port"]
    assert replica["master_link_status"] == "up"
    assert bed.run_id(bed.replica_port) == run_id
    # and back, still without a restart
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert bed.client(bed.replica_port).info("replication")["master_port"] == bed.master_port
    assert bed.run_id(bed.replica_port) == run_id


def test_verify_reports_drift_clearly_and_site_repairs_it_live(bed, deployed):
    replica = bed.client(bed.replica_port)
    run_id = bed.run_id(bed.replica_port)
    replica.replicaof("no", "one")
    proc = run_playbook("playbooks/verify.yml", bed.inventory)
    assert proc.returncode != 0, show(proc)
    expected = "localhost:replica: role: expected replica of 127.0.0.1:%d, found master" % bed.master_port
    assert expected in proc.stdout, show(proc)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert replica.info("replication")["role"] == "slave"
    assert bed.run_id(bed.replica_port) == run_id


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
])
def test_bad_input_fails_before_anything_changes(bed, deployed, instances, variable, words):
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    proc = bed.site(inventory=bed.variant("bad", instances=instances))
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = proc.stdout + proc.stderr
    assert variable in out and all(word in out for word in words), show(proc)
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids
