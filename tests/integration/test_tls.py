"""Replication over TLS with certificates this test generates (a CA, one certificate for the host):
the instances serve TLS only, the replica's link to its master is TLS, clients without a
certificate are refused, and the role's own checks connect with the host's certificate.
"""

from __future__ import annotations

import os
import subprocess

import pytest
import redis

from harness import Bed, recap, run_playbook, show, wait_until


def openssl(*args, cwd):
    subprocess.run(("openssl",) + args, cwd=cwd, check=True, capture_output=True)


@pytest.fixture(scope="module")
def certificates(tmp_path_factory):
    """PEM texts: ca, cert, key (the host's certificate, for 127.0.0.1 and localhost)."""
    path = str(tmp_path_factory.mktemp("tls"))
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=redisops test CA",
            "-keyout", "ca.key", "-out", "ca.crt", cwd=path)
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=localhost", "-keyout", "host.key", "-out", "host.csr",
            cwd=path)
    with open(os.path.join(path, "san.ext"), "w") as handle:
        handle.write("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    openssl("x509", "-req", "-in", "host.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", "san.ext", "-out", "host.crt", cwd=path)
    texts = {}
    for name in ("ca.crt", "host.crt", "host.key"):
        with open(os.path.join(path, name)) as handle:
            texts[name] = handle.read()
    return dict(texts, dir=path)


@pytest.fixture(scope="module")
def bed(certificates):
    bed = Bed(prefix="redisops-tls-")
    bed.write_inventory(redis_server_tls=True, redis_server_tls_cert=certificates["host.crt"],
                        redis_server_tls_key=certificates["host.key"], redis_server_tls_ca_cert=certificates["ca.crt"])
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def deployed(bed):
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    return proc


def tls_client(bed, certificates, port, **kwargs):
    return bed.client(port, ssl=True, ssl_ca_certs=os.path.join(certificates["dir"], "ca.crt"),
                      ssl_certfile=os.path.join(certificates["dir"], "host.crt"),
                      ssl_keyfile=os.path.join(certificates["dir"], "host.key"), **kwargs)


def test_the_replica_replicates_over_tls(bed, certificates, deployed):
    master = tls_client(bed, certificates, bed.master_port)
    replica = tls_client(bed, certificates, bed.replica_port)
    assert replica.info("replication")["master_link_status"] == "up"
    assert replica.config_get("tls-replication")["tls-replication"] == "yes"
    master.set("over-tls", "yes")
    wait_until(lambda: replica.get("over-tls") == "yes", what="the key on the replica")


def test_plain_and_certificate_less_clients_are_refused(bed, certificates, deployed):
    with pytest.raises(redis.exceptions.ConnectionError):
        bed.client(bed.master_port).ping()
    no_certificate = bed.client(bed.master_port, ssl=True, ssl_ca_certs=os.path.join(certificates["dir"], "ca.crt"))
    with pytest.raises(redis.exceptions.ConnectionError):
        no_certificate.ping()


def test_the_key_is_private_and_never_shown(bed, certificates, deployed):
    key = bed.path("etc", "tls", "redis.key")
    assert oct(os.stat(key).st_mode & 0o777) == oct(0o640)
    secret_line = [line for line in certificates["host.key"].splitlines() if "PRIVATE" not in line][0]
    assert secret_line not in deployed.stdout + deployed.stderr


def test_a_second_run_and_the_gate_change_nothing(bed, deployed):
    proc = bed.site()
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
    proc = run_playbook("playbooks/verify.yml", bed.inventory)
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)


def test_tls_without_certificates_is_refused_before_any_change(bed, certificates, deployed):
    def run_ids():
        return [tls_client(bed, certificates, port).info("server")["run_id"] for port in (bed.master_port, bed.replica_port)]

    before = run_ids()
    proc = bed.site(inventory=bed.variant("no-certs", redis_server_tls=True))
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = " ".join(proc.stdout.split())
    assert "redis_server_tls_cert" in out and "Nothing was changed" in out, show(proc)
    assert run_ids() == before
