# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pid files and daemon processes of the server_process module (service manager `process`)."""

from __future__ import annotations

import grp
import os
import pwd
import re
import signal
import socket
import subprocess
import tempfile
import time

POLL_INTERVAL = 0.1
# What the kernel appends to /proc/PID/exe when the binary was replaced (a package upgrade)
# while the process runs: the process is still the instance started from that binary.
DELETED_SUFFIX = " (deleted)"


class ProcessError(Exception):
    """A start or stop that did not succeed; the message says what happened."""


def read_pid(pid_file):
    """The pid written in pid_file, or None when the file is missing or holds no positive number."""
    try:
        with open(pid_file) as handle:
            text = handle.read().strip()
    except FileNotFoundError:
        return None
    if not re.fullmatch(r"[0-9]+", text) or int(text) == 0:
        return None
    return int(text)


def is_running(pid, binary, proc_root="/proc"):
    """True when pid is a live process whose executable is the file binary names.

    Paths are compared after resolving symlinks: Debian's redis-server is a link to
    redis-check-rdb, which is what /proc/PID/exe shows. A zombie has no exe and counts as gone.
    """
    try:
        exe = os.readlink(os.path.join(proc_root, str(pid), "exe"))
    except FileNotFoundError:
        return False
    if exe.endswith(DELETED_SUFFIX):
        exe = exe[:-len(DELETED_SUFFIX)]
    return exe == os.path.realpath(binary)


def running_pid(pid_file, binary):
    """The pid of the running instance, or None when the pid file is missing or stale."""
    pid = read_pid(pid_file)
    if pid is not None and is_running(pid, binary):
        return pid
    return None


def accepts_connections(address, port):
    """True when a TCP connection to address:port succeeds now."""
    try:
        with socket.create_connection((address, port), timeout=1):
            return True
    except OSError:
        return False


def log_tail(path, lines=20):
    """The last lines of the file at path, or "" when it is missing or unreadable."""
    try:
        with open(path, "rb") as handle:
            handle.seek(0, os.SEEK_END)
            handle.seek(max(0, handle.tell() - 65536))  # plenty for the last lines; the log may be huge
            data = handle.read()
    except OSError:
        return ""
    return b"\n".join(data.splitlines()[-lines:]).decode("utf-8", "replace")


def ensure_pid_dir(directory, uid, gid):
    """Create the pid file's directory owned by uid:gid, mode 0755, if it is missing.

    Like systemd's RuntimeDirectory: /run is a tmpfs, so /run/redis is gone after a reboot, and
    the server, which no longer runs as root, must be able to write its pid file there.
    """
    if not os.path.isdir(directory):
        os.mkdir(directory)
        os.chown(directory, uid, gid)
        os.chmod(directory, 0o755)


def _wait_for(probe, deadline):
    """Poll probe() until it returns a true value and return that; None once the monotonic deadline passes."""
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() >= deadline:
            return None
        time.sleep(POLL_INTERVAL)


def _drop_privileges(user, uid, gid):
    """The function run in the child between fork and exec: become user, like systemd's User=/Group=."""
    def drop():
        os.setgid(gid)
        os.initgroups(user, gid)
        os.setuid(uid)
        os.umask(0o027)
    return drop


def _can_create_files_in(directory, drop_privileges):
    """True when a process with the server's ids may create files in directory (modes, groups and ACLs count)."""
    probe = ["/bin/sh", "-c", 'test -w "$1" && test -x "$1"', "sh", directory]
    # run_command cannot drop privileges in the child (preexec_fn): ansible-test 2.21's pylint asks for it.
    return subprocess.call(probe, cwd="/", preexec_fn=drop_privileges) == 0  # pylint: disable=ansible-bad-function


def start(binary, config_file, pid_file, user, group, timeout, address="127.0.0.1", port=None):
    """Start binary as a daemon running as user:group and return its pid once it runs.

    The caller has found no running instance in pid_file: a pid file left there is stale and removed.
    Waits until the pid file names a live process of binary and, when port is given, until
    address:port accepts connections. Raises ProcessError saying why the start failed.
    """
    deadline = launch(binary, config_file, pid_file, user, group, timeout, address, port)
    return wait_ready(binary, pid_file, timeout, deadline, address, port)


