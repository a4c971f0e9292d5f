"""Restarts that fail, and restarts that never happened (site.yml end to end, process service manager).

A new main file the server cannot start from (a port taken, an address the host does not have)
must not leave the instance down: the run fails naming the cause, the instance runs again with its
previous file and its data, verify reports the difference, and the next run tries again. A file
written without the restart that applies it (a run stopped in between) is found by comparing the
running configuration with the file, reported by verify and restarted by the next run.

The tests share one deployed bed and run in order.
"""

from __future__ import annotations

import socket

import pytest

from harness import Bed, RedisProcess, recap, show, wait_until

KEYS = {"kept:%d" % n: n for n in range(500)}


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-restart-")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    bed.client(bed.master_port).mset(KEYS)
    wait_until(lambda: bed.client(bed.replica_port).dbsize() == len(KEYS), what="the keys on the replica")
    yield bed
    bed.stop_all()


def main_file(bed, name):
    with open(bed.path("etc", "redis-%s.conf" % name)) as handle:
        return handle.read()


def assert_replica_serves_every_key_from(bed, port):
    replica = bed.client(port)
    wait_until(lambda: replica.info("replication")["master_link_status"] == "up", what="the replica's link up")
    assert replica.info("replication")["master_port"] == bed.master_port
    assert replica.mget(list(KEYS)) == [str(n) for n in KEYS.values()]


class BoundSocket:
    """A port taken by a socket bound to it without listening: the server's own bind fails."""

    def __init__(self, workdir):
        self.socket = socket.socket()
        self.socket.bind(("127.0.0.1", 0))
        self.port = self.socket.getsockname()[1]

    def stop(self):
        self.socket.close()


class OtherServer(RedisProcess):
    """A port taken by another Redis server (without the bed's password)."""

    def __init__(self, workdir):
        super().__init__(workdir)
        self.start()


@pytest.mark.parametrize("holder, cause", [
    (BoundSocket, "Could not create server TCP listening socket 127.0.0.1:{port}: bind: Address already in use"),
    (OtherServer, "127.0.0.1:{port} already accepts connections: another server uses port {port}"),
], ids=["bound-socket", "other-server"])
def test_a_taken_port_fails_the_run_and_the_instance_runs_on_with_its_data(bed, workdir, holder, cause):
    taker = holder(workdir)
    try:
        before = main_file(bed, "replica")
        moved = [bed.instances[0], dict(bed.instances[1], port=taker.port)]
        inventory = bed.variant("moved", instances=moved)
        proc = bed.site(inventory=inventory)
        assert proc.returncode != 0, show(proc)
        out = proc.stdout
        assert "Instance 'replica' of host 'localhost' did not start with its new configuration" in out, show(proc)
        assert cause.format(port=taker.port) in out, show(proc)
        assert "runs with it again; the next run tries the new one again" in out, show(proc)
        # Back on its old port, from its previous file, with every key.
        assert main_file(bed, "replica") == before
        assert_replica_serves_every_key_from(bed, bed.replica_port)

        # In between, the gate reports the pending change (and fails).
        proc = bed.playbook("playbooks/verify.yml", inventory=inventory)
        assert proc.returncode != 0, show(proc)
        assert "restart pending: file differs: %s" % bed.path("etc", "redis-replica.conf") in proc.stdout, show(proc)
    finally:
        taker.stop()

    # The port is free: the next run moves the replica there.
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert_replica_serves_every_key_from(bed, taker.port)
    # and back, for the next test
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert_replica_serves_every_key_from(bed, bed.replica_port)


def test_an_address_the_host_does_not_have_fails_the_run_and_the_replica_stays_up(bed):
    run_id = bed.run_id(bed.replica_port)
    unreachable = [bed.instances[0], dict(bed.instances[1], bind=["127.0.0.1", "192.0.2.1"])]
    proc = bed.site(inventory=bed.variant("unreachable", instances=unreachable))
    assert proc.returncode != 0, show(proc)
    assert ("Could not create server TCP listening socket 192.0.2.1:%d: bind: Cannot assign requested address"
            % bed.replica_port) in proc.stdout, show(proc)
    assert bed.run_id(bed.replica_port) != run_id  # it was restarted, with its previous file
    assert_replica_serves_every_key_from(bed, bed.replica_port)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)


def test_a_restart_that_never_happened_is_reported_then_done_once(bed):
    """The replica's file as the role writes it for maxmemory 64mb, the replica running without."""
    limited = [bed.instances[0], dict(bed.instances[1], config={"maxmemory": "64mb"})]
    inventory = bed.variant("limited", instances=limited)
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    written = main_file(bed, "replica")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert bed.client(bed.replica_port).config_get("maxmemory")["maxmemory"] == "0"
    with open(bed.path("etc", "redis-replica.conf"), "w") as handle:
        handle.write(written)  # the write of a run stopped before its restart

    proc = bed.playbook("playbooks/verify.yml", inventory=inventory)
    assert proc.returncode != 0, show(proc)
    assert "DRIFT: restart pending: maxmemory 64mb in the file, 0 running" in proc.stdout, show(proc)

    run_id = bed.run_id(bed.replica_port)
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert bed.run_id(bed.replica_port) != run_id
    assert bed.client(bed.replica_port).config_get("maxmemory")["maxmemory"] == str(64 * 1024 * 1024)
    assert_replica_serves_every_key_from(bed, bed.replica_port)

    # Done: no false difference restarts it again, and the gate passes.
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids
    proc = bed.playbook("playbooks/verify.yml", inventory=inventory)
    assert proc.returncode == 0, show(proc)
