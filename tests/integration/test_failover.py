"""playbooks/failover.yml end to end: a master and two replicas deployed by site.yml (process
service manager, free loopback ports, every path in a temporary tree), a writer that keeps
writing during the promotion, and every acknowledged key counted afterwards.

The tests of this file share one bed and run in order: bad input and check mode change nothing;
the promotion under writes; then what must hold after it (idempotence, restart, the role's guard,
the inventory update the playbook prints, and a promotion back).
"""

from __future__ import annotations

import os
import signal
import threading
import time

import pytest
import redis
import yaml

from harness import PASSWORD, Bed, recap, run_module, show, wait_until

TARGET = "localhost:replica1"


class Writer(threading.Thread):
    """Writes unique keys as fast as it can, to the master, counting only the writes that returned OK.

    When the instance it writes to refuses writes (READONLY: it was demoted), it goes on with the
    next port of ports, as a client following a failover does. A write that fails otherwise is
    not acknowledged and not counted.
    """

    def __init__(self, bed, ports):
        super().__init__(daemon=True)
        self.bed = bed
        self.ports = list(ports)
        self.acked = {}
        self.refused = 0
        self.failed = 0
        self.switched_at = None
        self.halt = threading.Event()

    def run(self):
        current = 0
        client = self.bed.client(self.ports[current], socket_timeout=30)
        number = 0
        while not self.halt.is_set():
            key = "acked:%07d" % number
            number += 1
            try:
                if client.set(key, number):
                    self.acked[key] = (str(number), self.ports[current])
            except redis.ReadOnlyError:
                self.refused += 1
                if current + 1 < len(self.ports):
                    current += 1
                    self.switched_at = len(self.acked)
                    client = self.bed.client(self.ports[current], socket_timeout=30)
            except redis.RedisError:
                self.failed += 1
                time.sleep(0.01)

    def stop(self):
        self.halt.set()
        self.join(timeout=60)


def role(bed, name):
    info = bed.client(bed.ports[name]).info("replication")
    if info["role"] == "master":
        return "master"
    return "replica of %s:%s" % (info["master_host"], info["master_port"])


def roles(bed):
    return {name: role(bed, name) for name in bed.ports}


def run_ids(bed):
    return {name: bed.run_id(port) for name, port in bed.ports.items()}


def read(bed, *parts):
    with open(bed.path(*parts)) as handle:
        return handle.read()


def live_files(bed):
    return {name: read(bed, "etc", "redis-%s.live.conf" % name) for name in bed.ports}


def failover(bed, *args, target=TARGET, inventory=None):
    extra = ("-e", "redis_failover_target=%s" % target) if target is not None else ()
    return bed.playbook("playbooks/failover.yml", *(extra + args), inventory=inventory)


def flat(proc):
    """The output on one line, without the YAML callback's line breaks and doubled single quotes."""
    return " ".join((proc.stdout + proc.stderr).split()).replace("''", "'")


@pytest.fixture(scope="module")
def bed():
    bed = Bed(replicas=("replica1", "replica2"), prefix="redisops-failover-")
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def deployed(bed):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    bed.client(bed.master_port).mset({"before:%d" % n: n for n in range(1000)})
    return proc


@pytest.fixture(scope="module")
def promoted(bed, deployed):
    """The promotion of replica1, with a writer running before, during and after it."""
    new_master = bed.ports["replica1"]
    writer = Writer(bed, [bed.master_port, new_master])
    writer.start()
    wait_until(lambda: len(writer.acked) > 200, what="the writer's first writes")
    before = run_ids(bed)
    proc = failover(bed, "-e", "redis_failover_report=%s" % bed.path("failover-report.yml"))
    # Keep writing for a moment after the playbook: the writer must have found the new master.
    wait_until(lambda: writer.switched_at is not None, timeout=30, what="the writer to follow the new master")
    time.sleep(0.5)
    writer.stop()
    return proc, writer, before


# -------------------------------------------------------------------------------------------------
# Before the promotion: bad input and check mode change nothing
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("target, words", [
    (None, ["redis_failover_target is not set", "-e redis_failover_target=localhost:replica1"]),
    ("nowhere:replica1", ["redis_failover_target='nowhere:replica1'", "host 'nowhere'", "not in this play"]),
    ("localhost:replica9", ["redis_failover_target='localhost:replica9'", "instance 'replica9'",
                            "master, replica1, replica2"]),
    ("localhost:master", ["redis_failover_target='localhost:master'", "is a master in the inventory",
                          "localhost:replica1, localhost:replica2"]),
    ("localhost", ["names host 'localhost', which has 3 instances", "redis_failover_target=localhost:INSTANCE"]),
])
def test_bad_input_fails_with_a_clear_message_before_any_change(bed, deployed, target, words):
    ids, files, topology = run_ids(bed), live_files(bed), roles(bed)
    proc = failover(bed, target=target)
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = flat(proc)
    for word in words:
        assert word in out, show(proc)
    assert "Nothing was changed" in out, show(proc)
    assert (run_ids(bed), live_files(bed), roles(bed)) == (ids, files, topology)
    assert not os.path.exists(bed.path("etc", "redis-failover.yml"))


