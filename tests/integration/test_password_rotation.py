"""A password rotation without downtime (Redis >= 6): while redis_server_previous_passwords lists the
old password, every instance accepts both it and the new one, also after a restart; no instance
restarts for it; replication stays up; dropping the old password from the list stops accepting it.
"""

from __future__ import annotations

import pytest
import redis

from harness import PASSWORD, Bed, recap, show

NEW_PASSWORD = "rotated; the new one"


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-rotation-")
    bed.write_inventory()
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    yield bed
    bed.stop_all()


def accepts(bed, port, password):
    try:
        return bed.client(port, password=password).ping()
    except redis.AuthenticationError:
        return False


def run_id(bed, port):
    return bed.client(port, password=NEW_PASSWORD).info("server")["run_id"]


def link_up(bed, port, password):
    return bed.client(port, password=password).info("replication")["master_link_status"] == "up"


@pytest.fixture(scope="module")
def rotating(bed):
    """The first run of the rotation: the new password, the old one still listed."""
    ports = (bed.master_port, bed.replica_port)
    run_ids = [bed.run_id(port) for port in ports]
    bed.write_inventory(redis_server_password=NEW_PASSWORD, redis_server_previous_passwords=[PASSWORD])
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    return ports, run_ids, proc


def test_both_passwords_are_accepted_while_the_old_one_is_listed(bed, rotating):
    ports, run_ids, proc = rotating
    for port in ports:
        assert accepts(bed, port, PASSWORD) and accepts(bed, port, NEW_PASSWORD), port
    assert [run_id(bed, port) for port in ports] == run_ids, "an instance restarted for a password rotation"
    assert link_up(bed, bed.replica_port, NEW_PASSWORD)
    assert bed.client(bed.replica_port, password=NEW_PASSWORD).config_get("masterauth")["masterauth"] == NEW_PASSWORD
    assert NEW_PASSWORD not in proc.stdout + proc.stderr and PASSWORD not in proc.stdout + proc.stderr


def test_the_live_file_keeps_only_hashes_of_the_old_password(bed, rotating):
    with open(bed.path("etc", "redis-master.live.conf")) as handle:
        text = handle.read()
    assert "user default on #" in text and PASSWORD not in text


def test_a_second_run_of_the_rotation_changes_nothing(bed, rotating):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)


def test_a_restart_during_the_rotation_keeps_both_passwords(bed, rotating):
    bed.client(bed.master_port, password=NEW_PASSWORD).set("before-restart", "kept")
    run_ids = [run_id(bed, port) for port in (bed.master_port, bed.replica_port)]
    # A change to the main files: both instances restart (rolling) and read the passwords from their files.
    bed.write_inventory(redis_server_password=NEW_PASSWORD, redis_server_previous_passwords=[PASSWORD],
                        redis_server_config={"maxmemory-samples": 7})
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    for port, before in zip((bed.master_port, bed.replica_port), run_ids):
        assert run_id(bed, port) != before, "instance on port %d did not restart" % port
        assert accepts(bed, port, PASSWORD) and accepts(bed, port, NEW_PASSWORD), port
    assert bed.client(bed.replica_port, password=NEW_PASSWORD).get("before-restart") == "kept"


def test_dropping_the_old_password_ends_the_rotation_without_restarts(bed, rotating):
    ports = (bed.master_port, bed.replica_port)
    run_ids = [run_id(bed, port) for port in ports]
    bed.write_inventory(redis_server_password=NEW_PASSWORD, redis_server_config={"maxmemory-samples": 7})
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    for port in ports:
        assert not accepts(bed, port, PASSWORD) and accepts(bed, port, NEW_PASSWORD), port
    assert [run_id(bed, port) for port in ports] == run_ids
    assert link_up(bed, bed.replica_port, NEW_PASSWORD)
