"""Sentinels over TLS (redis_sentinel_tls, by default the server role's redis_server_tls) on real
redis-server and redis-sentinel processes, with certificates the test makes (test_tls.py's fixture).

One bed: a master, its replica and three Sentinels on free loopback ports, all serving TLS only and
requiring client certificates, the Sentinels logging in to the data instances as an ACL user;
deployed by site.yml, whose Sentinel check then passed over TLS. The tests run in order: a plain
client is refused, a SENTINEL FAILOVER goes over TLS, site.yml after it keeps the Sentinels' master
without a restart, the run after that changes nothing; then the Sentinel user's password is rotated
live (redis_sentinel_previous_auth_passwords).
"""

from __future__ import annotations

import os
import shutil
import signal

import pytest
import redis
import test_tls
from test_sentinel import PASSWORD, SentinelBed
from test_sentinel_follow import changed_tasks

from harness import recap, show, wait_until

# test_tls.py's module-scoped fixture: a CA and the host's certificate (127.0.0.1, localhost).
certificates = test_tls.certificates

pytestmark = pytest.mark.skipif(shutil.which("redis-sentinel") is None,
                                reason="redis-sentinel is not installed (apt-get install redis-sentinel)")


# The Sentinels log in to the data instances as an ACL user (redis_sentinel_auth_user), over TLS.
OLD_AUTH = "old-sentinel-auth#%d" % os.getpid()
NEW_AUTH = "new-sentinel-auth#%d" % os.getpid()


class TlsSentinelBed(SentinelBed):
    """SentinelBed with redis_server_tls: the Sentinels take it (and the PEM texts) by default."""

    def __init__(self, certificates):  # noqa: F811
        self.certificates = certificates
        self.auth = {"redis_sentinel_auth_user": "sentinel-user", "redis_sentinel_auth_password": OLD_AUTH}
        super().__init__()

    def write_inventory(self, path=None, sentinels=None, monitors=None, sentinel_overrides=None, **kwargs):
        certificates = getattr(self, "certificates", None)
        if certificates is not None:
            kwargs.update(redis_server_tls=True, redis_server_tls_cert=certificates["host.crt"],
                          redis_server_tls_key=certificates["host.key"],
                          redis_server_tls_ca_cert=certificates["ca.crt"])
        overrides = dict(getattr(self, "auth", {}), **(sentinel_overrides or {}))
        return super().write_inventory(path, sentinels, monitors, overrides, **kwargs)

    def tls(self):
        where = self.certificates["dir"]
        return dict(ssl=True, ssl_ca_certs=os.path.join(where, "ca.crt"), ssl_certfile=os.path.join(where, "host.crt"),
                    ssl_keyfile=os.path.join(where, "host.key"))

    def client(self, port, **kwargs):
        return super().client(port, **dict(self.tls(), **kwargs))

    def sentinel(self, name, port=None):
        return redis.Redis(host="127.0.0.1", port=port or self.sentinels[name], password=PASSWORD,
                           decode_responses=True, socket_timeout=5, **self.tls())


@pytest.fixture(scope="module")
def bed(certificates):  # noqa: F811
    bed = TlsSentinelBed(certificates)
    try:
        proc = bed.site()
        assert proc.returncode == 0, show(proc)
        assert "TASK [redisops.redis.sentinel : Check every monitored group on the Sentinels of this host]" in proc.stdout
        yield bed
    finally:
        bed.stop_all()


def test_the_sentinels_serve_tls_only_and_reach_the_instances_over_tls(bed):
    for name in bed.sentinels:
        sentinel = bed.sentinel(name)
        assert sentinel.execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "master") == ["127.0.0.1",
                                                                                             str(bed.master_port)]
        assert len(sentinel.execute_command("SENTINEL", "SENTINELS", "master")) == 2
        assert len(sentinel.execute_command("SENTINEL", "REPLICAS", "master")) == 1
    with open(bed.path("sentinel", "etc", "sentinel-s1.conf")) as handle:
        text = handle.read()
    assert "tls-port %d" % bed.sentinels["s1"] in text and "\nport 0\n" in text and "tls-replication yes" in text
    assert oct(os.stat(bed.path("sentinel", "etc", "tls", "sentinel.key")).st_mode & 0o777) == "0o640"


def test_plain_and_certificate_less_clients_are_refused(bed):
    port = bed.sentinels["s1"]
    with pytest.raises(redis.exceptions.ConnectionError):
        redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=5).ping()
    no_certificate = redis.Redis(host="127.0.0.1", port=port, password=PASSWORD, socket_timeout=5, ssl=True,
                                 ssl_ca_certs=os.path.join(bed.certificates["dir"], "ca.crt"))
    with pytest.raises(redis.exceptions.ConnectionError):
        no_certificate.ping()


