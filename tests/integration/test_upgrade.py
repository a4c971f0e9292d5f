"""Upgrades on real servers: an instance left on a replaced server program, and playbooks/upgrade.yml.

Two builds of one Redis version are the two programs: the machine's redis-server, and the other
build of the same Debian package version line (bookworm main ~deb12u7 and bookworm-security
~deb12u10 are both 7.0.15 with different build ids), fetched once with `apt-get download` and
cached under the temp dir. A bed deployed by site.yml (process service manager) runs from a copy
of one at BED/bin/redis-server; replacing that file with the other (a rename, as dpkg does) is an
upgrade made outside the role: the instances keep running the old program.

The tests share one bed and run in order: verify reports the replaced program and site.yml
restarts the instances rolling; upgrade.yml restarts them under a writer (WAIT 1) with every
acknowledged write kept, its write outage printed; then the switchover mode (the master replaced
by its replica, zero writes lost), the inventory updated as the playbook says, and a run that
changes nothing.
"""

from __future__ import annotations

import glob
import os
import re
import shutil
import subprocess
import tempfile
import threading
import time

import pytest
import redis

from harness import Bed, recap, show, wait_until

CACHE = os.path.join(tempfile.gettempdir(), "redisops-upgrade-builds")
BUILD = re.compile(r"\bv=(\S+) .*\bbuild=([0-9a-f]+)")


def version_of(path):
    out = subprocess.run([path, "--version"], capture_output=True, text=True, check=True).stdout
    match = BUILD.search(out)
    return match.group(1), match.group(2)


def other_build():
    """A redis-server program of the installed version line with another build id: the redis-tools
    package (which holds the program; redis-server is a link to it) of another version apt offers."""
    if shutil.which("apt-get") is None or shutil.which("dpkg-deb") is None:
        pytest.skip("apt-get and dpkg-deb are needed to fetch another build of redis-server")
    installed = subprocess.run(["dpkg-query", "-W", "-f=${Version}", "redis-tools"], capture_output=True,
                               text=True, check=False).stdout.strip()
    madison = subprocess.run(["apt-cache", "madison", "redis-tools"], capture_output=True, text=True,
                             check=False).stdout
    versions = [line.split("|")[1].strip() for line in madison.splitlines() if line.count("|") >= 2]
    others = [version for version in versions if version != installed]
    assert others, "apt offers no other version of redis-tools than %r: %s" % (installed, madison)
    target = os.path.join(CACHE, re.sub(r"[^A-Za-z0-9.+~-]", "_", others[0]))
    program = os.path.join(target, "redis-server")
    if not os.path.exists(program):
        os.makedirs(target, exist_ok=True)
        subprocess.run(["apt-get", "download", "redis-tools=" + others[0]], cwd=target, check=True,
                       capture_output=True, timeout=120)
        [deb] = glob.glob(os.path.join(target, "*.deb"))
        subprocess.run(["dpkg-deb", "-x", deb, os.path.join(target, "root")], check=True)
        shutil.copy2(os.path.join(target, "root", "usr", "bin", "redis-check-rdb"), program + ".tmp")
        os.replace(program + ".tmp", program)
    return program


@pytest.fixture(scope="module")
def builds():
    """{"a": path, "b": path}: two programs of the same version with different build ids."""
    a = shutil.which("redis-server") or "/usr/bin/redis-server"  # a link to redis-check-rdb: run by this name
    b = other_build()
    assert version_of(a)[0] == version_of(b)[0] and version_of(a)[1] != version_of(b)[1], (version_of(a), version_of(b))
    return {"a": a, "b": b}


def install(bed, source):
    """Put source at the bed's program path the way dpkg does: a new file renamed over the old one."""
    path = bed.path("bin", "redis-server")
    os.makedirs(os.path.dirname(path), exist_ok=True)
    shutil.copy2(source, path + ".dpkg-new")
    os.replace(path + ".dpkg-new", path)
    return version_of(path)[1]


