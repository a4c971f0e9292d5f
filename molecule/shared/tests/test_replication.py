"""What `molecule verify` checks on the containers of every scenario (testinfra).

The expected topology is the scenario's inventory, resolved by the collection's own
server_instances logic (plugins/plugin_utils/topology.py): which instance is a master,
which master each replica follows, at which address. The live servers are then checked by
other means than the role's modules: redis-cli (valkey-cli) inside the containers, systemctl,
file modes. The last test runs the collection's playbooks/verify.yml in check mode.

A host may set `molecule_server_version` (e.g. "6.0"): the server installed there must be that
version, and its files must use the directive names of that version.
"""

from __future__ import annotations

import functools
import json
import os
import re
import shlex
import subprocess
import sys
import time
import uuid

import pytest
import testinfra
import yaml

ROOT = os.environ.get("MOLECULE_PROJECT_DIRECTORY") or os.path.abspath(
    os.path.join(os.path.dirname(__file__), "..", "..", ".."))
INVENTORY = os.environ["MOLECULE_INVENTORY_FILE"]
GROUP = "redis"
# A replica's link takes 1 to 3 s after a restart; a write takes a moment to reach a replica.
# How long the checks below wait for a state before they fail (a scenario's verifier env may set it).
TIMEOUT = int(os.environ.get("REDISOPS_MOLECULE_TIMEOUT", "30"))

sys.path.insert(0, os.path.join(ROOT, "collections"))
from ansible_collections.redisops.redis.plugins.plugin_utils.topology import resolve_play  # noqa: E402 pylint: disable=wrong-import-position


def _inventory():
    """hostvars of every host and the hosts of the group the play runs on, from ansible-inventory."""
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-inventory"), "-i", INVENTORY, "--list"],
                          capture_output=True, text=True, check=True)
    data = json.loads(proc.stdout)
    hostvars = data["_meta"]["hostvars"]

    def members(group):
        entry = data.get(group, {})
        hosts = list(entry.get("hosts", []))
        for child in entry.get("children", []):
            hosts.extend(members(child))
        return hosts

    return hostvars, sorted(set(members(GROUP)))


HOSTVARS, PLAY_HOSTS = _inventory()


def _expected_instances():
    with open(os.path.join(ROOT, "roles", "server", "defaults", "main.yml"), encoding="utf-8") as stream:
        defaults = yaml.safe_load(stream)
    hostvars = HOSTVARS
    resolved = resolve_play(hostvars, PLAY_HOSTS, defaults)
    instances = []
    for host, items in sorted(resolved.items()):
        flavor = hostvars[host].get("redis_server_flavor", defaults["redis_server_flavor"])
        for item in items:
            item = dict(item, host=host, flavor=flavor, id="%s:%s" % (host, item["name"]),
                        hardening=hostvars[host].get("redis_server_unit_hardening", defaults["redis_server_unit_hardening"]))
            instances.append(item)
    return instances


INSTANCES = _expected_instances()
BY_ID = {item["id"]: item for item in INSTANCES}
MASTERS = [item for item in INSTANCES if item["role"] == "master"]
REPLICAS = [item for item in INSTANCES if item["role"] == "replica"]
HOSTS = sorted({item["host"] for item in INSTANCES})


def ids(items):
    return [item["id"] for item in items]


@functools.lru_cache(maxsize=None)
def machine(name):
    """The testinfra host: `docker exec` for the molecule docker driver's containers (fast), else Ansible."""
    if HOSTVARS[name].get("ansible_connection") in ("community.docker.docker_api", "community.docker.docker", "docker"):
        return testinfra.get_host("docker://%s" % name)
    return testinfra.get_host("ansible://%s" % name, ansible_inventory=INVENTORY)


def cli(instance, *args, auth=True):
    """Run redis-cli (valkey-cli) on the instance's host; stdout and stderr together, stripped."""
    command = ["%s-cli" % instance["flavor"], "-h", instance["login_host"], "-p", str(instance["port"])] + list(args)
    line = " ".join(shlex.quote(part) for part in command)
    if auth and instance.get("password"):
        line = "REDISCLI_AUTH=%s %s" % (shlex.quote(instance["password"]), line)
    result = machine(instance["host"]).run(line)
    return (result.stdout + result.stderr).strip()


