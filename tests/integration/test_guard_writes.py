"""The guard counts only client writes since a promotion: a replica detached by hand (REPLICAOF NO
ONE) that pings replicas of its own holds nothing its inventory master lacks and is repaired; one
SET on it is refused. Against real servers: replication_info alone, then site.yml end to end."""

from __future__ import annotations

import pytest

from harness import Bed, recap, run_module, show, wait_until

PASSWORD = "it-password"
# PINGs to replicas every second instead of every ten: the stream grows while the test waits.
FAST_PINGS = ["--repl-ping-replica-period", "1"]


def chain(redis_server, backlog=None):
    """A master, its replica and the replica's own replica (leaf), all up."""
    extra = ["--repl-backlog-size", str(backlog)] if backlog else []
    master = redis_server(password=PASSWORD, args=FAST_PINGS)
    middle = redis_server(password=PASSWORD, args=FAST_PINGS + extra + [
        "--replicaof", "127.0.0.1", str(master.port), "--masterauth", PASSWORD])
    leaf = redis_server(password=PASSWORD, args=["--replicaof", "127.0.0.1", str(middle.port), "--masterauth", PASSWORD])
    for replica in (middle, leaf):
        wait_until(lambda r=replica: r.client().info("replication")["master_link_status"] == "up", timeout=30,
                   what="replica link up")
    return master, middle, leaf


def promote_and_wait_for_pings(server):
    """REPLICAOF NO ONE, then wait until the stream since the promotion holds PINGs to its replica."""
    client = server.client()
    client.replicaof("no", "one")
    wait_until(lambda: client.info("replication")["master_repl_offset"]
               >= client.info("replication")["second_repl_offset"] + 28, timeout=30, what="two pings")
    return client


def promotion(server):
    result = run_module("replication_info", {"login_port": server.port, "login_password": PASSWORD,
                                             "count_client_writes": True})
    assert not result.get("failed"), result
    return result["replication"], result["promotion"]


def test_pings_to_its_own_replicas_are_not_writes(redis_server):
    master, middle, leaf = chain(redis_server)
    promote_and_wait_for_pings(middle)
    replication, verdict = promotion(middle)
    assert replication["writes_since_promotion"] >= 28  # what the guard counted as writes before
    assert verdict["holds_writes"] is False and verdict["client_writes"] == 0, verdict
    # Reading the stream left no replica behind.
    assert middle.client().info("replication")["connected_slaves"] == 1


def test_one_set_is_a_write(redis_server):
    master, middle, leaf = chain(redis_server)
    client = promote_and_wait_for_pings(middle)
    client.set("written", "after the promotion")
    verdict = promotion(middle)[1]
    assert verdict["holds_writes"] is True and verdict["client_writes"] == 1, verdict
    assert verdict["summary"] == "1 replica(s) and 1 client write(s) (SET) since its promotion"


def test_a_stream_the_backlog_no_longer_holds_counts_as_writes(redis_server):
    master, middle, leaf = chain(redis_server, backlog=16384)
    client = promote_and_wait_for_pings(middle)
    client.set("big", "x" * 40000)  # pushes the promotion out of the 16 kB backlog
    verdict = promotion(middle)[1]
    assert verdict["holds_writes"] is True and verdict["client_writes"] is None, verdict
    assert "no longer holds the stream since its promotion" in verdict["summary"]


# --- site.yml ----------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def bed():
    bed = Bed(replicas=("replica", "leaf"), prefix="redisops-guard-")
    bed.instances[2]["replicaof"] = "localhost:replica"
    bed.write_inventory(redis_server_config={"repl-ping-replica-period": 1})
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    yield bed
    bed.stop_all()


def promote_by_hand(bed):
    client = bed.client(bed.replica_port)
    client.replicaof("no", "one")
    wait_until(lambda: client.info("replication")["master_repl_offset"]
               >= client.info("replication")["second_repl_offset"] + 28, timeout=30, what="two pings")
    return client


def test_site_repairs_a_detached_replica_that_only_pinged_its_replicas(bed):
    bed.client(bed.master_port).set("before", "1")
    replica = promote_by_hand(bed)
    run_id = bed.run_id(bed.replica_port)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    info = replica.info("replication")
    assert info["role"] == "slave" and info["master_port"] == bed.master_port, info
    assert bed.run_id(bed.replica_port) == run_id
    leaf = bed.client(bed.ports["leaf"])
    wait_until(lambda: leaf.info("replication")["master_link_status"] == "up", what="leaf link up")
    bed.client(bed.master_port).set("after", "2")
    wait_until(lambda: leaf.get("after") == "2", what="a new key on the leaf")


def test_site_refuses_to_demote_it_after_one_set(bed):
    replica = promote_by_hand(bed)
    replica.set("written-after-promotion", "keep me")
    run_id = bed.run_id(bed.replica_port)
    proc = bed.site()
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    text = " ".join(proc.stdout.split())
    assert ("Instance 'replica' of host 'localhost' (127.0.0.1:%d) is a master now, with 1 replica(s) and "
            "1 client write(s) (SET) since its promotion" % bed.replica_port) in text, show(proc)
    assert replica.info("replication")["role"] == "master"
    assert replica.get("written-after-promotion") == "keep me"
    assert bed.run_id(bed.replica_port) == run_id
