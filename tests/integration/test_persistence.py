"""What each persistence setting loses on a crash (SIGKILL), measured on real servers, and the
upgrade of a deployment from the role's old default (appendonly no) to the new one (AOF, everysec).

Run `.venv/bin/pytest tests/integration/test_persistence.py -q -s` to print the figures of the
README's "When a master dies" table. The assertions hold whatever the machine's speed: AOF always
loses no acknowledged write, the RDB save points lose every write since the last save.
"""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import threading
import time

import pytest

from harness import Bed, RedisProcess, show, wait_until

SETTINGS = {
    "RDB save points only (3600 1, 300 100, 60 10000)": ["--save", "3600 1 300 100 60 10000", "--appendonly", "no"],
    "AOF, appendfsync everysec (the role's default)": ["--appendonly", "yes", "--appendfsync", "everysec"],
    "AOF, appendfsync always": ["--appendonly", "yes", "--appendfsync", "always"],
}
WRITE_SECONDS = 2.0


def crash_after_writes(workdir, args):
    """(acknowledged, kept): keys a client wrote one by one for WRITE_SECONDS, the server SIGKILLed
    while the writes go on, restarted from its files; kept = acknowledged keys found afterwards."""
    server = RedisProcess(workdir, args=args).start()
    acked = []
    halt = threading.Event()

    def write():
        client = server.client()
        number = 0
        while not halt.is_set():
            try:
                client.set("k:%d" % number, number)
            except Exception:  # the kill: this write was not acknowledged
                return
            acked.append("k:%d" % number)
            number += 1

    writer = threading.Thread(target=write, daemon=True)
    writer.start()
    time.sleep(WRITE_SECONDS)
    server.stop(signal.SIGKILL)
    halt.set()
    writer.join(10)
    restarted = RedisProcess(workdir, port=server.port, args=args).start()
    try:
        client = restarted.client()
        kept = sum(1 for value in client.mget(acked) if value is not None) if acked else 0
    finally:
        restarted.stop()
    return len(acked), kept


@pytest.fixture(scope="module")
def figures():
    results = {}
    for name, args in SETTINGS.items():
        workdir = tempfile.mkdtemp(prefix="redisops-persistence-")
        os.chmod(workdir, 0o755)
        try:
            results[name] = crash_after_writes(workdir, args)
        finally:
            shutil.rmtree(workdir, ignore_errors=True)
    print("\n| setting | acknowledged writes in %.0f s | lost on SIGKILL |" % WRITE_SECONDS)
    print("| --- | --- | --- |")
    for name, (acked, kept) in results.items():
        print("| %s | %d | %d (%.2f %%) |" % (name, acked, acked - kept, 100.0 * (acked - kept) / max(acked, 1)))
    return results


def test_aof_always_loses_no_acknowledged_write(figures):
    acked, kept = figures["AOF, appendfsync always"]
    assert acked > 0 and kept == acked


def test_aof_everysec_keeps_what_was_written_before_the_last_second(figures):
    acked, kept = figures["AOF, appendfsync everysec (the role's default)"]
    assert acked > 0 and kept > 0  # fsync'd at least once during the writes; the tail may be lost


def test_rdb_save_points_lose_every_write_since_the_last_save(figures):
    acked, kept = figures["RDB save points only (3600 1, 300 100, 60 10000)"]
    assert acked > 0 and kept == 0  # no save point was reached: nothing was saved


def test_an_upgrade_from_appendonly_no_keeps_every_key():
    """Deployed with the old default (appendonly no), keys written, run with the new default:
    the AOF is turned on live before the restart that the changed file asks for."""
    bed = Bed(prefix="redisops-aof-upgrade-")
    try:
        old = bed.variant("old-default", redis_server_config={"appendonly": "no"})
        proc = bed.site(inventory=old)
        assert proc.returncode == 0, show(proc)
        master, replica = bed.client(bed.master_port), bed.client(bed.replica_port)
        keys = {"upgrade:%d" % n: str(n) for n in range(1000)}
        master.mset(keys)
        assert master.wait(1, 10000) == 1
        master.save()  # as the old default's save points would have, some time ago
        run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)

        proc = bed.site()

        assert proc.returncode == 0, show(proc)
        assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) != run_ids  # restarted...
        wait_until(lambda: replica.info("replication")["master_link_status"] == "up", what="the replica's link")
        for client in master, replica:  # ...with every key
            assert client.config_get("appendonly")["appendonly"] == "yes"
            assert client.config_get("appendfsync")["appendfsync"] == "everysec"
            assert client.mget(list(keys)) == list(keys.values())
    finally:
        bed.stop_all()


# The data file is the instance's dbfilename: with custom.rdb the role once looked for dump.rdb,
# found none, and the master started empty.
@pytest.mark.parametrize("config", [{}, {"dbfilename": "custom.rdb"}], ids=["dump.rdb", "custom-dbfilename"])
def test_a_stopped_instance_with_only_an_rdb_file_is_refused_then_upgraded_once_started(config):
    """Stopped cleanly under the old default, an instance holds its data in its RDB file only: started
    with appendonly yes it would start empty. The run refuses before any change, naming it; started
    with its old file (a run with the old setting), the next run with the new default keeps every key."""
    bed = Bed(prefix="redisops-aof-stopped-")
    try:
        old = bed.variant("old-default", redis_server_config=dict(config, appendonly="no"))
        new = bed.variant("new-default", redis_server_config=config)
        proc = bed.site(inventory=old)
        assert proc.returncode == 0, show(proc)
        master = bed.client(bed.master_port)
        keys = {"stopped:%d" % n: str(n) for n in range(1000)}
        master.mset(keys)
        assert master.wait(1, 10000) == 1
        with open(bed.path("run", "redis-master.pid")) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, signal.SIGTERM)  # a clean stop: dump.rdb holds every key, at the replica's offset
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="the master to save and exit")
        assert os.path.exists(bed.path("data", "master", config.get("dbfilename", "dump.rdb")))
        conf = bed.path("etc", "redis-master.conf")
        with open(conf) as handle:
            before = handle.read()

        proc = bed.site(inventory=new)

        assert proc.returncode != 0, show(proc)
        assert "Instance(s) master of host 'localhost' are not running and hold their data in an RDB file" in proc.stdout
        with open(conf) as handle:
            assert handle.read() == before
        assert bed.client(bed.replica_port).mget(list(keys)) == list(keys.values())

        proc = bed.site(inventory=old)  # the fix: start it as it is
        assert proc.returncode == 0, show(proc)
        proc = bed.site(inventory=new)
        assert proc.returncode == 0, show(proc)
        for port in bed.master_port, bed.replica_port:
            assert bed.client(port).config_get("appendonly")["appendonly"] == "yes"
            assert bed.client(port).mget(list(keys)) == list(keys.values()), port
    finally:
        bed.stop_all()
