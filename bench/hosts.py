# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Section "hosts" of bench/run.py: site.yml across 3, 6 and 12 systemd containers.

One instance per container, the first container the master and the others its replicas, over
the community.docker.docker connection, like the molecule scenarios (same image, same container
options: systemd as PID 1, SYS_ADMIN, the host's cgroups). The containers are created here,
named redisops-bench-hNN on the network redisops-bench, and removed at the end.

Needs Docker, the molecule image (molecule/images/build.sh bookworm builds it; this file never
builds it) and an ansible-playbook that has the community.docker collection: the one of the
benchmark's own environment if it has it, else the molecule environment's (make molecule-env).
When one of them is missing the section is skipped and the result says which and how to get it.

The first run on the containers installs the packages and is not measured. Then, for each count:
the floor (ping, no facts) on that inventory, the converge from stopped instances and absent
instance files (packages installed), the idempotent run.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import time

IMAGE = os.environ.get("BENCH_IMAGE", "redisops/molecule-systemd:bookworm")
PREFIX = "redisops-bench-h"
NETWORK = "redisops-bench"
LABEL = "org.redisops.bench=1"
PORT = 7000  # inside the containers' own network namespaces
ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# Stopped instances and absent instance files: what a converge starts from (packages stay).
WIPE = ("systemctl stop 'redis-instance@*' >/dev/null 2>&1; "
        "rm -f /etc/redis/redis-main.conf /etc/redis/redis-main.live.conf "
        "/etc/systemd/system/redis-instance@.service; rm -rf /var/lib/redis/main; systemctl daemon-reload")


def docker(*args, check=True, timeout=300):
    return subprocess.run(["docker"] + list(args), capture_output=True, text=True, check=check, timeout=timeout)


def has_docker_collection(bindir):
    """Whether the Python of bindir imports the community.docker collection."""
    python = os.path.join(bindir, "python")
    if not os.path.exists(python):
        return False
    code = "import importlib.util, sys; sys.exit(importlib.util.find_spec('ansible_collections.community.docker') is None)"
    return subprocess.run([python, "-c", code], capture_output=True, check=False).returncode == 0


def why_not(bindir):
    """(reason to skip or None, bin directory of the ansible-playbook to use)."""
    if not shutil.which("docker"):
        return "docker is not installed (make molecule-env installs it)", None
    if docker("info", check=False, timeout=60).returncode != 0:
        return "no Docker engine answers (molecule/images/start-dockerd.sh starts one)", None
    if docker("image", "inspect", IMAGE, check=False, timeout=60).returncode != 0:
        return "image %s is missing (molecule/images/build.sh bookworm builds it)" % IMAGE, None
    for candidate in (bindir, os.path.join(ROOT, ".venv-molecule", "bin")):
        if has_docker_collection(candidate):
            return None, candidate
    return ("no ansible-playbook with the community.docker collection (make molecule-env creates "
            ".venv-molecule, which has it)"), None


class Containers:
    """count systemd containers of IMAGE on the network NETWORK."""

    def __init__(self, count, workdir):
        self.names = ["%s%02d" % (PREFIX, n) for n in range(count)]
        self.addresses = {}
        self.workdir = workdir
        self.password = secrets.token_hex(16)

    def start(self, log):
        self.remove()
        if docker("network", "inspect", NETWORK, check=False).returncode != 0:
            docker("network", "create", "--label", LABEL, NETWORK)
        for name in self.names:
            docker("run", "-d", "--name", name, "--hostname", name, "--network", NETWORK, "--label", LABEL,
                   "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE", "--cgroupns", "host",
                   "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
                   "--stop-signal", "SIGRTMIN+3", IMAGE, "/lib/systemd/systemd")
        for name in self.names:
            deadline = time.monotonic() + 120
            while True:
                state = docker("exec", name, "systemctl", "is-system-running", check=False).stdout.strip()
                if state in ("running", "degraded"):
                    break
                if time.monotonic() > deadline:
                    raise RuntimeError("systemd in container %s did not come up (state %r)" % (name, state))
                time.sleep(0.5)
            self.addresses[name] = docker("inspect", "-f", "{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}",
                                          name).stdout.strip()
        log("hosts: %d containers up (%s)" % (len(self.names), IMAGE))

    def inventory(self, count):
        """An inventory of the first count containers: the first the master, the others its replicas."""
        hosts = {}
        master = self.names[0]
        for name in self.names[:count]:
            instance = {"name": "main", "port": PORT}
            if name != master:
                instance["replicaof"] = master
            hosts[name] = {
                "ansible_connection": "community.docker.docker",
                "ansible_host": name,
                "ansible_python_interpreter": "/usr/bin/python3",
                "redis_server_bind": ["127.0.0.1", self.addresses[name]],
                "redis_server_advertise_address": self.addresses[name],
                "redis_server_instances": [instance],
            }
        path = os.path.join(self.workdir, "hosts-%d.json" % count)
        with open(path, "w") as handle:
            json.dump({"redis": {"hosts": hosts, "vars": {"redis_server_password": self.password}}}, handle)
        return path

    def wipe(self):
        procs = [subprocess.Popen(["docker", "exec", name, "sh", "-c", WIPE], stdout=subprocess.DEVNULL,
                                  stderr=subprocess.DEVNULL) for name in self.names]
        for proc in procs:
            proc.wait(timeout=120)

    def remove(self):
        found = docker("ps", "-aq", "--filter", "label=" + LABEL, check=False).stdout.split()
        if found:
            docker("rm", "-f", *found, check=False)


def hosts_section(counts, reps, log, playbook, summary, changed_count, workdir, bindir):
    """The results of the section: rows per host count, or {"skipped": reason}."""
    reason, bindir = why_not(bindir)
    if reason:
        log("hosts: skipped: %s" % reason)
        return {"skipped": reason}
    ping = os.path.join(ROOT, "bench", "playbooks", "ping.yml")
    containers = Containers(max(counts), workdir)
    rows, floors = [], []
    try:
        containers.start(log)
        seconds = playbook("site.yml", containers.inventory(max(counts)), bindir=bindir)[0]
        log("hosts: first run on %d containers (installs the packages, not measured): %.1fs"
            % (max(counts), seconds))
        for count in counts:
            inventory = containers.inventory(count)
            floor, converge, idempotent = [], [], []
            for rep in range(reps):
                floor.append(playbook(ping, inventory, bindir=bindir)[0])
                containers.wipe()
                converge.append(playbook("site.yml", inventory, bindir=bindir)[0])
                seconds, out = playbook("site.yml", inventory, bindir=bindir)
                if changed_count(out):
                    raise RuntimeError("idempotent run on %d containers changed %d thing(s):\n%s"
                                       % (count, changed_count(out), out[-6000:]))
                idempotent.append(seconds)
                log("hosts %d rep %d: floor %.2fs converge %.2fs idempotent %.2fs"
                    % (count, rep + 1, floor[-1], converge[-1], idempotent[-1]))
            floors += floor
            rows.append({"hosts": count, "floor": summary(floor), "converge": summary(converge),
                         "idempotent": summary(idempotent)})
    finally:
        containers.remove()
        docker("network", "rm", NETWORK, check=False)
    return {"image": IMAGE, "connection": "community.docker.docker",
            "ansible_playbook": os.path.join(bindir, "ansible-playbook"), "floor": summary(floors), "rows": rows}
