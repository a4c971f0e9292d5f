"""No secret in any output: every playbook, in check+diff mode and for real, at -vvv, on a bed that
holds every kind of secret the role handles, each time after a CONFIG REWRITE and with drift.

The bed (site.yml, process mode, real servers): a master and a replica deployed with one password,
then rotated to a new one with the first listed in redis_server_previous_passwords (so the
default user holds both hashes), and a replication user with its own password. Before each run,
every instance's CONFIG REWRITE writes requirepass, masterauth and the ACL user lines with their
hashes into its main file (which the next run writes back, with a diff), and the default user of
the master loses the old password by hand (drift the run repairs live). The output of every run,
stdout and stderr, is searched for each password and its SHA-256 hex.

The tests share the bed and run in order; playbooks/failover.yml runs last (it changes the
topology).
"""

from __future__ import annotations

import hashlib
import os

import pytest

from harness import Bed, show

OLD = "OldPw-51d2e0a7"
NEW = "NewPw-7f3a9c18"
REPLICATION = "ReplPw-a81c44e2"
SECRETS = {OLD: "the previous password", NEW: "the password", REPLICATION: "the replication password"}
SECRETS.update({hashlib.sha256(value.encode()).hexdigest(): "SHA-256 of " + name for value, name in SECRETS.items()})
TARGET = "localhost:replica"


def leaks(proc):
    output = proc.stdout + proc.stderr
    return ["%s (%s)" % (name, secret) for secret, name in SECRETS.items() if secret in output]


def assert_no_secret(proc):
    found = leaks(proc)
    if found:
        lines = [line for line in (proc.stdout + proc.stderr).splitlines() if any(s in line for s in SECRETS)]
        raise AssertionError("secrets in the output: %s\n%s" % (", ".join(found), "\n".join(lines[:40])))


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-nosecret-")
    bed.write_inventory(redis_server_password=OLD)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    bed.write_inventory(redis_server_password=NEW, redis_server_previous_passwords=[OLD],
                        redis_server_masteruser="replicator", redis_server_replication_password=REPLICATION)
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def rotated(bed):
    """The rotation run itself, with --diff at -vvv."""
    proc = bed.site("--diff", "-vvv")
    assert proc.returncode == 0, show(proc)
    for port in bed.ports.values():
        for password in (OLD, NEW):
            assert bed.client(port, password=password).ping()
    return proc


def rewrite_and_drift(bed):
    """CONFIG REWRITE on every instance (secrets into the main files), the old password dropped live."""
    os.chmod(bed.path("etc"), 0o770)  # the server may rewrite its file where it may write (Debian's /etc/redis)
    try:
        for port in bed.ports.values():
            client = bed.client(port, password=NEW)
            if client.info("replication")["role"] == "master":
                client.execute_command("ACL", "SETUSER", "default", "resetpass", ">" + NEW)
            client.config_rewrite()
    finally:
        os.chmod(bed.path("etc"), 0o750)
    for name in bed.ports:
        with open(bed.path("etc", "redis-%s.conf" % name)) as handle:
            text = handle.read()
        assert "requirepass" in text and hashlib.sha256(NEW.encode()).hexdigest() in text, name


def test_the_rotation_run_shows_no_secret(bed, rotated):
    assert_no_secret(rotated)


@pytest.mark.parametrize("playbook, args", [
    ("site.yml", ("--check", "--diff")),
    ("site.yml", ("--diff",)),
    ("playbooks/verify.yml", ("--check", "--diff")),
    ("playbooks/verify.yml", ("--diff",)),
])
def test_site_and_verify_show_no_secret(bed, rotated, playbook, args):
    rewrite_and_drift(bed)
    proc = bed.playbook(playbook, "-vvv", *args)
    assert "PLAY RECAP" in proc.stdout, show(proc)
    if playbook == "site.yml":
        assert proc.returncode == 0, show(proc)
        # the run did see the rewritten files: a diff of the main file, secrets masked
        assert "requirepass <hidden" in proc.stdout, show(proc)
    else:
        assert proc.returncode != 0 and "DRIFT" in proc.stdout, show(proc)
    assert_no_secret(proc)


@pytest.mark.parametrize("args", [("--check", "--diff"), ("--diff",)])
def test_failover_shows_no_secret(bed, rotated, args):
    rewrite_and_drift(bed)
    proc = bed.playbook("playbooks/failover.yml", "-vvv", "-e", "redis_failover_target=" + TARGET, *args)
    assert proc.returncode == 0, show(proc)
    assert_no_secret(proc)


def test_after_the_failover_the_guard_and_verify_show_no_secret(bed, rotated):
    for playbook, args in (("site.yml", ("--check", "--diff")), ("site.yml", ("--diff",)),
                           ("playbooks/verify.yml", ())):
        proc = bed.playbook(playbook, "-vvv", *args)
        assert proc.returncode != 0, show(proc)  # the inventory does not know of the failover yet
        assert_no_secret(proc)
