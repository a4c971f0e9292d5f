"""The redisops.redis.sentinel role on real redis-server and redis-sentinel processes.

One bed for the whole file (a master, its replica and three Sentinels on free loopback ports, all
state in a temporary directory), deployed by site.yml; the tests run in order and each leaves the
bed as the next expects it. The failovers (SENTINEL FAILOVER, then the master killed) come last.
"""

from __future__ import annotations

import os
import re
import shutil
import signal

import pytest
import redis
import yaml

from harness import ROOT, Bed, acked_writes, free_port, kill_pid_files, recap, run_module, run_playbook, show, wait_until
from test_sentinel_follow import changed_tasks

# Sentinel 7.0 writes auth-pass into its file unquoted: no blank, no quote (the preflight refuses them).
PASSWORD = "s3cret-pass#with\\backslash"

pytestmark = pytest.mark.skipif(shutil.which("redis-sentinel") is None,
                                reason="redis-sentinel is not installed (apt-get install redis-sentinel)")

# The monitors of the README's Sentinel bed (inventories/local-sentinel), on the bed's free ports.
with open(os.path.join(ROOT, "inventories", "local-sentinel", "group_vars", "all.yml")) as _handle:
    LOCAL_SENTINEL_MONITORS = yaml.safe_load(_handle)["redis_sentinel_monitors"]

SENTINEL_ONLY = [{"name": "Sentinels", "hosts": "redis_sentinel", "gather_facts": False,
                  "roles": [{"role": "redisops.redis.sentinel"}]}]