def launch(binary, config_file, pid_file, user, group, timeout, address="127.0.0.1", port=None):
    """The first half of start(): run the server, which daemonizes, without waiting for it to be ready.

    Several instances launched one after the other then become ready together (wait_ready).
    Returns the monotonic deadline of its readiness. Raises ProcessError saying why it cannot start.
    """
    if os.geteuid() != 0:
        raise ProcessError("starting as %s:%s needs root; run the task with become: true" % (user, group))
    try:
        uid = pwd.getpwnam(user).pw_uid
    except KeyError:
        raise ProcessError("there is no user %s on this host; install the server package, which creates it, "
                           "or set user" % user)
    try:
        gid = grp.getgrnam(group).gr_gid
    except KeyError:
        raise ProcessError("there is no group %s on this host; install the server package, which creates it, "
                           "or set group" % group)
    if port is not None and accepts_connections(address, port):
        raise ProcessError("%s:%d already accepts connections: another server uses port %d; stop it or choose "
                           "another port" % (address, port, port))
    drop_privileges = _drop_privileges(user, uid, gid)
    pid_dir = os.path.dirname(os.path.abspath(pid_file))
    ensure_pid_dir(pid_dir, uid, gid)
    # Redis only logs that it cannot write its pid file and runs on, out of this module's reach.
    if not _can_create_files_in(pid_dir, drop_privileges):
        raise ProcessError("%s cannot create the pid file in %s; make the directory writable for %s or choose "
                           "another pid_file" % (user, pid_dir, user))
    if os.path.lexists(pid_file):
        os.remove(pid_file)  # stale: the caller found no running instance in it

    deadline = time.monotonic() + timeout
    # The command line overrides the config file, which can therefore also serve systemd
    # (--supervised systemd --daemonize no). The server parses its config in the foreground and
    # reports errors there on stderr (not in its log file), so that output is kept; once daemonized
    # it points its stdin, stdout and stderr at /dev/null itself.
    command = [binary, config_file, "--daemonize", "yes", "--pidfile", pid_file]
    with tempfile.TemporaryFile() as output:
        try:
            # run_command cannot drop privileges in the child (preexec_fn) nor leave a daemon behind.
            launcher = subprocess.Popen(  # pylint: disable=ansible-bad-function
                command, stdin=subprocess.DEVNULL, stdout=output, stderr=subprocess.STDOUT,
                close_fds=True, cwd="/", preexec_fn=drop_privileges)
        except OSError as exc:
            raise ProcessError("cannot run %s: %s" % (binary, exc))
        try:
            status = launcher.wait(timeout)
        except subprocess.TimeoutExpired:
            launcher.kill()
            launcher.wait()
            raise ProcessError("%s did not daemonize within %gs" % (" ".join(command), timeout))
        if status != 0:
            output.seek(0)
            printed = output.read().decode("utf-8", "replace").strip()
            raise ProcessError("%s exited with status %d: %s" % (" ".join(command), status, printed or "(no output)"))
    return deadline


def wait_ready(binary, pid_file, timeout, deadline, address="127.0.0.1", port=None):
    """The second half of start(): wait until the launched server runs (and accepts connections on
    address:port when port is given), up to the monotonic deadline; return its pid."""
    pid = _wait_for(lambda: running_pid(pid_file, binary), deadline)
    if pid is None:
        raise ProcessError("no running %s in pid file %s %gs after the start; the server exited or needs a "
                           "longer timeout" % (binary, pid_file, timeout))
    if port is not None and not _wait_for(lambda: accepts_connections(address, port), deadline):
        raise ProcessError("the server runs (pid %d, left running) but does not accept connections on %s:%d %gs "
                           "after the start; is %s in its bind list?" % (pid, address, port, timeout, address))
    return pid


def stop(pid, binary, pid_file, timeout):
    """Stop the instance with SIGTERM, SIGKILL after timeout seconds; return True when it had to be killed.

    On SIGTERM Redis saves its RDB when persistence is on, which can take a while on a big data set,
    and removes its pid file. A killed server leaves its pid file, which is removed here.
    Raises ProcessError when the process survives SIGKILL for timeout seconds.
    """
    def gone():
        return not is_running(pid, binary)

    killed = False
    _signal(pid, signal.SIGTERM)
    if not _wait_for(gone, time.monotonic() + timeout):
        killed = True
        _signal(pid, signal.SIGKILL)
        if not _wait_for(gone, time.monotonic() + timeout):
            raise ProcessError("pid %d still runs %gs after SIGKILL" % (pid, timeout))
    if read_pid(pid_file) == pid:
        os.remove(pid_file)
    return killed


def _signal(pid, signum):
    """Send signum to pid; a process that has exited meanwhile is not an error."""
    try:
        os.kill(pid, signum)
    except ProcessLookupError:
        pass
