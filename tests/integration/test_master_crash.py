"""A master crash never wipes the group (issue 8, finding 1): site.yml against real servers
(process service manager, free loopback ports, every path in a temporary tree).

The tests share one bed, a master with two replicas, and run in order: a clean stop of the
master is started again as before; a SIGKILLed master whose replicas hold writes its data file
lacks is not started, the run stops before changing anything and names the replica to promote.
"""

from __future__ import annotations

import hashlib
import os
import signal

import pytest
import redis

from harness import Bed, show, wait_until

KEYS = 2000


@pytest.fixture(scope="module")
def bed():
    bed = Bed(replicas=("replica1", "replica2"), prefix="redisops-crash-")
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def deployed(bed):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    return proc


def write_acknowledged(bed, prefix, count):
    """count keys written to the master and acknowledged by both replicas (WAIT)."""
    master = bed.client(bed.master_port)
    keys = {"%s:%05d" % (prefix, n): str(n) for n in range(count)}
    master.mset(keys)
    assert master.wait(2, 10000) == 2
    return keys


def master_pid(bed):
    with open(bed.path("run", "redis-master.pid")) as handle:
        return int(handle.read().strip())


def digest(*roots):
    """Path -> SHA-256 of every file under the given directories."""
    found = {}
    for root in roots:
        for folder, _dirs, files in os.walk(root):
            for name in files:
                path = os.path.join(folder, name)
                with open(path, "rb") as handle:
                    found[path] = hashlib.sha256(handle.read()).hexdigest()
    return found


def answers(port):
    try:
        return redis.Redis(host="127.0.0.1", port=port, socket_timeout=1).ping()
    except redis.AuthenticationError:
        return True
    except redis.RedisError:
        return False


def test_a_cleanly_stopped_master_starts_as_before_with_every_key(bed, deployed):
    keys = write_acknowledged(bed, "clean", KEYS)
    pid = master_pid(bed)
    os.kill(pid, signal.SIGTERM)  # the service manager's stop: the master saves, with its offset
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the master to save and exit")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    for port in bed.ports.values():
        assert bed.client(port).mget(list(keys)) == list(keys.values()), port


def test_a_crashed_master_behind_its_replicas_is_not_started(bed, deployed):
    keys = write_acknowledged(bed, "crash", KEYS)  # since the master's last save
    pid = master_pid(bed)
    os.kill(pid, signal.SIGKILL)
    wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the master to die")
    before = digest(bed.path("etc"), bed.path("data", "master"))
    offsets = {name: bed.client(bed.ports[name]).info("replication")["slave_repl_offset"]
               for name in ("replica1", "replica2")}
    run_ids = {name: bed.run_id(bed.ports[name]) for name in ("replica1", "replica2")}

    proc = bed.site()

    assert proc.returncode != 0, show(proc)
    out = proc.stdout
    assert "Master 'localhost:master' (127.0.0.1:%d) is not running" % bed.master_port in out, show(proc)
    for name in ("replica1", "replica2"):
        assert "replica 'localhost:%s' (127.0.0.1:%d) at offset %d" % (name, bed.ports[name], offsets[name]) in out
    assert "The most up-to-date replica is 'localhost:replica1'" in out, show(proc)
    assert ("-e redis_failover_target=localhost:replica1 -e redis_failover_unplanned=true" in out), show(proc)
    assert "redis_server_force_topology=true" in out
    assert not answers(bed.master_port)  # not started
    assert digest(bed.path("etc"), bed.path("data", "master")) == before  # nothing changed
    assert {name: bed.run_id(bed.ports[name]) for name in run_ids} == run_ids  # no replica restarted
    for name in ("replica1", "replica2"):  # every acknowledged key is still there
        client = bed.client(bed.ports[name])
        assert client.dbsize() == 2 * KEYS
        assert client.mget(list(keys)) == list(keys.values()), name

    again = bed.site("--check")  # check mode refuses the same way
    assert again.returncode != 0 and "is not running" in again.stdout, show(again)


def test_the_check_reads_the_offset_a_clean_stop_stores_and_a_crash_does_not(bed, deployed):
    from harness import run_module

    result = run_module("rdb_info", {"files": [{"name": "master", "path": bed.path("data", "master", "dump.rdb")},
                                               {"path": bed.path("data", "master", "missing.rdb")}]})
    assert not result.get("failed"), result
    stored, missing = result["files"]
    replicas = [bed.client(bed.ports[name]).info("replication") for name in ("replica1", "replica2")]
    assert stored["name"] == "master" and stored["exists"] and stored["repl_id"]
    # Either the replicas follow another history (the master restarted from its AOF after the clean
    # stop, under a new replication id, and they resynced from it) or they are past the file's offset.
    for replica in replicas:
        assert (stored["repl_id"] != replica["master_replid"]
                or stored["repl_offset"] < replica["slave_repl_offset"]), (stored, replica)
    assert missing == {"name": missing["path"], "path": missing["path"], "exists": False}