def test_check_mode_reports_the_promotion_but_changes_nothing(bed, deployed):
    ids, files, topology = run_ids(bed), live_files(bed), roles(bed)
    proc = failover(bed, "--check", "--diff")
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)
    out = flat(proc)
    assert "localhost:replica1 (127.0.0.1:%d) would be the master now" % bed.ports["replica1"] in out, show(proc)
    assert "localhost:replica1 - REPLICAOF NO ONE" in out, show(proc)
    assert PASSWORD not in proc.stdout + proc.stderr
    assert (run_ids(bed), live_files(bed), roles(bed)) == (ids, files, topology)
    assert not os.path.exists(bed.path("etc", "redis-failover.yml"))


# -------------------------------------------------------------------------------------------------
# The promotion
# -------------------------------------------------------------------------------------------------

def test_promotion_under_writes_succeeds_and_says_how_to_update_the_inventory(bed, promoted):
    proc, writer, before = promoted
    assert proc.returncode == 0, show(proc)
    out = flat(proc)
    assert "localhost:replica1 (127.0.0.1:%d) is the master now" % bed.ports["replica1"] in out, show(proc)
    assert "host 'localhost', instance 'replica1': remove replicaof (it is the master now)" in out, show(proc)
    assert "host 'localhost', instance 'master': add replicaof: 'localhost:replica1'" in out, show(proc)
    assert "host 'localhost', instance 'replica2': set replicaof: 'localhost:replica1'" in out, show(proc)
    # No instance was restarted: the promotion is live.
    assert run_ids(bed) == before


def test_no_secret_in_the_output(bed, promoted):
    proc, writer, before = promoted
    assert PASSWORD not in proc.stdout + proc.stderr


def test_every_acknowledged_write_is_on_the_new_master_and_every_replica(bed, promoted):
    proc, writer, before = promoted
    on_old, on_new = (sum(1 for key, (value, port) in writer.acked.items() if port == wanted)
                      for wanted in (bed.master_port, bed.ports["replica1"]))
    assert on_old > 0 and on_new > 0, (on_old, on_new)
    keys = sorted(writer.acked)
    expected = [writer.acked[key][0] for key in keys]
    new_master = bed.client(bed.ports["replica1"])
    assert new_master.mget(keys) == expected
    assert new_master.mget(["before:%d" % n for n in range(1000)]) == [str(n) for n in range(1000)]
    for name in ("master", "replica2"):
        client = bed.client(bed.ports[name])
        wait_until(lambda: client.mget(keys[-1:]) == expected[-1:], timeout=30, what="the last write on %s" % name)
        assert client.mget(keys) == expected, name
        assert client.dbsize() == new_master.dbsize(), name


def test_the_group_follows_the_new_master(bed, promoted):
    new_master = bed.ports["replica1"]
    assert roles(bed) == {"replica1": "master",
                          "master": "replica of 127.0.0.1:%d" % new_master,
                          "replica2": "replica of 127.0.0.1:%d" % new_master}
    info = bed.client(new_master).info("replication")
    assert info["connected_slaves"] == 2
    for name in ("master", "replica2"):
        replica = bed.client(bed.ports[name])
        assert replica.info("replication")["master_link_status"] == "up"
        with pytest.raises(redis.ReadOnlyError):
            replica.set("written-to-a-replica", 1)


def test_the_live_files_hold_the_new_topology(bed, promoted):
    new_master = bed.ports["replica1"]
    files = live_files(bed)
    assert "replicaof" not in files["replica1"]
    assert "masterauth" not in files["replica1"]
    for name in ("master", "replica2"):
        lines = files[name].splitlines()
        assert "replicaof 127.0.0.1 %d" % new_master in lines, files[name]
        assert sum(1 for line in lines if line.startswith("replicaof ")) == 1
        assert sum(1 for line in lines if line.startswith("masterauth ")) == 1
        # The role's order: requirepass, masterauth, replicaof, replica-read-only.
        assert [line.split()[0] for line in lines if not line.startswith("#")] == [
            "requirepass", "masterauth", "replicaof", "replica-read-only"], files[name]


def test_the_new_topology_is_recorded(bed, promoted):
    for path in (bed.path("etc", "redis-failover.yml"), bed.path("failover-report.yml")):
        record = yaml.safe_load(read(bed, path))
        assert record["master"] == {"label": TARGET, "address": "127.0.0.1", "port": bed.ports["replica1"]}
        assert record["previous_master"]["label"] == "localhost:master"
        assert record["replicas"] == ["localhost:master", "localhost:replica2"]
        assert PASSWORD not in read(bed, path)
    assert oct(os.stat(bed.path("etc", "redis-failover.yml")).st_mode & 0o777) == oct(0o640)


