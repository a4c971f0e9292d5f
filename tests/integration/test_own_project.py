"""The README's "Using the collection from your own project", end to end.

`make install` builds the collection and installs it into a temporary collections path; a project
directory of its own (an inventory and the README's playbook, no ansible.cfg, nothing of the clone)
runs the role from that install against real servers on free loopback ports, with the Python Ansible
discovers on the host and fact gathering on; then `ansible-playbook redisops.redis.verify`, and the
preflight's word when the host's Python has no redis-py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

from harness import free_port, kill_pid_files, PASSWORD, recap, ROOT, show, wait_until

BIN = os.path.dirname(sys.executable)
PLAYBOOK = """\
- name: Redis replication
  hosts: redis
  become: true
  roles:
    - role: redisops.redis.server
"""


def project_env(collections_path):
    """The environment of a user's shell in their own project: the venv's commands on the PATH, no
    ANSIBLE_CONFIG of the clone, the collections path the install printed."""
    env = {key: value for key, value in os.environ.items() if not key.startswith("ANSIBLE_")}
    # The managed host is this machine (connection local: its PATH is this one). pyenv's shims on
    # the PATH answer `command -v python3.13` for a version pyenv does not enable, and interpreter
    # discovery would pick that broken shim: a managed host has the OS's Python, not pyenv.
    path = [part for part in env.get("PATH", "").split(os.pathsep) if part and ".pyenv" not in part]
    env.update(PATH=os.pathsep.join([BIN] + path), ANSIBLE_COLLECTIONS_PATH=collections_path,
               ANSIBLE_NOCOLOR="1", ANSIBLE_HOST_KEY_CHECKING="0")
    return env


def run(cmd, cwd, env, timeout=600):
    return subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def project():
    top = tempfile.mkdtemp(prefix="redisops-own-")
    os.chmod(top, 0o755)
    collections = os.path.join(top, "collections")
    proj = os.path.join(top, "my-project")
    os.makedirs(proj)
    ports = {"master": free_port(), "replica": free_port()}
    host = {
        "ansible_connection": "local",
        "ansible_host": "127.0.0.1",
        # This machine has no sudo; su from root to root needs no password. No
        # ansible_python_interpreter: the one Ansible discovers.
        "ansible_become_method": "su",
        "redis_server_service_manager": "process",
        "redis_server_conf_dir": os.path.join(top, "etc"),
        "redis_server_data_dir": os.path.join(top, "data"),
        "redis_server_log_dir": os.path.join(top, "log"),
        "redis_server_run_dir": os.path.join(top, "run"),
        "redis_server_password": PASSWORD,
        "redis_server_verify_timeout": 20,
        "redis_server_instances": [
            {"name": "master", "port": ports["master"]},
            {"name": "replica", "port": ports["replica"], "replicaof": "localhost:master"},
        ],
    }
    with open(os.path.join(proj, "inventory.yml"), "w") as handle:
        yaml.safe_dump({"redis": {"hosts": {"localhost": host}}}, handle)
    with open(os.path.join(proj, "redis.yml"), "w") as handle:
        handle.write(PLAYBOOK)
    yield {"dir": proj, "top": top, "collections": collections, "ports": ports}
    kill_pid_files(os.path.join(top, "run"))
    shutil.rmtree(top, ignore_errors=True)


@pytest.fixture(scope="module")
def installed(project):
    # -o venv: the test runs in the environment `make test` made; never rebuild it from here.
    proc = run(["make", "--no-print-directory", "-o", "venv", "install", "COLLECTIONS_PATH=" + project["collections"],
                "BUILD_DIR=" + os.path.join(project["top"], "build")], ROOT, dict(os.environ))
    assert proc.returncode == 0, show(proc)
    where = os.path.join(project["collections"], "ansible_collections", "redisops", "redis")
    assert "Installed redisops.redis " in proc.stdout and where in proc.stdout, show(proc)
    assert os.path.isfile(os.path.join(where, "roles", "server", "tasks", "main.yml"))
    assert not os.path.islink(where)
    return where


def test_without_the_install_the_role_is_not_found(project, installed):
    """The failure the install prevents, so the runs below use the installed copy, not the clone."""
    proc = run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory.yml", "redis.yml", "--syntax-check"],
               project["dir"], project_env(os.path.join(project["top"], "empty")))
    assert proc.returncode != 0 and "redisops.redis.server" in proc.stdout + proc.stderr, show(proc)


def test_the_role_deploys_from_the_installed_collection_and_verify_passes(project, installed):
    env = project_env(project["collections"])
    proc = run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory.yml", "redis.yml"], project["dir"], env)
    assert proc.returncode == 0, show(proc)
    assert "Gathering Facts" in proc.stdout, show(proc)  # the README's play gathers facts
    master, replica = project["ports"]["master"], project["ports"]["replica"]
    assert "replica 127.0.0.1:%d role=replica master=127.0.0.1:%d link=up" % (replica, master) in proc.stdout, show(proc)

    import redis

    client = redis.Redis(host="127.0.0.1", port=master, password=PASSWORD, decode_responses=True)
    client.set("own-project", "yes")
    other = redis.Redis(host="127.0.0.1", port=replica, password=PASSWORD, decode_responses=True)
    wait_until(lambda: other.get("own-project") == "yes", what="the key on the replica")

    proc = run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory.yml", "redisops.redis.verify"],
               project["dir"], env)
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1:] == (0, 0, 0), show(proc)
    assert "master 127.0.0.1:%d role=master replicas=[127.0.0.1:%d online]" % (master, replica) in proc.stdout, show(proc)


def test_a_python_without_redis_py_is_named_before_anything_changes(project, installed):
    bare = os.path.join(project["top"], "bare-python")
    subprocess.run(["/usr/bin/python3", "-m", "venv", "--without-pip", bare], check=True)
    python = os.path.join(bare, "bin", "python")
    env = project_env(project["collections"])
    proc = run([os.path.join(BIN, "ansible-playbook"), "-i", "inventory.yml", "redis.yml",
                "-e", "ansible_python_interpreter=" + python], project["dir"], env)
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    text = " ".join(proc.stdout.split()).replace("''", "'")
    assert "Host 'localhost' runs the role's modules with the Python %s, which cannot import redis-py" % python \
        in text, show(proc)
    assert "Fix: remove ansible_python_interpreter from the inventory of 'localhost'" in text, show(proc)
