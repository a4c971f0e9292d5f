"""Before site.yml writes anything: every running instance must accept the password the inventory
gives it, and one run at a time changes a host (the run lock). Against a real bed (process
service manager, free loopback ports), with real ansible-playbook runs, one of them killed with
SIGKILL while it holds the lock.

The tests of this file share one bed and run in order.
"""

from __future__ import annotations

import glob
import os
import re
import signal
import subprocess
import sys

import pytest
import redis

from harness import ansible_env, Bed, flat, PASSWORD, recap, ROOT, run_module, show, wait_until

MISLEADING = "another server uses port"


def files(bed):
    found = {}
    for path in sorted(glob.glob(bed.path("etc", "*"))):
        with open(path, "rb") as handle:
            found[path] = handle.read()
    return found


def run_ids(bed):
    return {name: bed.run_id(port) for name, port in bed.ports.items()}


def accepts(bed, port, password):
    try:
        return bed.client(port, password=password).ping()
    except redis.AuthenticationError:
        return False


def lock_file(bed):
    """The role's lock of this bed's redis_server_conf_dir (vars/main.yml)."""
    return "/run/lock/redisops-redis-server%s.lock" % re.sub(r"[^A-Za-z0-9_.]+", "-", bed.path("etc"))


def start_site(bed, *args, inventory=None):
    """site.yml in the background, in its own process group (so that a test can kill all of it)."""
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory or bed.inventory,
           "site.yml"] + list(args)
    return subprocess.Popen(cmd, cwd=ROOT, env=ansible_env(), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, start_new_session=True)


def kill_instances(bed):
    for name in bed.ports:
        with open(bed.path("run", "redis-%s.pid" % name)) as handle:
            pid = int(handle.read().strip())
        os.kill(pid, signal.SIGKILL)
        wait_until(lambda: not os.path.exists("/proc/%d" % pid), what="instance %s to die" % name)


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-login-")
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    yield bed
    if os.path.exists(lock_file(bed)):
        os.unlink(lock_file(bed))
    bed.stop_all()


# -------------------------------------------------------------------------------------------------
# A password the running instances refuse is never written
# -------------------------------------------------------------------------------------------------

@pytest.mark.parametrize("overrides, refused", [
    ({"redis_server_password": "a wrong password"}, ["master", "replica"]),
    ({"redis_server_password": "a wrong password", "redis_server_previous_passwords": ["neither this one"]},
     ["master", "replica"]),
    ({"instances": "master password wrong"}, ["master"]),
    ({"redis_server_password": "a wrong password", "redis_server_force_topology": True}, ["master", "replica"]),
], ids=["wrong password", "wrong previous password too", "wrong password of one instance", "with the guard lifted"])
def test_a_password_the_instances_refuse_stops_the_run_before_anything_is_written(bed, overrides, refused):
    overrides = dict(overrides)
    if overrides.pop("instances", None):
        overrides["instances"] = [dict(item, password="a wrong password") if item["name"] == "master" else item
                                  for item in bed.instances]
    before_files, before_ids = files(bed), run_ids(bed)
    proc = bed.site(inventory=bed.variant("wrong", **overrides))
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = flat(proc)
    for name in bed.ports:
        said = "Instance '%s' of host 'localhost' (127.0.0.1:%d) is running and refuses the password" % (
            name, bed.ports[name]) in out
        assert said == (name in refused), show(proc)
    assert "Nothing was changed" in out, show(proc)
    assert "redis_server_password" in out and "list the current one in redis_server_previous_passwords" in out
    assert "a wrong password" not in proc.stdout + proc.stderr and PASSWORD not in proc.stdout + proc.stderr
    assert files(bed) == before_files
    assert run_ids(bed) == before_ids
    for port in bed.ports.values():
        assert accepts(bed, port, PASSWORD)
        assert not accepts(bed, port, "a wrong password")
    # The failed run released its lock.
    assert not os.path.exists(lock_file(bed))


