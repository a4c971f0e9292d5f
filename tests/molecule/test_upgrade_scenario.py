"""Upgrades with Debian's real packages: the molecule scenario molecule/upgrade.

Three bookworm containers under systemd (redisops-upgrade-1 the master, -2 and -3 its replicas)
are installed with the older of the two redis-server versions bookworm offers (main
5:7.0.15-1~deb12u7; prepare.yml adds bookworm-security, which has ~deb12u10: the same 7.0.15
with another build id). The tests share the group and run in order:

1. a hand `apt-get install redis-server` in one replica's container leaves its instance on the
   replaced program: playbooks/verify.yml reports it as drift, the next site.yml restarts it,
   verify passes;
2. playbooks/upgrade.yml to the newer package, restart mode, under a writer on the controller
   (numbered writes, each followed by WAIT 1): every acknowledged write on every instance, the
   write outage printed;
3. every container downgraded by hand (site.yml restarts the instances onto the older program
   again), then upgrade.yml with redis_server_upgrade_switchover under a writer: redisops-upgrade-2
   replaces the master, zero acknowledged writes lost, the outage printed; with the inventory
   updated as the playbook says, a second run changes nothing.

Needs Docker and the molecule virtualenv (skipped without them, failed under CI=true, like
test_scenarios.py) and the Debian mirror. The playbooks run from the molecule virtualenv (its
ansible has community.docker) on molecule's inventory; their output is appended to
tests/output/molecule/upgrade.log. The group is destroyed at the end whatever happens.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tempfile
import time

import pytest
import redis

# tests/integration is on the path (pytest.ini pythonpath); tests/molecule's harness is test_scenarios.
from harness import wait_until
from test_upgrade import Writer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scenarios import (GREEN_GLOB, LOG_DIR, MOLECULE_VENV, ROOT,  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import
                            destroy, docker_engine, molecule, tail)

SCENARIO = "upgrade"
HOSTS = ["redisops-upgrade-1", "redisops-upgrade-2", "redisops-upgrade-3"]
# molecule/upgrade/molecule.yml (molecule_package_old, molecule_package_new) and .config/molecule.
OLD, NEW = "5:7.0.15-1~deb12u7", "5:7.0.15-1~deb12u10"
PASSWORD = "molecule-auth-on"
RECAP = re.compile(r"^(redisops-upgrade-\d)\s*:\s*ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Group:
    """The scenario's containers, reached from the controller: playbooks on molecule's inventory,
    apt in a container, a Redis client on a container's bridge address."""

    def __init__(self, inventory):
        self.inventory = inventory
        self.addresses = {}
        for host in HOSTS:
            out = subprocess.run(["docker", "inspect", "--format", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                  host], capture_output=True, text=True, check=True).stdout.strip()
            self.addresses[host] = out

    def playbook(self, playbook, *args, inventory=()):
        env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), ANSIBLE_NOCOLOR="1",
                   ANSIBLE_FORCE_COLOR="0", ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default", ANSIBLE_DISPLAY_OK_HOSTS="true",
                   PATH=os.path.join(MOLECULE_VENV, "bin") + os.pathsep + os.environ.get("PATH", ""))
        env.pop("VIRTUAL_ENV", None)
        sources = [arg for path in (self.inventory,) + tuple(inventory) for arg in ("-i", path)]
        start = time.monotonic()
        proc = subprocess.run([os.path.join(MOLECULE_VENV, "bin", "ansible-playbook")] + sources + [playbook] + list(args),
                              cwd=ROOT, env=env, capture_output=True, text=True, timeout=900, check=False)
        with open(os.path.join(LOG_DIR, SCENARIO + ".log"), "a", encoding="utf-8") as stream:
            stream.write("$ ansible-playbook %s %s (%.0f s, rc=%d)\n%s\n%s\n" % (
                playbook, " ".join(args), time.monotonic() - start, proc.returncode, proc.stdout, proc.stderr))
        return proc

    def apt(self, host, *args):
        """apt-get install in a container, as a person would (outside the role)."""
        proc = subprocess.run(["docker", "exec", "-e", "DEBIAN_FRONTEND=noninteractive", host, "apt-get", "install", "-y", "-q"]
                              + list(args), capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, "apt-get install %s in %s failed:\n%s\n%s" % (" ".join(args), host, proc.stdout, proc.stderr)

    def installed(self, host):
        return subprocess.run(["docker", "exec", host, "dpkg-query", "-W", "-f=${Version}", "redis-tools"],
                              capture_output=True, text=True, check=True).stdout.strip()

    def client(self, host, **kwargs):
        kwargs.setdefault("socket_timeout", 5)
        return redis.Redis(host=self.addresses.get(host, host), port=6379, password=PASSWORD, decode_responses=True, **kwargs)

    def running(self, host):
        """(build id, run id) of the host's instance."""
        info = self.client(host).info("server")
        return info["redis_build_id"], info["run_id"]

    def master(self):
        [master] = [host for host in HOSTS if self.client(host).info("replication")["role"] == "master"]
        return master


def show(proc):
    return "rc=%s\n%s\n%s" % (proc.returncode, tail(proc.stdout, 150), proc.stderr[-3000:])


def flat(proc):
    return " ".join((proc.stdout + proc.stderr).split()).replace("''", "'")


def changes(proc):
    """{host: changed} from the play recap; fails on an unreachable or failed host."""
    found = {host: (int(changed), int(unreachable), int(failed)) for host, changed, unreachable, failed in RECAP.findall(proc.stdout)}
    assert sorted(found) == HOSTS, show(proc)
    assert all(unreachable == failed == 0 for changed, unreachable, failed in found.values()), show(proc)
    return {host: counts[0] for host, counts in found.items()}


@pytest.fixture(scope="module")
def group(docker_engine):  # pylint: disable=redefined-outer-name,unused-argument
    """The scenario created, prepared and converged on the older package; destroyed at the end."""
    log = os.path.join(LOG_DIR, SCENARIO + ".log")
    if os.path.exists(log):
        os.unlink(log)
    # Molecule's working directory (its inventory) at a known place, for the playbooks run here.
    ephemeral = os.path.join(tempfile.gettempdir(), "redisops-molecule-upgrade")
    saved = os.environ.get("MOLECULE_EPHEMERAL_DIRECTORY")
    os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = ephemeral
    try:
        destroy(SCENARIO, GREEN_GLOB)
        for step in ("create", "converge"):  # create runs prepare.yml too
            code, output = molecule([step, "-s", SCENARIO], GREEN_GLOB, SCENARIO)
            assert code == 0, "molecule %s -s %s failed (full output in %s):\n%s" % (step, SCENARIO, log, tail(output, 200))
        group = Group(os.path.join(ephemeral, "inventory"))
        assert {host: group.installed(host) for host in HOSTS} == dict.fromkeys(HOSTS, OLD)
        yield group
    finally:
        try:
            destroy(SCENARIO, GREEN_GLOB)
        finally:
            if saved is None:
                os.environ.pop("MOLECULE_EPHEMERAL_DIRECTORY", None)
            else:
                os.environ["MOLECULE_EPHEMERAL_DIRECTORY"] = saved


def upgrade_under_writes(group, *args, inventory=()):
    """upgrade.yml to the newer package while a writer writes to the master (following it when it moves)."""
    writer = Writer(group, HOSTS)
    writer.start()
    wait_until(lambda: len(writer.acked) > 50, timeout=30, what="acknowledged writes before the upgrade")
    start = time.monotonic()
    proc = group.playbook("playbooks/upgrade.yml", "-e", "redis_server_package_version=" + NEW, *args, inventory=inventory)
    took = time.monotonic() - start
    time.sleep(0.3)
    writer.halt.set()
    writer.join(10)
    return proc, writer, took


def assert_every_acknowledged_write_everywhere(group, writer):
    master = group.client(group.master())
    offset = master.info("replication")["master_repl_offset"]
    keys = ["w:%07d" % number for number in writer.acked]
    assert keys, "the writer had no write acknowledged"
    for host in HOSTS:
        client = group.client(host)
        if client.info("replication")["role"] == "slave":
            wait_until(lambda c=client: c.info("replication")["master_link_status"] == "up", timeout=60, what=host + "'s link")
            wait_until(lambda c=client: c.info("replication")["slave_repl_offset"] >= offset, timeout=60, what=host + " in sync")
        lost = [key for start in range(0, len(keys), 5000)
                for key, value in zip(keys[start:start + 5000], client.mget(keys[start:start + 5000])) if value is None]
        assert not lost, "%d acknowledged writes missing on %s: %s" % (len(lost), host, lost[:10])


def test_a_hand_apt_upgrade_is_drift_that_the_next_site_run_restarts(group):
    host = "redisops-upgrade-3"
    before = group.running(host)
    group.apt(host, "redis-server", "redis-tools")
    assert group.installed(host) == NEW

    proc = group.playbook("playbooks/verify.yml")
    assert proc.returncode != 0, show(proc)
    match = re.search(r"redisops-upgrade-3: main redisops-upgrade-3:6379 role=replica master=redisops-upgrade-1:6379 link=up "
                      r"DRIFT: restart pending: runs redis-server 7.0.15 build (\w+) \(/usr/bin/redis-server\), the installed "
                      r"binary is redis-server 7.0.15 build (\w+): a restart runs the installed one", flat(proc))
    assert match and match.group(1) == before[0] != match.group(2), show(proc)
    # Every drift message starts with its instance: only redisops-upgrade-3's has one.
    drifted = {chunk.split(":")[0] for chunk in flat(proc).split("main redisops-upgrade-")[1:] if "DRIFT" in chunk}
    assert drifted == {"3"}, show(proc)

    others = {other: group.running(other) for other in HOSTS if other != host}
    proc = group.playbook("site.yml")
    assert proc.returncode == 0, show(proc)
    after = group.running(host)
    assert after[0] == match.group(2) and after[1] != before[1], (before, after)
    assert {other: group.running(other) for other in others} == others  # only the replaced program restarted

    proc = group.playbook("playbooks/verify.yml")
    assert proc.returncode == 0, show(proc)


def test_upgrade_restarts_rolling_without_losing_an_acknowledged_write(group):
    old_build = group.running("redisops-upgrade-1")[0]
    new_build = group.running("redisops-upgrade-3")[0]
    proc, writer, took = upgrade_under_writes(group)
    assert proc.returncode == 0, show(proc)
    assert {host: group.installed(host) for host in HOSTS} == dict.fromkeys(HOSTS, NEW)
    assert {host: group.running(host)[0] for host in HOSTS} == dict.fromkeys(HOSTS, new_build)
    for host, role in (("redisops-upgrade-1", "master"), ("redisops-upgrade-2", "replica")):
        assert "%s:main: redis-server 7.0.15 build %s -> redis-server 7.0.15 build %s, restarted (%s)" % (
            host, old_build, new_build, role) in flat(proc), show(proc)
    assert group.master() == "redisops-upgrade-1"
    assert_every_acknowledged_write_everywhere(group, writer)
    print("\nmolecule/upgrade, upgrade.yml %s -> %s, restart mode: %d writes acknowledged (WAIT 1), none lost; "
          "write outage %.3f s; the run took %.0f s" % (OLD, NEW, len(writer.acked), writer.outage(), took))


def test_upgrade_with_switchover_then_a_second_run_changes_nothing(group, tmp_path):
    # Back to the older package by hand; the next site.yml restarts every instance onto it.
    for host in HOSTS:
        group.apt(host, "--allow-downgrades", "redis-server=" + OLD, "redis-tools=" + OLD)
    proc = group.playbook("site.yml")
    assert proc.returncode == 0, show(proc)
    builds = {host: group.running(host)[0] for host in HOSTS}
    assert len(set(builds.values())) == 1, builds
    group.client("redisops-upgrade-1").flushall()  # the writer numbers from 1 again
    for host in HOSTS[1:]:
        wait_until(lambda h=host: group.client(h).dbsize() == 0, timeout=30, what=host + " flushed")

    proc, writer, took = upgrade_under_writes(group, "-e", "redis_server_upgrade_switchover=true")
    assert proc.returncode == 0, show(proc)
    assert "redisops-upgrade-2:main replaces it as master through the zero-loss switchover" in flat(proc), show(proc)
    assert group.master() == "redisops-upgrade-2"
    for host in ("redisops-upgrade-1", "redisops-upgrade-3"):
        assert group.client(host).info("replication")["master_host"] in ("redisops-upgrade-2", group.addresses["redisops-upgrade-2"])
    new_builds = {host: group.running(host)[0] for host in HOSTS}
    assert len(set(new_builds.values())) == 1 and set(new_builds.values()) != set(builds.values()), (builds, new_builds)
    assert_every_acknowledged_write_everywhere(group, writer)
    print("\nmolecule/upgrade, upgrade.yml %s -> %s, switchover mode: %d writes acknowledged (WAIT 1), none lost; "
          "write outage %.3f s; the run took %.0f s" % (OLD, NEW, len(writer.acked), writer.outage(), took))

    # The inventory updated as failover.yml says: a source after molecule's, with host_vars files
    # (molecule's inventory keeps its topology in host_vars files, which outrank an inventory's own host vars).
    (tmp_path / "host_vars").mkdir()
    (tmp_path / "hosts.yml").write_text("all:\n  hosts: {%s}\n" % ", ".join("%s: {}" % host for host in HOSTS), encoding="utf-8")
    for host in HOSTS:
        master = "" if host == "redisops-upgrade-2" else ", replicaof: redisops-upgrade-2"
        (tmp_path / "host_vars" / (host + ".yml")).write_text(
            "redis_server_instances: [{name: main, port: 6379%s}]\n" % master, encoding="utf-8")
    swapped = tmp_path / "hosts.yml"
    proc = group.playbook("playbooks/upgrade.yml", "-e", "redis_server_package_version=" + NEW,
                          "-e", "redis_server_upgrade_switchover=true", inventory=(str(swapped),))
    assert proc.returncode == 0, show(proc)
    assert changes(proc) == dict.fromkeys(HOSTS, 0), show(proc)
