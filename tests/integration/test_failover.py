"""playbooks/failover.yml end to end: a master and two replicas deployed by site.yml (process
service manager, free loopback ports, every path in a temporary tree), a writer that keeps
writing during the promotion, and every acknowledged key counted afterwards.

The planned tests share one bed and run in order: bad input and check mode change nothing;
the promotion under writes; then what must hold after it (idempotence, restart, the role's guard,
the inventory update the playbook prints, and a promotion back). The unplanned tests, at the end,
share a second bed whose master is killed (SIGKILL) after writes its replicas acknowledged.

Every run of the playbook is at -vvv, and its whole output is searched for the password, in
the form a config file holds it and as the SHA-256 the ACL lines hold.
"""

from __future__ import annotations

import hashlib
import os
import signal
import threading
import time

import pytest
import redis
import yaml

from harness import Bed, flat, PASSWORD, recap, run_module, show, wait_until

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import quote

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


# The password as given, as written in a config file, and its SHA-256 (user ... #HASH lines).
SECRET_FORMS = (PASSWORD, quote(PASSWORD), hashlib.sha256(PASSWORD.encode()).hexdigest())


def leaked(proc):
    """The forms of the password found anywhere in the output."""
    out = proc.stdout + proc.stderr
    return [form for form in SECRET_FORMS if form in out]


def failover(bed, *args, target=TARGET, inventory=None):
    extra = ("-e", "redis_failover_target=%s" % target) if target is not None else ()
    proc = bed.playbook("playbooks/failover.yml", "-vvv", *(extra + args), inventory=inventory)
    assert not leaked(proc), (leaked(proc), show(proc))
    return proc


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
    assert "-vvv" in proc.args and not leaked(proc), leaked(proc)


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
        # The role's order: requirepass, masterauth, replicaof, replica-read-only, the live defaults.
        assert [line.split()[0] for line in lines if not line.startswith("#")] == [
            "requirepass", "masterauth", "replicaof", "replica-read-only", "repl-diskless-sync-max-replicas"], files[name]


def test_the_new_topology_is_recorded(bed, promoted):
    for path in (bed.path("etc", "redis-failover.yml"), bed.path("failover-report.yml")):
        record = yaml.safe_load(read(bed, path))
        assert record["master"] == {"label": TARGET, "address": "127.0.0.1", "port": bed.ports["replica1"]}
        assert record["previous_master"]["label"] == "localhost:master"
        assert record["replicas"] == ["localhost:master", "localhost:replica2"]
        assert PASSWORD not in read(bed, path)
    assert oct(os.stat(bed.path("etc", "redis-failover.yml")).st_mode & 0o777) == oct(0o640)


def config_files(bed):
    """Every file the role writes in redis_server_conf_dir (main and live file of each instance)."""
    return {name: read(bed, "etc", name) for name in sorted(os.listdir(bed.path("etc")))
            if name.startswith("redis-") and name.endswith(".conf")}


def test_the_files_are_byte_for_byte_those_the_role_writes_for_the_new_topology(bed, promoted):
    """failover.yml writes no file of its own (no line edits): the role, run by site.yml with the
    inventory updated as the playbook says, would change nothing, neither a file nor a live setting."""
    files = config_files(bed)
    assert set(files) == {"redis-%s%s.conf" % (name, kind) for name in bed.ports for kind in ("", ".live")}
    updated = bed.variant("updated-replica1", instances=updated_instances(bed, "replica1"))
    proc = bed.site("--check", "--diff", inventory=updated)
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert not leaked(proc), leaked(proc)
    assert config_files(bed) == files


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


# -------------------------------------------------------------------------------------------------
# Unplanned: the master is killed; its most up-to-date replica replaces it
# -------------------------------------------------------------------------------------------------

def unplanned(bed, *args, target=None):
    return failover(bed, "-e", "redis_failover_unplanned=true", *args, target=target)


def pid_of(bed, name):
    with open(bed.path("run", "redis-%s.pid" % name)) as handle:
        return int(handle.read().strip())


def write_acknowledged(client, prefix, count, replicas):
    """Write count keys in batches, each acknowledged by `replicas` replicas (WAIT); return them."""
    keys = {}
    for start in range(0, count, 100):
        batch = {"%s:%05d" % (prefix, n): "v%d" % n for n in range(start, min(count, start + 100))}
        client.mset(batch)
        assert client.execute_command("WAIT", replicas, 10000) >= replicas
        keys.update(batch)
    return keys