def test_the_current_password_listed_as_a_previous_one_starts_a_rotation(bed):
    inventory = bed.variant("rotation", redis_server_password="the next password",
                            redis_server_previous_passwords=["not this one", PASSWORD])
    proc = bed.site(inventory=inventory)
    assert proc.returncode == 0, show(proc)
    for port in bed.ports.values():
        assert accepts(bed, port, "the next password") and accepts(bed, port, PASSWORD)
    # Back to the bed's password for the next tests.
    proc = bed.site(inventory=bed.variant("back", redis_server_previous_passwords=["the next password"]))
    assert proc.returncode == 0, show(proc)
    proc = bed.site()
    assert proc.returncode == 0, show(proc)
    assert not accepts(bed, bed.master_port, "the next password")


@pytest.mark.parametrize("previous, refused", [([], True), (["nope", PASSWORD], False)])
def test_replication_info_tries_previous_passwords_and_flags_a_refused_login(bed, previous, refused):
    result = run_module("replication_info", {
        "login_password": "a wrong password",
        "previous_passwords": previous,
        "instances": [{"instance": "master", "login_port": bed.master_port}],
    })
    assert not result.get("failed"), result
    (instance,) = result["instances"]
    assert instance.get("login_refused", False) == refused, instance
    assert (instance.get("replication") or {}).get("role") == (None if refused else "master"), instance


# -------------------------------------------------------------------------------------------------
# One run at a time
# -------------------------------------------------------------------------------------------------

def waited_for_the_lock(out):
    """Seconds the run waited for the lock, from its -v output."""
    found = re.search(r"TASK \[redisops.redis.server : Take the run lock of the host.*?\n\s*waited: ([0-9.e-]+)", out, re.S)
    assert found, out[-6000:]
    return float(found.group(1))


def test_two_runs_at_once_on_one_host_both_succeed_one_after_the_other(bed):
    # Instances down: both runs would start them, which is where two runs collided.
    kill_instances(bed)
    runs = [start_site(bed, "-v"), start_site(bed, "-v")]
    outputs = [run.communicate(timeout=600) for run in runs]
    for run, (out, err) in zip(runs, outputs):
        assert run.returncode == 0, "%s\n%s" % (out[-6000:], err[-3000:])
        assert MISLEADING not in out + err
    # One of them found the lock taken and polled for it (every 0.2 s): they ran one after the other.
    waits = sorted(waited_for_the_lock(out) for out, err in outputs)
    assert waits[1] >= 0.2, waits
    # Both started nothing twice: each instance runs once, as its pid file says.
    for name, port in bed.ports.items():
        with open(bed.path("run", "redis-%s.pid" % name)) as handle:
            assert int(handle.read().strip()) == bed.client(port).info("server")["process_id"]
    assert not os.path.exists(lock_file(bed))


def test_a_run_killed_while_it_holds_the_lock_blocks_the_next_which_names_it_and_the_fix(bed):
    killed = start_site(bed)
    wait_until(lambda: os.path.exists(lock_file(bed)), timeout=120, interval=0.01, what="the run to take its lock")
    os.killpg(killed.pid, signal.SIGKILL)
    killed.communicate()
    assert os.path.exists(lock_file(bed))
    before_files, before_ids = files(bed), run_ids(bed)
    proc = bed.site(inventory=bed.variant("short-wait", redis_server_lock_timeout=2))
    assert proc.returncode != 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)
    out = flat(proc)
    assert "Another run holds the lock %s: the play 'Deploy and verify Redis replication' run by" % lock_file(bed) \
        in out, show(proc)
    assert re.search(r"since \d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(\d+s ago\)", out), show(proc)
    assert "remove the file %s on this host" % lock_file(bed) in out, show(proc)
    assert "raise redis_server_lock_timeout (2s now)" in out, show(proc)
    assert MISLEADING not in out
    assert (files(bed), run_ids(bed)) == (before_files, before_ids)
    # The lock of the killed run is still there: a run that fails to take it leaves it alone.
    assert os.path.exists(lock_file(bed))
    # The fix the message gives.
    os.unlink(lock_file(bed))
    proc = bed.site()
    assert proc.returncode == 0 and recap(proc)[1] == 0, show(proc)