def test_a_sentinel_failover_over_tls_then_site_keeps_it(bed):
    servers = {port: bed.run_id(port) for port in (bed.master_port, bed.replica_port)}
    bed.sentinel("s1").execute_command("SENTINEL", "FAILOVER", "master")
    new = ("127.0.0.1", str(bed.replica_port))
    wait_until(lambda: all(bed.master_of(name) == new for name in bed.sentinels), timeout=30,
               what="every Sentinel to name the promoted replica")
    wait_until(lambda: bed.client(bed.replica_port).info("replication")["role"] == "master", what="the promotion")
    sentinels = bed.sentinel_run_ids()
    # The old master, demoted by Sentinel, syncs over TLS before any run: it has the group's masterauth.
    wait_until(lambda: bed.client(bed.master_port).info("replication").get("master_link_status") == "up",
               timeout=30, what="the old master to replicate from the new one over TLS")
    # The server role follows the Sentinels (asked over TLS): the files of the two instances become
    # those of the new topology, the live defaults that count replicas follow; no masterauth to give
    # (the old master had it), nothing restarts.
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert set(changed_tasks(proc)) <= {"Write the directories and configuration files of the instances",
                                        "Apply auth and replication settings to the running instances"}, show(proc)
    assert "CONFIG SET masterauth" not in proc.stdout, show(proc)
    assert "SENTINEL MONITOR" not in proc.stdout
    # and a run after that changes nothing at all
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert bed.sentinel_run_ids() == sentinels
    assert {port: bed.run_id(port) for port in servers} == servers
    assert all(bed.master_of(name) == new for name in bed.sentinels)


def _accepts(bed, port, password):
    try:
        return bed.client(port, username="sentinel-user", password=password).ping()
    except redis.AuthenticationError:
        return False
    except redis.ResponseError as exc:  # older redis-py: a refused AUTH as a plain error
        if "WRONGPASS" in str(exc):
            return False
        raise


def _auth_pass(bed, name):
    with open(bed.path("sentinel", "etc", "sentinel-%s.conf" % name)) as handle:
        return [line.split()[-1] for line in handle if line.startswith("sentinel auth-pass master ")]


def test_the_sentinel_users_password_is_rotated_live(bed):
    ports = (bed.master_port, bed.replica_port)
    assert all(_accepts(bed, port, OLD_AUTH) and not _accepts(bed, port, NEW_AUTH) for port in ports)
    servers = {port: bed.run_id(port) for port in ports}
    sentinels = bed.sentinel_run_ids()

    # The new password, the old one listed: site.yml gives it to the data instances' Sentinel user
    # beside the old one (the server play), then to the Sentinels (SENTINEL SET auth-pass); its
    # check logs in with what each Sentinel uses.
    rotating = bed.write_inventory(bed.path("rotating.yml"), sentinel_overrides={
        "redis_sentinel_auth_password": NEW_AUTH, "redis_sentinel_previous_auth_passwords": [OLD_AUTH]})
    proc = bed.site("-vvv", "--diff", inventory=rotating)
    assert proc.returncode == 0, show(proc)
    assert OLD_AUTH not in proc.stdout + proc.stderr and NEW_AUTH not in proc.stdout + proc.stderr
    assert proc.stdout.count("SENTINEL SET master auth-pass ********") == 3, show(proc)
    assert all(_accepts(bed, port, OLD_AUTH) and _accepts(bed, port, NEW_AUTH) for port in ports)
    assert all(_auth_pass(bed, name) == [NEW_AUTH] for name in bed.sentinels)

    # The old one dropped: refused from then on; nothing restarted.
    proc = bed.site(inventory=bed.write_inventory(bed.path("rotated.yml"), sentinel_overrides={
        "redis_sentinel_auth_password": NEW_AUTH}))
    assert proc.returncode == 0, show(proc)
    assert "SENTINEL SET" not in proc.stdout
    assert all(not _accepts(bed, port, OLD_AUTH) and _accepts(bed, port, NEW_AUTH) for port in ports)
    assert {port: bed.run_id(port) for port in ports} == servers
    assert bed.sentinel_run_ids() == sentinels

    # A Sentinel killed and started again keeps the new one (its own file), and the check passes.
    with open(bed.path("sentinel", "run", "sentinel-s2.pid")) as handle:
        os.kill(int(handle.read()), signal.SIGKILL)
    wait_until(lambda: not _sentinel_answers(bed, "s2"), what="s2 to die")
    proc = bed.sentinel_role(inventory=bed.path("rotated.yml"))
    assert proc.returncode == 0, show(proc)
    assert "TASK [redisops.redis.sentinel : Check every monitored group on the Sentinels of this host]" in proc.stdout
    assert _sentinel_answers(bed, "s2") and _auth_pass(bed, "s2") == [NEW_AUTH]
    assert "SENTINEL SET" not in proc.stdout


def _sentinel_answers(bed, name):
    try:
        return bed.sentinel(name).ping()
    except redis.RedisError:
        return False