# -------------------------------------------------------------------------------------------------
# After the promotion
# -------------------------------------------------------------------------------------------------

def test_running_it_again_for_the_same_target_changes_nothing(bed, promoted):
    ids, files = run_ids(bed), live_files(bed)
    for args in ((), ("--check",)):
        proc = failover(bed, *args)
        assert proc.returncode == 0, show(proc)
        assert recap(proc)[1] == 0, show(proc)
        assert "was the master already" in flat(proc), show(proc)
    assert (run_ids(bed), live_files(bed)) == (ids, files)


def test_a_restart_of_the_new_master_keeps_it_master(bed, promoted):
    new_master = bed.ports["replica1"]
    keys = bed.client(new_master).dbsize()
    old_run_id = bed.run_id(new_master)
    result = run_module("server_process", {
        "name": "replica1",
        "config_file": bed.path("etc", "redis-replica1.conf"),
        "pid_file": bed.path("run", "redis-replica1.pid"),
        "log_file": bed.path("log", "redis-replica1.log"),
        "port": new_master,
        "state": "restarted",
    })
    assert not result.get("failed"), result
    assert bed.run_id(new_master) != old_run_id
    assert role(bed, "replica1") == "master"
    assert bed.client(new_master).dbsize() == keys
    for name in ("master", "replica2"):
        client = bed.client(bed.ports[name])
        wait_until(lambda: client.info("replication")["master_link_status"] == "up", timeout=30,
                   what="%s back in sync with the restarted master" % name)


def test_site_with_the_old_inventory_stops_before_changing_anything(bed, promoted):
    ids, files, topology = run_ids(bed), live_files(bed), roles(bed)
    proc = site_proc = bed.site()
    assert site_proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert ("Instance 'replica1' of host 'localhost' (127.0.0.1:%d) is a master now" % bed.ports["replica1"]
            in flat(proc)), show(proc)
    assert (run_ids(bed), live_files(bed), roles(bed)) == (ids, files, topology)


def test_site_with_the_old_inventory_stops_even_while_the_new_master_is_down(bed, promoted):
    pid_file = bed.path("run", "redis-replica1.pid")
    with open(pid_file) as handle:
        pid = int(handle.read().strip())
    os.kill(pid, signal.SIGTERM)
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the new master to stop")
    files = live_files(bed)
    proc = bed.site()
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert "playbooks/failover.yml promoted localhost:replica1" in flat(proc), show(proc)
    assert "redis_server_force_topology=true" in flat(proc), show(proc)
    assert live_files(bed) == files and not os.path.exists("/proc/%d" % pid)
    result = run_module("server_process", {
        "name": "replica1",
        "config_file": bed.path("etc", "redis-replica1.conf"),
        "pid_file": pid_file,
        "log_file": bed.path("log", "redis-replica1.log"),
        "port": bed.ports["replica1"],
        "state": "started",
    })
    assert not result.get("failed"), result
    assert role(bed, "replica1") == "master"


def updated_instances(bed, master):
    """The inventory as the failover playbook says to write it, with master as the master."""
    return [dict({"name": name, "port": port}, **({"replicaof": "localhost:" + master} if name != master else {}))
            for name, port in bed.ports.items()]


def test_site_with_the_updated_inventory_keeps_the_new_topology_without_restarts(bed, promoted):
    ids, topology = run_ids(bed), roles(bed)
    files = live_files(bed)
    bed.instances = updated_instances(bed, "replica1")
    bed.write_inventory()
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert (run_ids(bed), roles(bed)) == (ids, topology)
    # The playbook wrote the live files as the role writes them for the updated inventory.
    assert live_files(bed) == files
    proc = bed.site()
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)


def test_a_promotion_back_works_the_same_way(bed, promoted):
    writer = Writer(bed, [bed.ports["replica1"], bed.master_port])
    writer.start()
    wait_until(lambda: len(writer.acked) > 200, what="the writer's first writes")
    proc = failover(bed, target="localhost:master")
    wait_until(lambda: writer.switched_at is not None, timeout=30, what="the writer to follow the new master")
    writer.stop()
    assert proc.returncode == 0, show(proc)
    assert roles(bed) == {"master": "master",
                          "replica1": "replica of 127.0.0.1:%d" % bed.master_port,
                          "replica2": "replica of 127.0.0.1:%d" % bed.master_port}
    keys = sorted(writer.acked)
    assert bed.client(bed.master_port).mget(keys) == [writer.acked[key][0] for key in keys]
