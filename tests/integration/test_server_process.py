# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""server_process starting, stopping and restarting real redis-server daemons through ansible-playbook."""

from __future__ import annotations

import grp
import os
import pwd
import shutil
import signal
import socket
import stat
import time

import pytest

from harness import REDIS_SERVER, free_port, run_module, wait_until

BINARY = shutil.which(REDIS_SERVER)
REDIS_UID = pwd.getpwnam("redis").pw_uid
REDIS_GID = grp.getgrnam("redis").gr_gid


def process_state(pid):
    """The State letter of /proc/PID/status, None when there is no such process."""
    try:
        with open("/proc/%d/status" % pid) as handle:
            return next(line.split()[1] for line in handle if line.startswith("State:"))
    except FileNotFoundError:
        return None


def alive(pid):
    return process_state(pid) not in (None, "Z")


def ids(pid, field):
    """The real, effective, saved and filesystem ids of /proc/PID/status's Uid: or Gid: line."""
    with open("/proc/%d/status" % pid) as handle:
        return next([int(value) for value in line.split()[1:]] for line in handle if line.startswith(field + ":"))


def ping(port):
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(b"PING\r\n")
        return sock.recv(64)


def kill_servers_working_in(directory):
    """SIGKILL every redis-server whose working directory (its config's `dir`) is directory."""
    for entry in os.listdir("/proc"):
        try:
            cwd = os.readlink("/proc/%s/cwd" % entry)
            exe = os.readlink("/proc/%s/exe" % entry)
        except OSError:  # not a process, or gone meanwhile
            continue
        if cwd == directory and exe == os.path.realpath(BINARY):
            os.kill(int(entry), signal.SIGKILL)
            wait_until(lambda: not alive(int(entry)), what="killed redis-server %s to exit" % entry)


@pytest.fixture
def instance(workdir):
    """Module arguments for an instance with its own config and data dir; kills what it leaves running."""
    port = free_port()
    data_dir = os.path.join(workdir, "data")
    os.mkdir(data_dir)
    os.chown(data_dir, REDIS_UID, REDIS_GID)
    log_file = os.path.join(data_dir, "redis.log")
    config_file = os.path.join(workdir, "redis.conf")
    with open(config_file, "w") as handle:
        handle.write('port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsave ""\nappendonly no\n'
                     % (port, data_dir, log_file))
    yield dict(name="it", binary=BINARY, config_file=config_file, pid_file=os.path.join(workdir, "run", "redis-it.pid"),
               log_file=log_file, port=port, timeout=10)
    kill_servers_working_in(data_dir)


def test_start_restart_stop_and_check_mode(instance):
    port, pid_file = instance["port"], instance["pid_file"]

    started = run_module("server_process", instance)
    assert (started["changed"], started["state"]) == (True, "running"), started
    pid = started["pid"]
    assert ping(port) == b"+PONG\r\n"
    assert ids(pid, "Uid") == [REDIS_UID] * 4
    assert ids(pid, "Gid") == [REDIS_GID] * 4
    run_dir = os.stat(os.path.dirname(pid_file))
    assert (run_dir.st_uid, run_dir.st_gid, stat.S_IMODE(run_dir.st_mode)) == (REDIS_UID, REDIS_GID, 0o755)
    assert stat.S_IMODE(os.stat(instance["log_file"]).st_mode) == 0o640  # umask 027

    started_again = run_module("server_process", instance)
    assert (started_again["changed"], started_again["pid"]) == (False, pid), started_again

    stop_checked = run_module("server_process", dict(instance, state="stopped"), check=True)
    assert (stop_checked["changed"], stop_checked["state"], stop_checked["pid"]) == (True, "stopped", None)
    assert alive(pid) and ping(port) == b"+PONG\r\n"

    restarted = run_module("server_process", dict(instance, state="restarted"))
    assert (restarted["changed"], restarted["state"]) == (True, "running"), restarted
    assert restarted["pid"] != pid and not alive(pid)
    assert ping(port) == b"+PONG\r\n"

    stopped = run_module("server_process", dict(instance, state="stopped"))
    assert (stopped["changed"], stopped["state"], stopped["pid"]) == (True, "stopped", None), stopped
    assert not alive(restarted["pid"])
    assert not os.path.exists(pid_file)

    stopped_again = run_module("server_process", dict(instance, state="stopped"))
    assert (stopped_again["changed"], stopped_again["state"]) == (False, "stopped"), stopped_again

    start_checked = run_module("server_process", instance, check=True)
    assert (start_checked["changed"], start_checked["state"], start_checked["pid"]) == (True, "running", None)
    assert not os.path.exists(pid_file)
    with pytest.raises(ConnectionRefusedError):
        ping(port)


def test_stale_pid_file_means_stopped_and_is_replaced_on_start(instance):
    pid_file = instance["pid_file"]
    os.mkdir(os.path.dirname(pid_file))
    os.chown(os.path.dirname(pid_file), REDIS_UID, REDIS_GID)
    with open(pid_file, "w") as handle:
        handle.write("%d\n" % os.getpid())  # a live process, but pytest, not redis-server

    stopped = run_module("server_process", dict(instance, state="stopped"))
    assert (stopped["changed"], stopped["state"]) == (False, "stopped"), stopped

    started = run_module("server_process", instance)
    assert started["changed"] and started["pid"] != os.getpid(), started
    with open(pid_file) as handle:
        assert int(handle.read()) == started["pid"]
    assert ping(instance["port"]) == b"+PONG\r\n"