def live_roles(bed, names):
    return {name: role(bed, name) for name in names}


@pytest.fixture(scope="module")
def crash_bed():
    bed = Bed(replicas=("replica1", "replica2"), prefix="redisops-unplanned-")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def crashed(crash_bed):
    """Keys acknowledged by both replicas, then more acknowledged by replica1 only (replica2 is
    frozen with SIGSTOP and cut from the master meanwhile), then SIGKILL of the master."""
    bed = crash_bed
    master = bed.client(bed.master_port)
    both = write_acknowledged(master, "both", 2000, 2)
    os.kill(pid_of(bed, "replica2"), signal.SIGSTOP)
    try:
        # The frozen replica's connection is closed: what follows reaches replica1 only (it reconnects).
        master.execute_command("CLIENT", "KILL", "TYPE", "replica")
        only_first = write_acknowledged(master, "first", 1000, 1)
        os.kill(pid_of(bed, "master"), signal.SIGKILL)
    finally:
        os.kill(pid_of(bed, "replica2"), signal.SIGCONT)
    for name in ("replica1", "replica2"):
        client = bed.client(bed.ports[name])
        wait_until(lambda: client.info("replication")["master_link_status"] == "down", timeout=30,
                   what="%s to see its master down" % name)
    offsets = {name: bed.client(bed.ports[name]).info("replication")["master_repl_offset"]
               for name in ("replica1", "replica2")}
    assert offsets["replica1"] > offsets["replica2"], offsets
    return dict(both, **only_first), offsets


def test_unplanned_is_refused_while_the_master_answers(crash_bed):
    bed = crash_bed
    ids, files, topology = run_ids(bed), live_files(bed), roles(bed)
    for target, words in (
            (None, ["every master of the play answers (localhost:master at 127.0.0.1:%d)" % bed.master_port,
                    "leave redis_failover_unplanned out and set redis_failover_target"]),
            ("localhost:replica1", ["the master localhost:master (127.0.0.1:%d) answers, as a master" % bed.master_port,
                                    "leave redis_failover_unplanned out and set redis_failover_target=localhost:replica1"])):
        proc = unplanned(bed, target=target)
        assert proc.returncode != 0, show(proc)
        assert recap(proc)[1] == 0, show(proc)
        out = flat(proc)
        for word in words + ["Nothing was changed"]:
            assert word in out, show(proc)
    assert (run_ids(bed), live_files(bed), roles(bed)) == (ids, files, topology)
    assert not os.path.exists(bed.path("etc", "redis-failover.yml"))


def test_unplanned_refuses_a_target_behind_another_replica(crash_bed, crashed):
    bed = crash_bed
    keys, offsets = crashed
    replicas = ("replica1", "replica2")
    files, topology = live_files(bed), live_roles(bed, replicas)
    proc = unplanned(bed, target="localhost:replica2")
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = flat(proc)
    assert ("localhost:replica2 is at replication offset %d, behind localhost:replica1 at offset %d"
            % (offsets["replica2"], offsets["replica1"])) in out, show(proc)
    assert "Name localhost:replica1 as the target" in out and "Nothing was changed" in out, show(proc)
    assert (live_files(bed), live_roles(bed, replicas)) == (files, topology)
    assert not os.path.exists(bed.path("etc", "redis-failover.yml"))


def test_unplanned_check_mode_shows_the_promotion_and_changes_nothing(crash_bed, crashed):
    bed = crash_bed
    replicas = ("replica1", "replica2")
    files, topology = live_files(bed), live_roles(bed, replicas)
    proc = unplanned(bed, "--check", "--diff")
    assert proc.returncode == 0, show(proc)
    out = flat(proc)
    assert "localhost:replica1 (127.0.0.1:%d) would be the master now" % bed.ports["replica1"] in out, show(proc)
    assert "localhost:replica1 - REPLICAOF NO ONE" in out, show(proc)
    assert "localhost:master (127.0.0.1:%d) is down" % bed.master_port in out, show(proc)
    assert (live_files(bed), live_roles(bed, replicas)) == (files, topology)
    assert not os.path.exists(bed.path("etc", "redis-failover.yml"))