@pytest.fixture(scope="module")
def bed(builds):
    bed = Bed(prefix="redisops-upgrade-")
    install(bed, builds["b"])
    bed.write_inventory(redis_server_binary=bed.path("bin", "redis-server"))
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    bed.client(bed.master_port).mset({"kept:%d" % n: n for n in range(200)})
    wait_until(lambda: bed.client(bed.replica_port).dbsize() >= 200, what="the keys on the replica")
    yield bed
    bed.stop_all()


def flat(proc):
    """The output with every run of whitespace one space (the callback wraps long lines)."""
    return " ".join(proc.stdout.split())


def replace_program(bed, builds):
    """Install the build the master does not run (the tests run in order; each starts from the last)."""
    running_build = running(bed, bed.master_port)[0]
    return running_build, install(bed, builds["a"] if version_of(builds["b"])[1] == running_build else builds["b"])


def running(bed, port):
    info = bed.client(port).info("server")
    return info["redis_build_id"], info["run_id"]


def test_verify_reports_a_replaced_program_and_site_restarts_it_rolling(bed, builds):
    old, new = replace_program(bed, builds)
    before = {port: running(bed, port) for port in (bed.master_port, bed.replica_port)}
    assert {build for build, run_id in before.values()} == {old}

    proc = bed.playbook("playbooks/verify.yml")
    assert proc.returncode != 0, show(proc)
    expected = ("restart pending: runs redis-server 7.0.15 build %s (%s), the installed binary is redis-server "
                "7.0.15 build %s: a restart runs the installed one" % (old, bed.path("bin", "redis-server"), new))
    assert proc.stdout.count(expected) >= 2, show(proc)  # the master's row and the replica's

    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    after = {port: running(bed, port) for port in before}
    assert all(after[port][0] == new and after[port][1] != before[port][1] for port in before), (before, after)
    # Rolling: the replica first, then the master.
    restarts = re.findall(r"^RUNNING HANDLER \[redisops\.redis\.server : Restart the changed (replicas|masters)", proc.stdout, re.M)
    assert restarts[:2] == ["replicas", "masters"], show(proc)
    replica = bed.client(bed.replica_port)
    wait_until(lambda: replica.info("replication")["master_link_status"] == "up", what="the replica's link")
    assert replica.mget(["kept:%d" % n for n in range(200)]) == [str(n) for n in range(200)]

    proc = bed.playbook("playbooks/verify.yml")
    assert proc.returncode == 0, show(proc)


class Writer(threading.Thread):
    """Numbered writes, each followed by WAIT 1 (one replica has it): acknowledged when WAIT says so.
    Follows the master (the other port) when the one it writes to refuses writes or is down. The
    write outage is the longest time between two writes the master accepted."""

    def __init__(self, bed, ports):
        super().__init__(daemon=True)
        self.bed, self.ports = bed, list(ports)
        self.acked, self.times, self.errors = [], [], 0
        self.halt = threading.Event()

    def run(self):
        current, number = 0, 0
        client = self.bed.client(self.ports[current], socket_timeout=5)
        while not self.halt.is_set():
            number += 1
            try:
                client.set("w:%07d" % number, number)
                self.times.append(time.monotonic())
                # Short: while the only replica restarts, writes go on, unacknowledged (not counted).
                if client.execute_command("WAIT", 1, 100) >= 1:
                    self.acked.append(number)
            except redis.RedisError as exc:
                self.errors += 1
                if "READONLY" in str(exc) or isinstance(exc, redis.ConnectionError):
                    current = (current + 1) % len(self.ports) if "READONLY" in str(exc) else current
                    client = self.bed.client(self.ports[current], socket_timeout=5)
                time.sleep(0.005)

    def outage(self):
        gaps = [later - earlier for earlier, later in zip(self.times, self.times[1:])]
        return max(gaps) if gaps else None


