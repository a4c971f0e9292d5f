"""A password holding Jinja markers, against real servers deployed by site.yml (process mode).

Ansible renders inventory strings as templates: `redis_server_password: "{{ abc }}x"` would
silently become the value of abc followed by x. The role refuses such a password before anything
changes; written `!unsafe '{{ abc }}x'` it is taken literally, and is every instance's
requirepass and the replica's masterauth, as written.
"""

from __future__ import annotations

import glob
import os

import pytest

from harness import Bed, recap, show

LITERAL = "{{ abc }}x"
PLACEHOLDER = "PASSWORD-PLACEHOLDER"


def write(bed, name, yaml_value):
    """An inventory of the bed whose password is yaml_value, written as YAML source (for !unsafe)."""
    path = bed.variant(name, redis_server_password=PLACEHOLDER, abc="rendered")
    with open(path) as handle:
        text = handle.read()
    with open(path, "w") as handle:
        handle.write(text.replace(PLACEHOLDER, yaml_value))
    return path


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-unsafe-")
    bed.inventory = write(bed, "unsafe", "!unsafe '%s'" % LITERAL)
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def deployed(bed):
    proc = bed.site("--diff")
    assert proc.returncode == 0, show(proc)
    return proc


def test_a_password_marked_unsafe_is_requirepass_and_masterauth_literally(bed, deployed):
    for port in bed.ports.values():
        client = bed.client(port, password=LITERAL)
        assert client.config_get("requirepass")["requirepass"] == LITERAL
    replica = bed.client(bed.replica_port, password=LITERAL)
    assert replica.config_get("masterauth")["masterauth"] == LITERAL
    assert replica.info("replication")["master_link_status"] == "up"
    assert LITERAL not in deployed.stdout and "renderedx" not in deployed.stdout


def test_a_password_ansible_would_render_is_refused_with_nothing_changed(bed, deployed):
    files = {path: open(path).read() for path in glob.glob(bed.path("etc", "*"))}
    mtimes = {path: os.stat(path).st_mtime_ns for path in files}
    run_ids = {port: bed.client(port, password=LITERAL).info("server")["run_id"] for port in bed.ports.values()}
    proc = bed.site(inventory=write(bed, "templated", "'%s'" % LITERAL))
    assert proc.returncode != 0, show(proc)
    text = " ".join(proc.stdout.split())
    assert "redis_server_password of host 'localhost'" in text and "!unsafe" in text, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert {path: open(path).read() for path in files} == files
    assert {path: os.stat(path).st_mtime_ns for path in files} == mtimes
    assert {port: bed.client(port, password=LITERAL).info("server")["run_id"] for port in bed.ports.values()} == run_ids
    assert "renderedx" not in proc.stdout
