"""A string where a list belongs, against a bed deployed by site.yml (real servers, process mode).

`redis_server_previous_passwords: "oldpw"` once gave every instance the one-letter passwords o, l,
d, p and w; `redis_server_bind: "127.0.0.1 0.0.0.0"` once wrote a file the replica could not start
from. Both now stop the run before anything on the host changes: same files, same processes, and
no one-letter password is ever accepted. Booleans given on the command line (-e name=false) arrive
as strings and are read as booleans.
"""

from __future__ import annotations

import glob
import os

import pytest
import redis

from harness import PASSWORD, Bed, recap, show


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-lists-")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    yield bed
    bed.stop_all()


def snapshot(bed):
    """Every file the role wrote (content and mtime) and the run_id of every instance."""
    files = {}
    for path in sorted(glob.glob(bed.path("etc", "*"))):
        with open(path) as handle:
            files[path] = (handle.read(), os.stat(path).st_mtime_ns)
    return files, {name: bed.run_id(port) for name, port in bed.ports.items()}


def assert_refused_before_any_change(bed, proc, before, *words):
    assert proc.returncode != 0, show(proc)
    for word in words:
        assert word in proc.stdout, "%r not in:\n%s" % (word, show(proc))
    assert recap(proc)[1] == 0, show(proc)
    assert snapshot(bed) == before


def assert_one_letter_passwords_refused(bed, letters):
    for port in bed.ports.values():
        for letter in letters:
            with pytest.raises(redis.AuthenticationError):
                bed.client(port, password=letter).ping()
        assert bed.client(port).ping()


def test_previous_passwords_given_as_a_string_stop_the_run_with_nothing_written(bed):
    before = snapshot(bed)
    inventory = bed.variant("string-previous", redis_server_password="new-" + "password",
                            redis_server_previous_passwords="oldpw")
    proc = bed.site(inventory=inventory)
    assert_refused_before_any_change(bed, proc, before, "redis_server_previous_passwords of host 'localhost'",
                                     "is a string, not a list", "give a YAML list")
    assert "oldpw" not in proc.stdout + proc.stderr
    with open(bed.path("etc", "redis-master.live.conf")) as handle:
        assert "user default" not in handle.read()
    assert_one_letter_passwords_refused(bed, "oldpw")


def test_previous_passwords_on_the_command_line_as_a_string_are_refused_too(bed):
    before = snapshot(bed)
    proc = bed.site("-e", "redis_server_previous_passwords=oldpw")
    assert_refused_before_any_change(bed, proc, before, "redis_server_previous_passwords of host 'localhost'")
    assert_one_letter_passwords_refused(bed, "oldpw")


def test_bind_given_as_a_string_of_two_addresses_stops_the_run_with_the_replica_running(bed):
    before = snapshot(bed)
    proc = bed.site(inventory=bed.variant("string-bind", redis_server_bind="127.0.0.1 0.0.0.0"))
    assert_refused_before_any_change(bed, proc, before, "redis_server_bind of host 'localhost'",
                                     "give a YAML list, one address per item")


def test_a_wildcard_beside_another_address_stops_the_run(bed):
    before = snapshot(bed)
    proc = bed.site(inventory=bed.variant("wildcard-bind", redis_server_bind=["127.0.0.1", "0.0.0.0"]))
    assert_refused_before_any_change(bed, proc, before, "0.0.0.0 listens on every IPv4 address")


def test_booleans_and_numbers_from_the_command_line_are_read_as_such(bed):
    before = snapshot(bed)
    proc = bed.site("-e", "redis_server_verify=false", "-e", "redis_server_force_topology=false",
                    "-e", "redis_server_verify_timeout=15")
    assert proc.returncode == 0, show(proc)
    assert "master 127.0.0.1:%d role=master" % bed.master_port not in proc.stdout, show(proc)
    assert snapshot(bed) == before
    # (the role's argument spec refuses it first, naming the variable)
    proc = bed.site("-e", "redis_server_verify=maybe")
    assert_refused_before_any_change(bed, proc, before, "redis_server_verify", "not a valid boolean")
    assert PASSWORD not in proc.stdout