def info_replication(instance):
    """INFO replication as a dict, slaveN entries as dicts too."""
    fields = {}
    for line in cli(instance, "INFO", "replication").splitlines():
        key, sep, value = line.strip().partition(":")
        if not sep or key.startswith("#"):
            continue
        if re.match(r"^slave\d+$", key):
            value = dict(part.split("=", 1) for part in value.split(",") if "=" in part)
        fields[key] = value
    return fields


def wait_for(check, timeout=TIMEOUT):
    """Call check() until it returns a true value or timeout seconds passed; the last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value or time.monotonic() > deadline:
            return value
        time.sleep(0.5)


def log_tail(instance, lines=15):
    """The end of the instance's log, for failure messages."""
    path = "/var/log/%s/redis-%s.log" % (instance["flavor"], instance["name"])
    return machine(instance["host"]).run("tail -n %d %s" % (lines, shlex.quote(path))).stdout


def addresses_of(instance, name):
    """The addresses name resolves to, seen from the instance's host (Docker's DNS for container names)."""
    if re.match(r"^[0-9.]+$", name) or ":" in name:
        return {name}
    out = machine(instance["host"]).run("getent ahosts %s" % shlex.quote(name)).stdout
    return {line.split()[0] for line in out.splitlines() if line.strip()}


def descendants(master):
    """Every instance that replicates from master, directly or through another replica."""
    found = []
    for entry in master["replicas"]:
        replica = BY_ID["%s:%s" % (entry["inventory_host"], entry["instance"])]
        found.append(replica)
        found.extend(descendants(replica))
    return found


@pytest.mark.parametrize("name", HOSTS)
def test_systemd_runs_and_packaged_service_is_off(name):
    host = machine(name)
    state = host.run("systemctl is-system-running").stdout.strip()
    assert state == "running", "systemd is %s; failed units:\n%s" % (
        state, host.run("systemctl --failed --no-legend --no-pager").stdout)
    flavor = next(item["flavor"] for item in INSTANCES if item["host"] == name)
    packaged = host.service("%s-server" % flavor)
    assert not packaged.is_running and not packaged.is_enabled, "the package's own %s-server.service still runs" % flavor


@pytest.mark.parametrize("instance", INSTANCES, ids=ids(INSTANCES))
def test_service_is_enabled_and_running_under_systemd(instance):
    host = machine(instance["host"])
    unit = "redis-instance@%s.service" % instance["name"]
    service = host.service(unit)
    journal = host.run("journalctl -u %s -n 20 --no-pager" % unit).stdout
    assert service.is_enabled, journal
    assert service.is_running, journal
    shown = dict(line.split("=", 1) for line in host.check_output(
        "systemctl show -p MainPID -p User -p PrivateUsers -p ProtectSystem %s" % unit).splitlines())
    assert shown["User"] == instance["flavor"]
    assert host.check_output("ps -o user= -p %s" % shown["MainPID"]).strip() == instance["flavor"]
    # The role's sandbox stays on in every scenario (no redis_server_unit_hardening: false).
    assert instance["hardening"], "%s: the scenarios keep the role's unit hardening" % instance["id"]
    assert (shown["PrivateUsers"], shown["ProtectSystem"]) == ("yes", "strict"), shown


@pytest.mark.parametrize("instance", INSTANCES, ids=ids(INSTANCES))
def test_files_are_owned_and_moded_as_documented(instance):
    host = machine(instance["host"])
    flavor, name = instance["flavor"], instance["name"]
    for path in ("/etc/%s/redis-%s.conf" % (flavor, name), "/etc/%s/redis-%s.live.conf" % (flavor, name)):
        config = host.file(path)
        assert (config.is_file, config.user, config.group, config.mode) == (True, "root", flavor, 0o640), path
    data = host.file("/var/lib/%s/%s" % (flavor, name))
    assert (data.is_directory, data.user, data.group, data.mode) == (True, flavor, flavor, 0o750)
    unit = host.file("/etc/systemd/system/redis-instance@.service")
    assert (unit.user, unit.group, unit.mode) == ("root", "root", 0o644)


@pytest.mark.parametrize("instance", INSTANCES, ids=ids(INSTANCES))
def test_role_and_link(instance):
    if instance["role"] == "master":
        assert info_replication(instance).get("role") == "master"
        return
    want = {"role": "slave", "master_host": instance["replicaof"]["host"],
            "master_port": str(instance["replicaof"]["port"]), "master_link_status": "up"}
    state = {}

    def linked():
        state.clear()
        state.update(info_replication(instance))
        return {key: state.get(key) for key in want} == want

    assert wait_for(linked), "%s: expected %s, found %s; its log ends with:\n%s" % (
        instance["id"], want, {key: state.get(key) for key in want}, log_tail(instance))