def upgrade_under_writes(bed, ports, *args):
    writer = Writer(bed, ports)
    writer.start()
    wait_until(lambda: len(writer.acked) > 50, what="acknowledged writes before the upgrade")
    proc = bed.playbook("playbooks/upgrade.yml", "-e", "redis_upgrade_package_state=present", *args)
    with open(os.path.join(tempfile.gettempdir(), "redisops-upgrade-last.log"), "w") as handle:
        handle.write(proc.stdout + proc.stderr)
    time.sleep(0.3)
    writer.halt.set()
    writer.join(10)
    return proc, writer


def assert_every_acknowledged_write_on(bed, writer, ports):
    keys = ["w:%07d" % number for number in writer.acked]
    for port in ports:
        client = bed.client(port)
        if client.info("replication")["role"] == "slave":
            wait_until(lambda c=client: c.info("replication")["master_link_status"] == "up", what="link up")
        master = bed.client(ports[0]) if bed.client(ports[0]).info("replication")["role"] == "master" else bed.client(ports[1])
        offset = master.info("replication")["master_repl_offset"]
        wait_until(lambda c=client: c.info("replication").get("slave_repl_offset", offset) >= offset, what="in sync")
        values = client.mget(keys)
        lost = [key for key, value in zip(keys, values) if value is None]
        assert not lost, "%d acknowledged writes missing on port %d: %s" % (len(lost), port, lost[:10])


def test_upgrade_restarts_rolling_without_losing_an_acknowledged_write(bed, builds):
    old, new = replace_program(bed, builds)
    proc, writer = upgrade_under_writes(bed, [bed.master_port, bed.replica_port])
    assert proc.returncode == 0, show(proc)
    # the switchover's play, imported but skipped, reports no error of its own (an ignored one included)
    assert "fatal:" not in proc.stdout and "...ignoring" not in proc.stdout, show(proc)
    assert "localhost:master: redis-server 7.0.15 build %s -> redis-server 7.0.15 build %s, restarted (master)" % (
        old, new) in flat(proc), show(proc)
    assert "localhost:replica: redis-server 7.0.15 build %s -> redis-server 7.0.15 build %s, restarted (replica)" % (
        old, new) in flat(proc), show(proc)
    assert_every_acknowledged_write_on(bed, writer, [bed.master_port, bed.replica_port])
    print("\nupgrade.yml, restart mode: %d writes acknowledged (WAIT 1), none lost; write outage %.3f s"
          % (len(writer.acked), writer.outage()))


def test_upgrade_with_switchover_replaces_the_master_by_its_replica(bed, builds):
    old, new = replace_program(bed, builds)
    proc, writer = upgrade_under_writes(bed, [bed.master_port, bed.replica_port],
                                        "-e", "redis_server_upgrade_switchover=true")
    assert proc.returncode == 0, show(proc)
    assert "localhost:master runs redis-server 7.0.15 build %s" % old in flat(proc), show(proc)
    assert "localhost:replica replaces it as master through the zero-loss switchover" in flat(proc), show(proc)
    master, replica = bed.client(bed.master_port), bed.client(bed.replica_port)
    assert replica.info("replication")["role"] == "master"
    assert master.info("replication")["role"] == "slave"
    assert running(bed, bed.master_port)[0] == new and running(bed, bed.replica_port)[0] == new
    assert "localhost:master: redis-server 7.0.15 build %s -> redis-server 7.0.15 build %s, restarted (replica)" % (
        old, new) in flat(proc), show(proc)
    assert_every_acknowledged_write_on(bed, writer, [bed.replica_port, bed.master_port])
    print("\nupgrade.yml, switchover mode: %d writes acknowledged (WAIT 1), none lost; write outage %.3f s"
          % (len(writer.acked), writer.outage()))

    # The inventory updated as failover.yml says: a second run (the role's play included) changes nothing.
    swapped = [{"name": "master", "port": bed.master_port, "replicaof": "localhost:replica"},
               {"name": "replica", "port": bed.replica_port}]
    inventory = bed.variant("swapped", instances=swapped, redis_server_binary=bed.path("bin", "redis-server"))
    proc = bed.playbook("playbooks/upgrade.yml", "-e", "redis_upgrade_package_state=present",
                        "-e", "redis_server_upgrade_switchover=true", inventory=inventory)
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