class SentinelBed(Bed):
    def __init__(self):
        super().__init__(prefix="redisops-sentinel-")
        self.sentinels = {name: free_port() for name in ("s1", "s2", "s3")}
        self.write_inventory()
        self.sentinel_playbook = self.path("sentinel.yml")
        with open(self.sentinel_playbook, "w") as handle:
            yaml.safe_dump(SENTINEL_ONLY, handle)

    def sentinel_vars(self, sentinels=None, **overrides):
        if sentinels is None:
            sentinels = [{"name": name, "port": port} for name, port in getattr(self, "sentinels", {}).items()]
        items = sentinels
        values = {
            "redis_sentinel_instances": items,
            "redis_sentinel_service_manager": "process",
            "redis_sentinel_conf_dir": self.path("sentinel", "etc"),
            "redis_sentinel_data_dir": self.path("sentinel", "data"),
            "redis_sentinel_log_dir": self.path("sentinel", "log"),
            "redis_sentinel_run_dir": self.path("sentinel", "run"),
            "redis_sentinel_password": PASSWORD,
            "redis_sentinel_auth_password": PASSWORD,
            "redis_sentinel_verify_timeout": 30,
        }
        values.update(overrides)
        return values

    def write_inventory(self, path=None, sentinels=None, monitors=None, sentinel_overrides=None, **kwargs):
        monitors = monitors if monitors is not None else LOCAL_SENTINEL_MONITORS
        kwargs.setdefault("redis_server_password", PASSWORD)
        inventory = {
            "all": {"vars": {"redis_sentinel_monitors": monitors}},
            "redis": {"hosts": {"localhost": self.host_vars(**kwargs)}},
            "redis_sentinel": {"hosts": {"localhost": self.sentinel_vars(sentinels, **(sentinel_overrides or {}))}},
        }
        with open(path or self.inventory, "w") as handle:
            yaml.safe_dump(inventory, handle)
        return path or self.inventory

    def client(self, port, **kwargs):
        kwargs.setdefault("password", PASSWORD)
        return super().client(port, **kwargs)

    def sentinel_role(self, *args, inventory=None):
        return run_playbook(self.sentinel_playbook, inventory or self.inventory, extra_args=args)

    def sentinel(self, name, port=None):
        return redis.Redis(host="127.0.0.1", port=port or self.sentinels[name], password=PASSWORD,
                           decode_responses=True, socket_timeout=5)

    def sentinel_run_ids(self):
        return {name: self.sentinel(name).info("server")["run_id"] for name in self.sentinels}

    def master_of(self, name):
        return tuple(self.sentinel(name).execute_command("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "master") or ())

    def stop_all(self):
        kill_pid_files(self.path("sentinel", "run"))
        super().stop_all()


@pytest.fixture(scope="module")
def bed():
    bed = SentinelBed()
    try:
        proc = bed.site()
        assert proc.returncode == 0, show(proc)
        bed.first_run = proc
        yield bed
    finally:
        bed.stop_all()


def test_deploy_monitors_and_checks(bed):
    for name in bed.sentinels:
        assert bed.master_of(name) == ("127.0.0.1", str(bed.master_port))
        assert len(bed.sentinel(name).execute_command("SENTINEL", "SENTINELS", "master")) == 2
    # The Sentinels wrote their state into their own files; the role's header is still there.
    with open(bed.path("sentinel", "etc", "sentinel-s1.conf")) as handle:
        text = handle.read()
    assert "Ansible managed" in text and "sentinel monitor master 127.0.0.1 %d 2" % bed.master_port in text
    assert "sentinel known-replica master 127.0.0.1 %d" % bed.replica_port in text


def test_second_run_changes_nothing(bed):
    before = bed.sentinel_run_ids()
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    # The gate: playbooks/verify.yml checks the Sentinels too (the role's verify entry point).
    proc = bed.playbook("playbooks/verify.yml")
    assert proc.returncode == 0, show(proc)
    task = "TASK [redisops.redis.sentinel : Check every monitored group on the Sentinels of this host]"
    assert task in proc.stdout, show(proc)
    assert "ok: [localhost] => (item=master)" in proc.stdout.split(task, 1)[1][:400], show(proc)
    assert bed.sentinel_run_ids() == before


def _answers(bed, name, port=None):
    try:
        return bed.sentinel(name, port).ping()
    except redis.RedisError:
        return False


def test_sentinel_killed_restarted_and_a_fourth_added_and_removed_live(bed):
    # One run starts s2, killed with SIGKILL, and a new s4; s2 keeps its state, no other restarts.
    myid = bed.sentinel("s2").execute_command("SENTINEL", "MYID")
    others = {name: run_id for name, run_id in bed.sentinel_run_ids().items() if name != "s2"}
    with open(bed.path("sentinel", "run", "sentinel-s2.pid")) as handle:
        os.kill(int(handle.read()), signal.SIGKILL)
    wait_until(lambda: not _answers(bed, "s2"), what="s2 to die")
    port = free_port()
    four = [{"name": name, "port": p} for name, p in bed.sentinels.items()] + [{"name": "s4", "port": port}]
    proc = bed.sentinel_role("-vvv", "--diff", inventory=bed.write_inventory(bed.path("four.yml"), sentinels=four))
    assert proc.returncode == 0, show(proc)
    assert "s3cret-pass" not in proc.stdout + proc.stderr  # no password in any output, also with -vvv --diff
    assert "SENTINEL MONITOR master 127.0.0.1 %d 2" % bed.master_port in proc.stdout  # s4's, the only one
    assert proc.stdout.count("SENTINEL MONITOR") == 1, show(proc)
    assert bed.sentinel("s2").execute_command("SENTINEL", "MYID") == myid
    assert {name: run_id for name, run_id in bed.sentinel_run_ids().items() if name != "s2"} == others
    assert len(bed.sentinel("s4", port).execute_command("SENTINEL", "SENTINELS", "master")) == 3
    for name in bed.sentinels:  # the role's check waited for it; read it here too
        assert len(bed.sentinel(name).execute_command("SENTINEL", "SENTINELS", "master")) == 3

    # s4 retired: stopped, its file removed, the others reset for the group, none restarted.
    before = bed.sentinel_run_ids()
    retired = four[:3] + [{"name": "s4", "port": port, "state": "absent"}]
    proc = bed.sentinel_role("-v", inventory=bed.write_inventory(bed.path("three.yml"), sentinels=retired))
    assert proc.returncode == 0, show(proc)
    assert proc.stdout.count("SENTINEL RESET master") == 3, show(proc)
    assert bed.sentinel_run_ids() == before
    assert not _answers(bed, "s4", port)
    assert not os.path.exists(bed.path("sentinel", "etc", "sentinel-s4.conf"))
    for name in bed.sentinels:
        assert len(bed.sentinel(name).execute_command("SENTINEL", "SENTINELS", "master")) == 2


def test_wrong_auth_password_is_named_by_the_check(bed):
    conf = {name: bed.path("sentinel", "etc", "sentinel-%s.conf" % name) for name in bed.sentinels}
    wrong = {"login_port": bed.sentinels["s1"], "login_password": PASSWORD, "config_file": conf["s1"],
             "monitors": [{"name": "master", "auth_pass": "wrong-password"}]}
    # Check mode says what it would send, masked, and changes nothing.
    result = run_module("sentinel_config", wrong, check=True, diff=True)
    assert result["changed"] and result["commands"] == ["SENTINEL SET master auth-pass ********"], result
    assert result["diff"]["before"]["master"]["auth_pass"] == "(set)" and "wrong-password" not in result["_stdout"]
    with open(conf["s1"]) as handle:
        assert "sentinel auth-pass master %s\n" % PASSWORD in handle.read()
    result = run_module("sentinel_config", wrong)
    assert result["changed"] and result["commands"] == ["SENTINEL SET master auth-pass ********"], result
    assert "wrong-password" not in result["_stdout"]
    check = run_module("sentinel_check", {
        "group": "master", "login_password": PASSWORD, "timeout": 0, "sentinels": 3,
        "members": ["127.0.0.1:%d" % bed.master_port, "127.0.0.1:%d" % bed.replica_port],
        "config_files": conf,
        "instances": [{"instance": name, "login_port": port} for name, port in bed.sentinels.items()]})
    assert check["failed"], check
    refusals = [line for line in check["mismatches"] if "refuses the credentials" in line]
    assert refusals and all(line.startswith("Sentinel s1, group 'master': instance 127.0.0.1:") for line in refusals)
    # The master's own error (redis-py drops the WRONGPASS code from its message).
    assert any("instance 127.0.0.1:%d refuses" % bed.master_port in line and "invalid username-password pair" in line
               for line in refusals), refusals
    # A run of the role puts the inventory's password back, and the check passes again.
    proc = bed.sentinel_role()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 1, show(proc)


def test_bad_input_is_refused_before_any_change(bed):
    servers = {port: bed.run_id(port) for port in (bed.master_port, bed.replica_port)}
    sentinels = bed.sentinel_run_ids()
    clash = [{"name": name, "port": port} for name, port in bed.sentinels.items()]
    clash[2]["port"] = bed.replica_port
    monitors = [{"master": "localhost:master", "quorum": 0}, {"master": "elsewhere:master", "name": "other"}]
    proc = bed.site(inventory=bed.write_inventory(bed.path("bad.yml"), sentinels=clash, monitors=monitors))
    assert proc.returncode != 0, show(proc)
    output = re.sub(r"\s+", " ", proc.stdout)
    for expected in (
            "redis_sentinel_monitors[0].quorum (group 'master'): is 0",
            "redis_sentinel_instances of host 'localhost' (Sentinel 's3'): port %d is also the port of the server "
            "instance 'replica'" % bed.replica_port,
            "redis_sentinel_monitors[1] (master 'elsewhere:master'): host 'elsewhere' is not a host of the server "
            "role's group (localhost). Fix:"):
        assert expected in output, show(proc)
    assert "PLAY [Deploy and verify Redis replication]" not in proc.stdout  # stopped before the server play
    assert recap(proc)[1] == 0, show(proc)
    assert {port: bed.run_id(port) for port in servers} == servers
    assert bed.sentinel_run_ids() == sentinels


def test_a_run_after_a_sentinel_failover_changes_nothing(bed):
    bed.sentinel("s1").execute_command("SENTINEL", "FAILOVER", "master")
    new = ("127.0.0.1", str(bed.replica_port))
    wait_until(lambda: all(bed.master_of(name) == new for name in bed.sentinels), timeout=30,
               what="every Sentinel to name the promoted replica")
    wait_until(lambda: bed.client(bed.replica_port).info("replication")["role"] == "master", what="the promotion")
    # The demoted master syncs from the new one before any run: the role gave it the group's masterauth.
    wait_until(lambda: bed.client(bed.master_port).info("replication").get("master_link_status") == "up",
               timeout=30, what="the old master to sync from the new one")
    before = bed.sentinel_run_ids()
    proc = bed.sentinel_role()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    assert "SENTINEL MONITOR" not in proc.stdout
    assert bed.sentinel_run_ids() == before
    assert all(bed.master_of(name) == new for name in bed.sentinels)


def test_a_killed_master_is_replaced_and_a_rerun_keeps_the_new_one(bed):
    """Issue 10's bed, done: kill -9 the master; the Sentinels promote its replica with every write a
    replica acknowledged; site.yml starts the old master as a replica of the new one and changes
    nothing else; verify passes; one more run changes nothing."""
    ports = {"master": bed.master_port, "replica": bed.replica_port}
    current = int(bed.master_of("s1")[1])
    killed = next(name for name, port in ports.items() if port == current)
    survivor = next(name for name in ports if name != killed)
    acked = acked_writes(bed.client(current), "killed", 200)
    with open(bed.path("run", "redis-%s.pid" % killed)) as handle:
        os.kill(int(handle.read()), signal.SIGKILL)
    new = ("127.0.0.1", str(ports[survivor]))
    wait_until(lambda: all(bed.master_of(name) == new for name in bed.sentinels), timeout=40, interval=0.2,
               what="the Sentinels to promote %s" % survivor)
    wait_until(lambda: bed.client(ports[survivor]).info("replication")["role"] == "master", what="the promotion")
    promoted = bed.client(ports[survivor])
    assert {key: promoted.get(key) for key in acked} == acked
    run_id, sentinels = bed.run_id(ports[survivor]), bed.sentinel_run_ids()

    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert set(changed_tasks(proc)) <= {"Write the directories and configuration files of the instances",
                                        "Start the instances that are not running (process)",
                                        "Apply auth and replication settings to the running instances"}, show(proc)
    wait_until(lambda: bed.client(ports[killed]).info("replication").get("master_link_status") == "up",
               timeout=30, what="the old master to replicate from the new one")
    assert bed.client(ports[killed]).info("replication")["master_port"] == ports[survivor]
    assert bed.client(ports[killed]).get("killed:199") == "199"
    assert bed.run_id(ports[survivor]) == run_id and bed.sentinel_run_ids() == sentinels
    proc = bed.playbook("playbooks/verify.yml")
    assert proc.returncode == 0, show(proc)
    proc = bed.site()
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
    assert all(bed.master_of(name) == new for name in bed.sentinels)


NEW_PASSWORD = "n3w-sentinel-pass#%d" % os.getpid()


def _accepts(bed, name, password):
    try:
        return redis.Redis(host="127.0.0.1", port=bed.sentinels[name], password=password, decode_responses=True,
                           socket_timeout=5).ping()
    except redis.AuthenticationError:
        return False
    except redis.ResponseError as exc:  # older redis-py: a refused AUTH as a plain error
        if "WRONGPASS" in str(exc) or "NOAUTH" in str(exc):
            return False
        raise


def _run_ids(bed, password):
    return {name: redis.Redis(host="127.0.0.1", port=port, password=password, decode_responses=True,
                              socket_timeout=5).info("server")["run_id"] for name, port in bed.sentinels.items()}


def test_a_changed_sentinel_password_is_applied_live(bed):
    before = bed.sentinel_run_ids()
    # 1. the new password, the old one listed as previous: both accepted, no Sentinel restarted
    inventory = bed.write_inventory(path=bed.path("rotate.yml"), sentinel_overrides={
        "redis_sentinel_password": NEW_PASSWORD, "redis_sentinel_previous_passwords": [PASSWORD]})
    proc = bed.sentinel_role("--diff", inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] > 0, show(proc)
    assert NEW_PASSWORD not in proc.stdout and PASSWORD not in proc.stdout
    assert all(_accepts(bed, name, NEW_PASSWORD) and _accepts(bed, name, PASSWORD) for name in bed.sentinels)
    assert _run_ids(bed, NEW_PASSWORD) == before
    # 2. the old one dropped: refused now; the Sentinels still reach each other (the role's check passed)
    inventory = bed.write_inventory(path=bed.path("rotate.yml"), sentinel_overrides={
        "redis_sentinel_password": NEW_PASSWORD})
    proc = bed.sentinel_role(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert not any(_accepts(bed, name, PASSWORD) for name in bed.sentinels)
    assert _run_ids(bed, NEW_PASSWORD) == before
    for port in bed.sentinels.values():
        client = redis.Redis(host="127.0.0.1", port=port, password=NEW_PASSWORD, decode_responses=True)
        assert len(client.execute_command("SENTINEL", "SENTINELS", "master")) == 2
    proc = bed.sentinel_role(inventory=inventory)
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
    # 3. a Sentinel killed and started again keeps the new password (its file holds it)
    with open(bed.path("sentinel", "run", "sentinel-s1.pid")) as handle:
        os.kill(int(handle.read()), signal.SIGKILL)
    wait_until(lambda: not _answers_any(bed, "s1"), what="Sentinel s1 to stop")
    proc = bed.sentinel_role(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    assert _accepts(bed, "s1", NEW_PASSWORD) and not _accepts(bed, "s1", PASSWORD)


def _answers_any(bed, name):
    try:
        redis.Redis(host="127.0.0.1", port=bed.sentinels[name], socket_timeout=1).ping()
    except redis.ConnectionError:
        return False
    except redis.RedisError:
        return True
    return True