@pytest.mark.parametrize("master", MASTERS, ids=ids(MASTERS))
def test_master_lists_every_replica_by_address(master):
    wanted = [(entry, addresses_of(master, entry["host"])) for entry in master["replicas"]]
    listed = []

    def all_online():
        listed[:] = [value for key, value in info_replication(master).items() if key.startswith("slave") and isinstance(value, dict)]
        return all(any(item.get("ip") in addresses and item.get("port") == str(entry["port"]) and item.get("state") == "online"
                       for item in listed) for entry, addresses in wanted)

    assert wait_for(all_online), "%s lists %s; expected online replicas %s" % (
        master["id"], listed, ["%s:%s (%s)" % (entry["host"], entry["port"], ", ".join(sorted(addresses))) for entry, addresses in wanted])


@pytest.mark.parametrize("master", MASTERS, ids=ids(MASTERS))
def test_write_on_master_is_read_on_every_replica(master):
    key, value = "molecule:%s" % uuid.uuid4().hex, uuid.uuid4().hex
    assert cli(master, "SET", key, value, "EX", "300") == "OK"
    for replica in descendants(master):
        assert wait_for(lambda replica=replica: cli(replica, "GET", key) == value), (
            "%s did not get %s from %s within %d s" % (replica["id"], key, master["id"], TIMEOUT))


@pytest.mark.parametrize("replica", REPLICAS, ids=ids(REPLICAS))
def test_replica_refuses_writes(replica):
    assert replica["replica_read_only"]
    assert cli(replica, "SET", "molecule:write-on-replica", "x").startswith("READONLY")


@pytest.mark.parametrize("instance", INSTANCES, ids=ids(INSTANCES))
def test_unauthenticated_client_is_refused(instance):
    assert instance["password"], "every scenario runs with auth on"
    assert cli(instance, "GET", "molecule:any", auth=False).startswith("NOAUTH")
    assert cli(instance, "PING") == "PONG"


@pytest.mark.parametrize("instance", INSTANCES, ids=ids(INSTANCES))
def test_server_version_and_directive_names(instance):
    """The server is the version the platform stands for, and the files use that version's directive names."""
    wanted = HOSTVARS[instance["host"]].get("molecule_server_version")
    fields = dict(line.split(":", 1) for line in cli(instance, "INFO", "server").splitlines() if ":" in line)
    running = fields.get("%s_version" % instance["flavor"], fields.get("redis_version", "")).strip()
    if wanted:
        assert running.startswith(str(wanted) + "."), "%s runs %s %s, expected %s" % (
            instance["id"], instance["flavor"], running, wanted)
    major = int(running.split(".")[0])
    replicaof, read_only = ("replicaof", "replica-read-only") if major >= 5 else ("slaveof", "slave-read-only")
    live = machine(instance["host"]).file("/etc/%s/redis-%s.live.conf" % (instance["flavor"], instance["name"])).content_string
    directives = [line.split()[0] for line in live.splitlines() if line.strip() and not line.startswith("#")]
    assert read_only in directives, live
    if instance["role"] == "replica":
        assert replicaof in directives, live


def test_collection_verify_playbook_reports_no_drift():
    """playbooks/verify.yml in check mode: passes, changes nothing (its failure names instance and reason)."""
    proc = subprocess.run([os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", INVENTORY,
                           os.path.join(ROOT, "playbooks", "verify.yml"), "--check"],
                          capture_output=True, text=True, check=False, cwd=ROOT,
                          env=dict(os.environ, ANSIBLE_FORCE_COLOR="0", ANSIBLE_NOCOLOR="1"))
    output = proc.stdout + proc.stderr
    assert proc.returncode == 0, output[-6000:]
    recap = re.findall(r"^(\S+)\s+:\s+ok=\d+\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", output, re.M)
    assert sorted(host for host, _c, _u, _f in recap) == sorted(HOSTS), output[-3000:]
    assert all((changed, unreachable, failed) == ("0", "0", "0") for _h, changed, unreachable, failed in recap), output[-3000:]
