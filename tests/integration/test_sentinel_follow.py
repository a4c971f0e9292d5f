"""The server role follows Sentinel (issue 10 part B), on real processes: a master and a replica
deployed by site.yml (process service manager, free loopback ports) and three redis-sentinel
processes started by this test from a minimal sentinel.conf it writes (the sentinel role is
another part's), monitoring the master with quorum 2 and a one-second down-after.

In order, on one bed: the first deploy runs with no Sentinel yet (the inventory holds); the
Sentinels agree on the inventory's master; the master is killed with SIGKILL after writes its
replica acknowledged (WAIT 1); the Sentinels promote the replica; site.yml starts the old master
as a replica of the new one without restarting anything; verify passes; the next run changes
nothing. Then Sentinels that disagree stop the run before anything changes.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time

import pytest
import redis
import yaml

from harness import PASSWORD, Bed, acked_writes, flat, free_port, recap, run_module, show, wait_until

from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import (
    SENTINEL_CHANNELS,
    SENTINEL_COMMANDS,
    entry_dict,
)
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import quote

GROUP = "master"
# Sentinel logs in to the data instances as this ACL user, which the role creates with only the
# commands Sentinel needs: the Sentinels seeing the replica and each other, and the failover
# (SLAVEOF, CONFIG REWRITE, CLIENT KILL in MULTI/EXEC), prove the list on a real redis-sentinel.
SENTINEL_USER = "sentinel-user"
SENTINEL_PASSWORD = "sentinel pass#%d 'q'" % os.getpid()
SENTINEL_HOSTS = "follow_sentinels"


def sentinel_command(conf):
    binary = shutil.which("redis-sentinel")
    return [binary, conf] if binary else ["redis-server", conf, "--sentinel"]


class Sentinels:
    """Three Sentinels on free loopback ports, each with its own config file and directory."""

    def __init__(self, bed, master_port):
        self.bed = bed
        self.ports = [free_port(), free_port(), free_port()]
        self.master_port = master_port
        self.procs = {}

    def conf(self, port):
        return self.bed.path("sentinel-%d" % port, "sentinel.conf")

    def start(self, port):
        directory = os.path.dirname(self.conf(port))
        if not os.path.exists(self.conf(port)):
            os.makedirs(directory, exist_ok=True)
            with open(self.conf(port), "w") as handle:
                handle.write("port %d\nbind 127.0.0.1\ndaemonize no\ndir %s\nlogfile %s/sentinel.log\n"
                             "sentinel monitor %s 127.0.0.1 %d 2\nsentinel auth-user %s %s\n"
                             "sentinel auth-pass %s %s\n"
                             "sentinel down-after-milliseconds %s 1000\nsentinel failover-timeout %s 5000\n"
                             % (port, directory, directory, GROUP, self.master_port, GROUP, SENTINEL_USER,
                                GROUP, quote(SENTINEL_PASSWORD), GROUP, GROUP))
        self.procs[port] = subprocess.Popen(sentinel_command(self.conf(port)), stdout=subprocess.DEVNULL,
                                            stderr=subprocess.DEVNULL)
        wait_until(lambda: self._answers(port), what="Sentinel on port %d" % port)

    def _answers(self, port):
        try:
            return self.client(port).ping()
        except redis.RedisError:
            return False

    def client(self, port):
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True, socket_timeout=5)

    def master(self, port):
        try:
            reply = self.client(port).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", GROUP)
        except redis.RedisError:
            return None
        return int(reply[1]) if reply else None

    def agree_on(self, master_port, ports=None):
        return all(self.master(port) == master_port for port in ports or self.ports)

    def ready(self):
        """Each knows the replica and the two other Sentinels."""
        for port in self.ports:
            client = self.client(port)
            if len(client.execute_command("SENTINEL", "REPLICAS", GROUP)) < 1:
                return False
            if len(client.execute_command("SENTINEL", "SENTINELS", GROUP)) < 2:
                return False
        return True

    def stop(self, port, sig=signal.SIGTERM):
        proc = self.procs.pop(port, None)
        if proc and proc.poll() is None:
            proc.send_signal(sig)
            proc.wait(timeout=10)

    def stop_all(self):
        for port in list(self.procs):
            self.stop(port, signal.SIGKILL)


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-follow-")
    bed.sentinels = Sentinels(bed, bed.master_port)
    # No masterauth on the master: the role gives a Sentinel group's master its replicas' (a failover
    # then changes no auth setting, and the demoted master syncs at once).
    host = bed.host_vars()
    host.update(redis_sentinel_instances=[{"name": "s%d" % index, "port": port}
                                          for index, port in enumerate(bed.sentinels.ports)],
                redis_sentinel_monitors=[{"name": GROUP, "master": "localhost:master", "quorum": 2}],
                redis_sentinel_auth_user=SENTINEL_USER, redis_sentinel_auth_password=SENTINEL_PASSWORD,
                # The test starts its Sentinels itself: their group is not site.yml's redis_sentinel, whose
                # play would deploy Sentinels of the sentinel role there (tests/integration/test_sentinel.py).
                redis_server_sentinel_group=SENTINEL_HOSTS)
    with open(bed.inventory, "w") as handle:
        yaml.safe_dump({"redis": {"hosts": {"localhost": host}}, SENTINEL_HOSTS: {"hosts": {"localhost": {}}}}, handle)
    yield bed
    bed.sentinels.stop_all()
    bed.stop_all()


def changed_tasks(proc):
    """The names of the tasks that reported a change, in order."""
    found, task = [], None
    for line in proc.stdout.splitlines():
        if line.startswith("TASK ["):
            task = line[line.index("[") + 1:line.rindex("]")].split(" : ", 1)[-1]
        elif line.startswith("changed:") and task and task not in found:
            found.append(task)
    return found


def role_of(bed, port):
    info = bed.client(port).info("replication")
    return "master" if info["role"] == "master" else "replica of %s" % info["master_port"]


def test_the_first_deploy_runs_before_any_sentinel(bed):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert "Ask the Sentinels of each group which instance is its master" in proc.stdout, show(proc)
    assert role_of(bed, bed.replica_port) == "replica of %d" % bed.master_port
    assert SENTINEL_PASSWORD not in proc.stdout
    for port in (bed.master_port, bed.replica_port):
        user = bed.client(port).acl_getuser(SENTINEL_USER)
        assert set(user["commands"]) == set(SENTINEL_COMMANDS), user
        assert user["channels"] == list(SENTINEL_CHANNELS) and not user["keys"], user
        assert redis.Redis(host="127.0.0.1", port=port, username=SENTINEL_USER, password=SENTINEL_PASSWORD).ping()


def test_the_module_says_no_sentinel_runs_yet(bed):
    result = run_module("sentinel_master", {"group": GROUP, "instances": [
        {"instance": "s%d" % index, "login_port": port} for index, port in enumerate(bed.sentinels.ports)]})
    assert result["state"] == "no_sentinel" and result["master"] is None, result
    assert [answer["unreachable"] for answer in result["sentinels"]] == [True, True, True]


def test_the_sentinels_agree_on_the_inventory_master(bed):
    for port in bed.sentinels.ports:
        bed.sentinels.start(port)
    wait_until(bed.sentinels.ready, timeout=30, what="the Sentinels to know the replica and each other")
    result = run_module("sentinel_master", {"group": GROUP, "instances": [
        {"instance": "s%d" % index, "login_port": port} for index, port in enumerate(bed.sentinels.ports)]})
    assert (result["state"], result["master"], result["votes"]) == ("agreed", {"host": "127.0.0.1", "port": bed.master_port}, 3)


def test_a_killed_master_is_replaced_and_the_old_one_comes_back_as_a_replica(bed):
    acked = acked_writes(bed.client(bed.master_port), "acked", 300)
    with open(bed.path("run", "redis-master.pid")) as handle:
        os.kill(int(handle.read()), signal.SIGKILL)
    wait_until(lambda: bed.sentinels.agree_on(bed.replica_port), timeout=40, interval=0.2,
               what="the Sentinels to promote the replica")
    wait_until(lambda: role_of(bed, bed.replica_port) == "master", timeout=20, what="the promotion")
    new_master = bed.client(bed.replica_port)
    assert {key: new_master.get(key) for key in acked} == acked
    new_run_id = bed.run_id(bed.replica_port)

    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    # the files and live settings of the new topology, the old master started; no restart
    assert set(changed_tasks(proc)) <= {"Write the directories and configuration files of the instances",
                                        "Start the instances that are not running (process)",
                                        "Apply auth and replication settings to the running instances"}, show(proc)
    assert "Start the instances that are not running (process)" in changed_tasks(proc), show(proc)
    # the old master is started, as a replica of the new one; the new master is not restarted
    assert role_of(bed, bed.master_port) == "replica of %d" % bed.replica_port
    assert bed.run_id(bed.replica_port) == new_run_id
    wait_until(lambda: bed.client(bed.master_port).info("replication")["master_link_status"] == "up",
               what="the old master's link to the new one")
    assert bed.client(bed.master_port).get("acked:299") == "299"
    with open(bed.path("etc", "redis-master.live.conf")) as handle:
        assert "replicaof 127.0.0.1 %d" % bed.replica_port in handle.read()
    with open(bed.path("etc", "redis-replica.live.conf")) as handle:
        assert "replicaof" not in handle.read()

    proc = bed.playbook("playbooks/verify.yml")
    assert proc.returncode == 0, show(proc)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert bed.run_id(bed.replica_port) == new_run_id
    wait_until(lambda: bed.sentinels.agree_on(bed.replica_port), what="the Sentinels to keep the new master")


class Writer(threading.Thread):
    """Numbered writes, each acknowledged by a replica (WAIT 1), to whichever instance the Sentinels name
    the master; on an error (writes paused then refused by a demoted master) it asks them again."""

    def __init__(self, bed):
        super().__init__(daemon=True)
        self.bed, self.acked, self.errors, self.done = bed, [], 0, threading.Event()

    def master_client(self):
        ports = [self.bed.sentinels.master(sentinel) for sentinel in self.bed.sentinels.ports]
        return self.bed.client(next(port for port in ports if port))

    def run(self):
        client, number = self.master_client(), 0
        while not self.done.is_set():
            number += 1
            try:
                client.set("switch:%d" % number, number)
                if client.execute_command("WAIT", 1, 2000) >= 1:
                    self.acked.append(number)
            except redis.RedisError:
                self.errors += 1
                time.sleep(0.05)
                try:
                    client = self.master_client()
                except redis.RedisError:
                    pass
            time.sleep(0.002)


def sentinels_see_replica(bed, port):
    """Every Sentinel lists the instance on port as a replica it may promote (no down flag)."""
    for sentinel in bed.sentinels.ports:
        entries = [entry_dict(entry) for entry in
                   bed.sentinels.client(sentinel).execute_command("SENTINEL", "REPLICAS", GROUP)]
        if not any(int(entry["port"]) == port and entry["flags"] == "slave" and entry.get("master-link-status") == "ok"
                   for entry in entries):
            return False
    return True


def test_failover_yml_switches_over_through_the_sentinels_without_losing_a_write(bed):
    # the master is the replica_port instance since the kill above; switch back to localhost:master
    wait_until(lambda: sentinels_see_replica(bed, bed.master_port), timeout=30, interval=0.2,
               what="the Sentinels to see the old master as a healthy replica")
    run_ids = {port: bed.run_id(port) for port in (bed.master_port, bed.replica_port)}
    proc = bed.playbook("playbooks/failover.yml", "--check", "-e", "redis_failover_target=localhost:master")
    assert proc.returncode == 0, show(proc)
    assert "SENTINEL FAILOVER %s" % GROUP in proc.stdout, show(proc)
    assert role_of(bed, bed.replica_port) == "master" and bed.sentinels.agree_on(bed.replica_port)

    writer = Writer(bed)
    writer.start()
    wait_until(lambda: len(writer.acked) > 20, what="acknowledged writes before the switchover")
    proc = bed.playbook("playbooks/failover.yml", "-e", "redis_failover_target=localhost:master")
    wait_until(lambda: len(writer.acked) > 0 and writer.acked[-1] > writer.acked[0] + 40 and role_of(
        bed, bed.master_port) == "master", timeout=20, what="acknowledged writes after the switchover")
    writer.done.set()
    writer.join(10)
    assert proc.returncode == 0, show(proc)
    assert "SENTINEL FAILOVER %s" % GROUP in proc.stdout, show(proc)
    assert SENTINEL_PASSWORD not in proc.stdout and PASSWORD not in proc.stdout
    # every acknowledged write is on the new master; the Sentinels agree on it; the old master follows it
    new_master = bed.client(bed.master_port)
    missing = [number for number in writer.acked if new_master.get("switch:%d" % number) != str(number)]
    assert not missing, (missing[:10], len(writer.acked))
    assert role_of(bed, bed.master_port) == "master"
    assert role_of(bed, bed.replica_port) == "replica of %d" % bed.master_port
    assert bed.sentinels.agree_on(bed.master_port)
    assert {port: bed.run_id(port) for port in run_ids} == run_ids

    # site.yml ends with the role's verify of every instance: it passes, and changes nothing
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert "TASK [redisops.redis.server : Check the replication state of the instances]" in proc.stdout, show(proc)
    assert "ok: [localhost]" in proc.stdout.split("Check the replication state of the instances]", 1)[1][:300], show(proc)
    assert {port: bed.run_id(port) for port in run_ids} == run_ids


def test_failover_yml_refuses_a_target_sentinel_would_not_surely_promote(bed):
    replica = bed.client(bed.replica_port)
    replica.config_set("replica-priority", "0")
    try:
        wait_until(lambda: all(
            entry_dict(entry).get("slave-priority") == "0"
            for sentinel in bed.sentinels.ports
            for entry in bed.sentinels.client(sentinel).execute_command("SENTINEL", "REPLICAS", GROUP)),
            timeout=30, interval=0.5, what="the Sentinels to read replica-priority 0")
        proc = bed.playbook("playbooks/failover.yml", "-e", "redis_failover_target=localhost:replica")
    finally:
        replica.config_set("replica-priority", "100")
    assert proc.returncode != 0, show(proc)
    assert "would not promote 127.0.0.1:%d in group 'master': replica-priority 0" % bed.replica_port in flat(proc), show(proc)
    assert "Nothing was changed" in flat(proc), show(proc)
    assert role_of(bed, bed.master_port) == "master" and bed.sentinels.agree_on(bed.master_port)


def main_file(bed, name):
    with open(bed.path("etc", "redis-%s.conf" % name)) as handle:
        return handle.read()


def rewritten_by_sentinel(bed, name, replicaof):
    """The main file holds what Sentinel's CONFIG REWRITE wrote after the failover: replicaof (None
    for the promoted instance: no replicaof) in its generated section."""
    parts = main_file(bed, name).split("# Generated by CONFIG REWRITE", 1)
    if len(parts) < 2:
        return False
    return "replicaof" not in parts[1] if replicaof is None else "replicaof 127.0.0.1 %d" % replicaof in parts[1]


def failover_asked(bed):
    try:
        return bed.sentinels.client(bed.sentinels.ports[0]).execute_command("SENTINEL", "FAILOVER", GROUP)
    except redis.ResponseError:
        return False


def test_verify_after_a_sentinel_failover_takes_its_config_rewrite_for_no_drift(bed, tmp_path):
    """Sentinel's failover sends each instance SLAVEOF and CONFIG REWRITE: the main files get its section.
    verify.yml reports them as rewritten, not as drift; a hand edit of maxmemory beside it is drift."""
    wait_until(lambda: sentinels_see_replica(bed, bed.replica_port), timeout=30, interval=0.2,
               what="the Sentinels to see the replica as healthy")
    run_ids = {port: bed.run_id(port) for port in (bed.master_port, bed.replica_port)}
    # The servers may rewrite their files where they may write, as in Debian's /etc/redis (2770 redis:redis).
    os.chmod(bed.path("etc"), 0o770)
    try:
        # (NOGOODSLAVE until the Sentinels have read the replica-priority the test above put back)
        wait_until(lambda: failover_asked(bed), timeout=30, interval=0.5, what="a Sentinel to start a failover")
        wait_until(lambda: bed.sentinels.agree_on(bed.replica_port), timeout=40, interval=0.2,
                   what="the Sentinels to promote the replica")
        wait_until(lambda: rewritten_by_sentinel(bed, "replica", None)
                   and rewritten_by_sentinel(bed, "master", bed.replica_port), timeout=30, interval=0.2,
                   what="Sentinel's CONFIG REWRITE of both main files")
    finally:
        os.chmod(bed.path("etc"), 0o750)
    wait_until(lambda: role_of(bed, bed.master_port) == "replica of %d" % bed.replica_port, timeout=20,
               what="the old master to follow the new one")

    proc = bed.playbook("playbooks/verify.yml", "-e", "redis_report_dir=%s" % tmp_path)
    assert proc.returncode == 0, show(proc)
    assert "DRIFT" not in proc.stdout, show(proc)
    for name in ("master", "replica"):
        assert ("%s rewritten by CONFIG REWRITE (Sentinel); site.yml writes it back without a restart"
                % bed.path("etc", "redis-%s.conf" % name)) in flat(proc), show(proc)
    with open(os.path.join(str(tmp_path), "redis-verify.json")) as handle:
        report = json.load(handle)
    assert report["ok"] is True, report
    for name in ("master", "replica"):
        assert report["hosts"]["localhost"]["instances"][name]["drift"] == [], report
    assert PASSWORD not in proc.stdout and SENTINEL_PASSWORD not in proc.stdout

    # a hand edit of a real setting in the same group is drift, the header kept
    before = main_file(bed, "master")
    with open(bed.path("etc", "redis-master.conf"), "w") as handle:
        handle.write(before.replace("\ninclude ", "\nmaxmemory 128mb\ninclude ", 1))
    proc = bed.playbook("playbooks/verify.yml", "-e", "redis_report_dir=%s" % tmp_path)
    assert proc.returncode != 0, show(proc)
    assert "DRIFT: file differs: %s" % bed.path("etc", "redis-master.conf") in flat(proc), show(proc)
    assert "file differs: %s" % bed.path("etc", "redis-replica.conf") not in flat(proc), show(proc)
    with open(os.path.join(str(tmp_path), "redis-verify.json")) as handle:
        report = json.load(handle)
    # (and the restart that would apply it: the pending-restart check reads the file too)
    assert "file differs: %s" % bed.path("etc", "redis-master.conf") in report["hosts"]["localhost"]["instances"][
        "master"]["drift"], report
    assert report["hosts"]["localhost"]["instances"]["replica"]["drift"] == [], report
    with open(bed.path("etc", "redis-master.conf"), "w") as handle:
        handle.write(before)
    assert {port: bed.run_id(port) for port in run_ids} == run_ids


def test_sentinels_without_a_majority_stop_the_run_before_any_change(bed):
    run_ids = {port: bed.run_id(port) for port in (bed.master_port, bed.replica_port)}
    files = {name: os.stat(bed.path("etc", name)).st_mtime_ns for name in os.listdir(bed.path("etc"))}
    first, third = bed.sentinels.ports[0], bed.sentinels.ports[2]
    master_port = bed.sentinels.master(first)
    # one Sentinel no longer monitors the group, one is down: one vote, two needed of three
    bed.sentinels.client(first).execute_command("SENTINEL", "REMOVE", GROUP)
    bed.sentinels.stop(third)
    proc = bed.site()
    assert proc.returncode != 0, show(proc)
    assert "do not agree on its master" in flat(proc), show(proc)
    assert "localhost:s0: does not monitor the group" in flat(proc), show(proc)
    assert "localhost:s1: 127.0.0.1:%d" % master_port in flat(proc), show(proc)
    assert "localhost:s2: no answer" in flat(proc), show(proc)
    assert {port: bed.run_id(port) for port in run_ids} == run_ids
    assert {name: os.stat(bed.path("etc", name)).st_mtime_ns for name in os.listdir(bed.path("etc"))} == files
    assert PASSWORD not in proc.stdout and SENTINEL_PASSWORD not in proc.stdout
