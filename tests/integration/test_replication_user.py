"""A dedicated ACL user for replication (Redis >= 6): replicas log in as it, it can do nothing but
replicate, its password differs from the default user's and is stored hashed on the master; when it
loses its rights the check names the instance and the replica's authentication error, and a run
repairs it live.
"""

from __future__ import annotations

import pytest
import redis

from harness import Bed, recap, run_playbook, show, wait_until

REPLICATION_PASSWORD = "repl only; not the default user's"


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-acl-")
    bed.write_inventory(redis_server_masteruser="replicator", redis_server_replication_password=REPLICATION_PASSWORD)
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def deployed(bed):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    return proc


def test_the_replica_logs_in_as_the_replication_user(bed, deployed):
    replica = bed.client(bed.replica_port)
    assert replica.config_get("masteruser")["masteruser"] == "replicator"
    assert replica.info("replication")["master_link_status"] == "up"
    master = bed.client(bed.master_port)
    master.set("flows", "yes")
    wait_until(lambda: replica.get("flows") == "yes", what="the key on the replica")
    assert REPLICATION_PASSWORD not in deployed.stdout + deployed.stderr


def test_the_replication_user_can_only_replicate(bed, deployed):
    user = bed.client(bed.master_port, username="replicator", password=REPLICATION_PASSWORD)
    assert user.ping()
    for command in (("GET", "flows"), ("KEYS", "*"), ("CONFIG", "GET", "requirepass"), ("FLUSHALL",)):
        with pytest.raises(redis.exceptions.NoPermissionError):
            user.execute_command(*command)
    with pytest.raises(redis.exceptions.AuthenticationError):
        bed.client(bed.master_port, password=REPLICATION_PASSWORD).ping()


def test_the_master_stores_only_a_hash_of_the_replication_password(bed, deployed):
    with open(bed.path("etc", "redis-master.live.conf")) as handle:
        text = handle.read()
    assert REPLICATION_PASSWORD not in text
    assert "user replicator reset on #" in text


def test_a_second_run_changes_nothing(bed, deployed):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)


def test_a_user_without_replication_rights_is_reported_then_repaired_live(bed, deployed):
    master, replica = bed.client(bed.master_port), bed.client(bed.replica_port)
    run_ids = bed.run_id(bed.master_port), bed.run_id(bed.replica_port)
    master.execute_command("ACL", "SETUSER", "replicator", "-psync")
    master.client_kill_filter(_type="replica")
    wait_until(lambda: replica.info("replication")["master_link_status"] == "down", what="the link to go down")
    proc = run_playbook("playbooks/verify.yml", bed.inventory, extra_args=["-e", "redis_server_verify_timeout=3"])
    assert proc.returncode != 0, show(proc)
    out = " ".join(proc.stdout.split())
    assert "localhost:replica" in out and "master_link_status: expected up, found down" in out, show(proc)
    assert "NOPERM" in out or "permission" in out.lower(), show(proc)
    assert "DRIFT: would run: ACL SETUSER replicator reset on #********" in out, show(proc)
    assert REPLICATION_PASSWORD not in proc.stdout

    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert replica.info("replication")["master_link_status"] == "up"
    assert (bed.run_id(bed.master_port), bed.run_id(bed.replica_port)) == run_ids