def test_start_refuses_a_pid_dir_the_server_user_cannot_write(instance):
    os.mkdir(os.path.dirname(instance["pid_file"]), 0o755)  # owned by root

    result = run_module("server_process", instance)
    assert result["failed"], result
    assert "redis cannot create the pid file in %s" % os.path.dirname(instance["pid_file"]) in result["msg"]
    with pytest.raises(ConnectionRefusedError):
        ping(instance["port"])


def test_config_error_fails_with_what_the_server_printed(instance):
    with open(instance["config_file"], "a") as handle:
        handle.write("no-such-directive yes\n")

    result = run_module("server_process", instance)
    assert result["failed"], result
    assert result["msg"].startswith("Instance it did not start: ")
    assert "'no-such-directive yes'" in result["msg"] and "Bad directive" in result["msg"]


def test_server_exiting_after_daemonizing_fails_with_the_log_tail(instance):
    with open(instance["config_file"], "a") as handle:
        handle.write("bind 192.0.2.1\n")  # TEST-NET-1: never an address of this host

    started = time.monotonic()
    result = run_module("server_process", dict(instance, timeout=3))
    assert result["failed"], result
    assert time.monotonic() - started >= 3
    assert "no running %s in pid file" % BINARY in result["msg"]
    assert "Last lines of %s:" % instance["log_file"] in result["msg"]
    assert "192.0.2.1:%d: bind: Cannot assign requested address" % instance["port"] in result["msg"]


def test_start_refuses_a_port_something_else_listens_on(instance):
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", instance["port"]))
        listener.listen()
        result = run_module("server_process", instance)
    assert result["failed"], result
    assert "127.0.0.1:%d already accepts connections" % instance["port"] in result["msg"]
    assert not os.path.exists(instance["pid_file"])


@pytest.fixture
def instances(workdir):
    """Items of the instances option: three instances, each with its own config, data dir and port."""
    items = []
    for name in ("one", "two", "three"):
        port = free_port()
        data_dir = os.path.join(workdir, "data-" + name)
        os.mkdir(data_dir)
        os.chown(data_dir, REDIS_UID, REDIS_GID)
        config_file = os.path.join(workdir, "redis-%s.conf" % name)
        log_file = os.path.join(data_dir, "redis.log")
        with open(config_file, "w") as handle:
            handle.write('port %d\nbind 127.0.0.1\ndir %s\nlogfile %s\nsave ""\nappendonly no\n'
                         % (port, data_dir, log_file))
        items.append(dict(name=name, config_file=config_file, pid_file=os.path.join(workdir, "run", name + ".pid"),
                          log_file=log_file, login_port=port))
    yield items
    for item in items:
        kill_servers_working_in(os.path.dirname(item["log_file"]))


def test_instances_start_together_in_one_call_and_only_the_stopped_ones(instances):
    common = dict(binary=BINARY, timeout=10)
    checked = run_module("server_process", dict(common, instances=instances), check=True)
    assert checked["changed"] and not checked.get("failed"), checked
    assert [(r["name"], r["state"], r["pid"], r["changed"]) for r in checked["instances"]] == [
        (item["name"], "running", None, True) for item in instances]
    for item in instances:
        with pytest.raises(ConnectionRefusedError):
            ping(item["login_port"])

    started = run_module("server_process", dict(common, instances=instances))
    assert started["changed"] and not started.get("failed"), started
    assert [(r["name"], r["state"], r["previous_pid"], r["changed"]) for r in started["instances"]] == [
        (item["name"], "running", None, True) for item in instances]
    pids = {r["name"]: r["pid"] for r in started["instances"]}
    for item in instances:
        assert ping(item["login_port"]) == b"+PONG\r\n"
        assert ids(pids[item["name"]], "Uid") == [REDIS_UID] * 4

    # Only the instance that is not running is started; the others keep their process.
    stopped = run_module("server_process", dict(common, instances=instances[1:2], state="stopped"))
    assert [(r["name"], r["state"], r["changed"]) for r in stopped["instances"]] == [("two", "stopped", True)]
    assert not alive(pids["two"])
    again = run_module("server_process", dict(common, instances=instances))
    assert again["changed"], again
    assert [(r["name"], r["changed"]) for r in again["instances"]] == [("one", False), ("two", True), ("three", False)]
    assert again["instances"][0]["pid"] == pids["one"] and again["instances"][2]["pid"] == pids["three"]
    assert ping(instances[1]["login_port"]) == b"+PONG\r\n"

    unchanged = run_module("server_process", dict(common, instances=instances))
    assert not unchanged["changed"], unchanged

    stopped = run_module("server_process", dict(common, instances=instances, state="stopped"))
    assert [r["state"] for r in stopped["instances"]] == ["stopped"] * 3
    for item in instances:
        with pytest.raises(ConnectionRefusedError):
            ping(item["login_port"])


def test_one_instance_that_cannot_start_fails_the_call_after_the_others_started(instances):
    with open(instances[0]["config_file"], "a") as handle:
        handle.write("no-such-directive yes\n")
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", instances[2]["login_port"]))
        listener.listen()
        result = run_module("server_process", dict(binary=BINARY, timeout=10, instances=instances))
    assert result["failed"] and result["changed"], result
    assert result["msg"].startswith("Instance one did not start: "), result["msg"]
    assert "Bad directive" in result["msg"]
    assert "Instance three did not start: 127.0.0.1:%d already accepts connections" % instances[2]["login_port"] in result["msg"]
    by_name = {r["name"]: r for r in result["instances"]}
    assert (by_name["two"]["state"], by_name["two"]["changed"]) == ("running", True)
    assert "msg" not in by_name["two"] and "msg" in by_name["one"] and "msg" in by_name["three"]
    assert ping(instances[1]["login_port"]) == b"+PONG\r\n"