@pytest.fixture(scope="module")
def replaced(crash_bed, crashed):
    return unplanned(crash_bed)


def test_unplanned_promotes_the_most_up_to_date_replica_without_losing_a_key(crash_bed, crashed, replaced):
    bed, proc = crash_bed, replaced
    keys, offsets = crashed
    assert proc.returncode == 0, show(proc)
    out = flat(proc)
    assert "localhost:replica1 (127.0.0.1:%d) is the master now" % bed.ports["replica1"] in out, show(proc)
    assert "localhost:replica1 %d" % offsets["replica1"] in out and "localhost:replica2 %d" % offsets["replica2"] \
        in out, show(proc)
    assert "host 'localhost', instance 'replica1': remove replicaof (it is the master now)" in out, show(proc)
    assert "host 'localhost', instance 'master': add replicaof: 'localhost:replica1'" in out, show(proc)
    names = sorted(keys)
    expected = [keys[name] for name in names]
    new_master = bed.client(bed.ports["replica1"])
    assert new_master.info("replication")["role"] == "master"
    assert new_master.mget(names) == expected
    # replica2 missed the last 1000 keys; it is re-pointed, resyncs and holds them too.
    replica2 = bed.client(bed.ports["replica2"])
    wait_until(lambda: replica2.info("replication")["master_link_status"] == "up", timeout=30,
               what="replica2 linked to the new master")
    assert role(bed, "replica2") == "replica of 127.0.0.1:%d" % bed.ports["replica1"]
    wait_until(lambda: replica2.dbsize() == new_master.dbsize(), timeout=30, what="replica2 in sync")
    assert replica2.mget(names) == expected


def test_unplanned_writes_the_live_files_and_the_record(crash_bed, replaced):
    bed = crash_bed
    files = live_files(bed)
    assert "replicaof" not in files["replica1"] and "masterauth" not in files["replica1"]
    for name in ("master", "replica2"):
        lines = files[name].splitlines()
        assert "replicaof 127.0.0.1 %d" % bed.ports["replica1"] in lines, files[name]
        assert [line.split()[0] for line in lines if not line.startswith("#")] == [
            "requirepass", "masterauth", "replicaof", "replica-read-only", "repl-diskless-sync-max-replicas"], files[name]
    record = yaml.safe_load(read(bed, "etc", "redis-failover.yml"))
    assert record["master"]["label"] == "localhost:replica1"
    assert record["previous_master"]["label"] == "localhost:master"


def test_unplanned_again_changes_nothing(crash_bed, replaced):
    bed = crash_bed
    files, topology = live_files(bed), live_roles(bed, ("replica1", "replica2"))
    for args in ((), ("--check",)):
        proc = unplanned(bed, *args)
        assert proc.returncode == 0, show(proc)
        assert recap(proc)[1] == 0, show(proc)
        assert "was the master already" in flat(proc), show(proc)
    assert (live_files(bed), live_roles(bed, ("replica1", "replica2"))) == (files, topology)


def test_site_with_the_old_inventory_refuses_to_start_the_old_master_as_master(crash_bed, replaced):
    bed = crash_bed
    files = live_files(bed)
    proc = bed.site()
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert ("Instance 'replica1' of host 'localhost' (127.0.0.1:%d) is a master now" % bed.ports["replica1"]
            in flat(proc)), show(proc)
    assert live_files(bed) == files
    with pytest.raises(redis.ConnectionError):
        bed.client(bed.master_port).ping()


def test_the_old_master_comes_back_as_a_replica_with_every_key(crash_bed, crashed, replaced):
    bed = crash_bed
    keys, offsets = crashed
    bed.instances = updated_instances(bed, "replica1")
    bed.write_inventory()
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert not leaked(proc)
    assert roles(bed) == {"replica1": "master",
                          "master": "replica of 127.0.0.1:%d" % bed.ports["replica1"],
                          "replica2": "replica of 127.0.0.1:%d" % bed.ports["replica1"]}
    old_master = bed.client(bed.master_port)
    assert old_master.info("replication")["master_link_status"] == "up"
    names = sorted(keys)
    assert old_master.mget(names) == [keys[name] for name in names]
    assert old_master.dbsize() == bed.client(bed.ports["replica1"]).dbsize()
    proc = bed.site()
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
