# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pid files, liveness and stopping, with a fake /proc and with real short-lived processes."""

from __future__ import annotations

import os
import socket
import stat
import subprocess
import sys
import time

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.server_process import (
    accepts_connections,
    ensure_pid_dir,
    is_running,
    log_tail,
    read_pid,
    running_pid,
    stop,
)

SLEEPER = "import time; time.sleep(60)"
# Prints once SIGTERM is ignored, so that the test does not signal it before.
TERM_IGNORER = ("import signal, time; signal.signal(signal.SIGTERM, signal.SIG_IGN); "
                "print('ready', flush=True); time.sleep(60)")


@pytest.fixture
def spawn():
    """Factory: spawn(code) -> a running `python -c code`, killed and reaped at teardown."""
    processes = []

    def start(code):
        process = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
        processes.append(process)
        return process

    yield start
    for process in processes:
        process.kill()
        process.wait()


def process_state(pid):
    """The State letter of /proc/PID/status, None when there is no such process."""
    try:
        with open("/proc/%d/status" % pid) as handle:
            return next(line.split()[1] for line in handle if line.startswith("State:"))
    except FileNotFoundError:
        return None


def wait_for(predicate, timeout=10):
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.02)


def write(path, text):
    path.write_text(text)
    return str(path)


@pytest.mark.parametrize("text, pid", [
    ("4242\n", 4242),
    ("  17 \n", 17),
    ("", None),
    ("\n", None),
    ("0\n", None),
    ("-5\n", None),
    ("12ab\n", None),
    ("1 2\n", None),
    ("\u0663\n", None),  # a non-ASCII digit int() would accept
])
def test_read_pid(tmp_path, text, pid):
    assert read_pid(write(tmp_path / "redis.pid", text)) == pid


def test_read_pid_of_missing_file_is_none(tmp_path):
    assert read_pid(str(tmp_path / "missing.pid")) is None


@pytest.fixture
def debian_binary(tmp_path):
    """redis-server as Debian installs it: a symlink to redis-check-rdb."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    (bindir / "redis-check-rdb").write_text("")
    (bindir / "redis-server").symlink_to("redis-check-rdb")
    return bindir / "redis-server"


@pytest.fixture
def fake_proc(tmp_path):
    """Factory: fake_proc(pid, exe) -> a /proc root in which /proc/PID/exe links to exe."""
    root = tmp_path / "proc"

    def make(pid, exe):
        (root / str(pid)).mkdir(parents=True)
        (root / str(pid) / "exe").symlink_to(exe)
        return str(root)

    return make


def test_process_of_the_binary_behind_the_symlink_is_running(fake_proc, debian_binary):
    proc_root = fake_proc(4242, os.path.realpath(debian_binary))
    assert is_running(4242, str(debian_binary), proc_root)


def test_process_whose_binary_was_replaced_since_it_started_is_running(fake_proc, debian_binary):
    proc_root = fake_proc(4242, os.path.realpath(debian_binary) + " (deleted)")
    assert is_running(4242, str(debian_binary), proc_root)


def test_process_of_another_program_is_not_running(fake_proc, debian_binary):
    proc_root = fake_proc(4242, "/usr/bin/python3")
    assert not is_running(4242, str(debian_binary), proc_root)


def test_missing_process_is_not_running(fake_proc, debian_binary):
    proc_root = fake_proc(4242, os.path.realpath(debian_binary))
    assert not is_running(4243, str(debian_binary), proc_root)


def test_live_process_is_running_and_zombie_is_not(spawn):
    process = spawn(SLEEPER)
    assert is_running(process.pid, sys.executable)
    process.kill()
    # Not reaped: a zombie, as the dead server is where PID 1 does not reap orphans.
    wait_for(lambda: process_state(process.pid) == "Z")
    assert not is_running(process.pid, sys.executable)


def test_running_pid_is_the_pid_of_a_live_process_of_the_binary(tmp_path):
    pid_file = write(tmp_path / "redis.pid", "%d\n" % os.getpid())
    assert running_pid(pid_file, sys.executable) == os.getpid()


def test_pid_file_naming_another_program_is_stale(tmp_path, debian_binary):
    pid_file = write(tmp_path / "redis.pid", "%d\n" % os.getpid())
    assert running_pid(pid_file, str(debian_binary)) is None


def test_pid_file_naming_a_dead_process_is_stale(tmp_path):
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    pid_file = write(tmp_path / "redis.pid", "%d\n" % process.pid)
    assert running_pid(pid_file, sys.executable) is None


def test_missing_pid_file_means_stopped(tmp_path):
    assert running_pid(str(tmp_path / "redis.pid"), sys.executable) is None


def test_stop_terminates_and_removes_the_pid_file(tmp_path, spawn):
    process = spawn(SLEEPER)
    pid_file = write(tmp_path / "redis.pid", "%d\n" % process.pid)
    assert stop(process.pid, sys.executable, pid_file, timeout=10) is False
    assert process.wait(timeout=1) == -15
    assert not os.path.exists(pid_file)


def test_stop_kills_a_process_that_ignores_sigterm_after_the_timeout(tmp_path, spawn):
    process = spawn(TERM_IGNORER)
    assert process.stdout.readline() == "ready\n"
    pid_file = write(tmp_path / "redis.pid", "%d\n" % process.pid)
    started = time.monotonic()
    assert stop(process.pid, sys.executable, pid_file, timeout=0.5) is True
    assert time.monotonic() - started >= 0.5
    assert process.wait(timeout=1) == -9
    assert not os.path.exists(pid_file)


def test_stop_keeps_a_pid_file_naming_another_process(tmp_path, spawn):
    process = spawn(SLEEPER)
    pid_file = write(tmp_path / "redis.pid", "%d\n" % os.getpid())
    stop(process.pid, sys.executable, pid_file, timeout=10)
    assert read_pid(pid_file) == os.getpid()


@pytest.mark.skipif(os.geteuid() != 0, reason="chown to another user needs root")
def test_missing_pid_dir_is_created_for_the_server_user(tmp_path):
    old_umask = os.umask(0o077)
    try:
        ensure_pid_dir(str(tmp_path / "run"), 4321, 4322)
    finally:
        os.umask(old_umask)
    info = os.stat(tmp_path / "run")
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (4321, 4322, 0o755)


def test_existing_pid_dir_is_left_alone(tmp_path):
    run_dir = tmp_path / "run"
    run_dir.mkdir(mode=0o700)
    before = os.stat(run_dir)
    ensure_pid_dir(str(run_dir), before.st_uid + 1, before.st_gid + 1)
    after = os.stat(run_dir)
    assert (after.st_uid, after.st_gid, after.st_mode) == (before.st_uid, before.st_gid, before.st_mode)


def test_log_tail_is_the_last_lines(tmp_path):
    log = write(tmp_path / "redis.log", "".join("line %d\n" % number for number in range(1, 5001)))
    assert log_tail(log, lines=3) == "line 4998\nline 4999\nline 5000"
    assert log_tail(log).splitlines() == ["line %d" % number for number in range(4981, 5001)]


def test_log_tail_of_missing_file_is_empty(tmp_path):
    assert log_tail(str(tmp_path / "missing.log")) == ""


def test_accepts_connections_only_while_something_listens():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        assert accepts_connections("127.0.0.1", port)
    assert not accepts_connections("127.0.0.1", port)
