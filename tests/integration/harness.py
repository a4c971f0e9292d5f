"""Real redis-server processes and real ansible-playbook runs for the integration tests.

Servers listen on free loopback ports chosen at random (never 6379 or 6479, so the tests run
beside the guide's test bed; a share of its own for each pytest-xdist worker) and are stopped
when the test ends.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
RESERVED_PORTS = {6379, 6479}
REDIS_SERVER = os.environ.get("REDIS_SERVER", "redis-server")


def _ephemeral_low():
    """The first port the kernel hands out to outgoing connections (32768 if unknown)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as handle:
            return int(handle.read().split()[0])
    except (OSError, ValueError, IndexError):
        return 32768


# Ports are drawn below the kernel's ephemeral range, so that no outgoing connection (a
# replica's link, a client) takes a port between free_port() and the server's bind. Under
# pytest-xdist each worker draws only ports p with p % workers == its index: two workers never
# hand out the same port. Within a process a port is handed out once (a Bed asks for several
# before any server binds).
PORT_RANGE = (10000, max(10001, min(_ephemeral_low(), 65000)))
_WORKER_INDEX = int(re.sub(r"\D", "", os.environ.get("PYTEST_XDIST_WORKER", "")) or 0)
_WORKERS = max(1, int(os.environ.get("PYTEST_XDIST_WORKER_COUNT", "") or 1))
_handed_out = set()
_random = random.SystemRandom()


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on now, not handed out before by this process,
    and of this test worker's share of the ports."""
    while True:
        port = _random.randrange(*PORT_RANGE)
        if port % _WORKERS != _WORKER_INDEX or port in RESERVED_PORTS or port in _handed_out:
            continue
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
        _handed_out.add(port)
        return port


def acked_writes(client, prefix, count):
    """count numbered writes (PREFIX:N = N), each batch of 50 acknowledged by a replica (WAIT 1):
    {key: value} of every write acknowledged."""
    acked = {}
    for number in range(count):
        client.set("%s:%d" % (prefix, number), number)
        if number % 50 == 49:
            assert client.execute_command("WAIT", 1, 5000) >= 1
            acked.update(("%s:%d" % (prefix, done), str(done)) for done in range(number + 1))
    return acked


def wait_until(predicate, timeout=15.0, interval=0.05, what="condition"):
    """Poll predicate() until it returns a truthy value; raise AssertionError after timeout."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("timed out after %ss waiting for %s" % (timeout, what))
        time.sleep(interval)


class RedisProcess:
    """One redis-server started by a test, in its own directory."""

    def __init__(self, workdir, port=None, password=None, args=(), binary=REDIS_SERVER):
        self.port = port or free_port()
        self.password = password
        self.dir = os.path.join(workdir, "redis-%d" % self.port)
        os.makedirs(self.dir, exist_ok=True)
        self.log_file = os.path.join(self.dir, "redis.log")
        self.binary = binary
        self.args = list(args)
        self.proc = None

    def command(self):
        cmd = [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", self.dir,
               "--daemonize", "no", "--save", "", "--appendonly", "no", "--logfile", self.log_file]
        if self.password:
            cmd += ["--requirepass", self.password]
        return cmd + self.args

    def start(self):
        self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        wait_until(self._answers, what="redis-server on port %d (log: %s)" % (self.port, self.log_file))
        return self

    def _answers(self):
        if self.proc.poll() is not None:
            raise AssertionError("redis-server exited: %s %s" % (self.proc.stderr.read(), self.log()))
        try:
            return self.client().ping()
        except Exception:  # not listening yet
            return False

    def client(self, **kwargs):
        import redis

        kwargs.setdefault("password", self.password)
        return redis.Redis(host="127.0.0.1", port=self.port, decode_responses=True, socket_timeout=5, **kwargs)

    def log(self):
        try:
            with open(self.log_file) as handle:
                return handle.read()
        except OSError:
            return ""

    def stop(self, sig=signal.SIGTERM):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def ansible_env(**extra):
    env = dict(os.environ)
    env.update(
        ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"),
        ANSIBLE_NOCOLOR="1",
        ANSIBLE_FORCE_COLOR="0",
        ANSIBLE_HOST_KEY_CHECKING="0",
        ANSIBLE_LOCAL_TEMP=os.path.join(tempfile.gettempdir(), "redisops-ansible-tmp"),
        # The project's ansible.cfg uses the brief callback, which hides ok and skipped results and
        # prints a role's failure message only in the result (for people: test_readme.py checks
        # that output); the tests read every result and the one-line error of Ansible's own
        # callback (test_no_secret_output.py searches all of it).
        ANSIBLE_STDOUT_CALLBACK="ansible.builtin.default",
        ANSIBLE_DISPLAY_OK_HOSTS="true",
        ANSIBLE_DISPLAY_SKIPPED_HOSTS="true",
    )
    env.update(extra)
    bindir = os.path.dirname(sys.executable)
    env["PATH"] = bindir + os.pathsep + env.get("PATH", "")
    return env


def run_playbook(playbook, inventory, extra_args=(), env=None, timeout=600):
    """Run ansible-playbook from the repository root; return the CompletedProcess (text)."""
    cmd = [os.path.join(os.path.dirname(sys.executable), "ansible-playbook"), "-i", inventory, playbook]
    cmd += list(extra_args)
    return subprocess.run(cmd, cwd=ROOT, env=env or ansible_env(), capture_output=True, text=True,
                          timeout=timeout, check=False)


def run_module(module, args, check=False, diff=False, tmp_path=None):
    """Run one collection module through ansible-playbook on localhost and return its result dict.

    The task has ignore_errors, so a failing module returns its result (failed, msg, ...) instead
    of raising; the caller asserts on it.
    """
    workdir = tempfile.mkdtemp(prefix="redisops-module-", dir=tmp_path)
    out = os.path.join(workdir, "result.json")
    task = {
        "name": "Run the module under test",
        "redisops.redis." + module: args,
        "register": "result",
        "ignore_errors": True,
        "check_mode": check,
        "diff": diff,
    }
    save = {
        "name": "Save the result",
        "ansible.builtin.copy": {"content": "{{ result | to_json }}", "dest": out, "mode": "0600"},
        "check_mode": False,
        "diff": False,
    }
    playbook = [{"name": "Module under test", "hosts": "all", "gather_facts": False, "tasks": [task, save]}]
    path = os.path.join(workdir, "play.yml")
    with open(path, "w") as handle:
        json.dump(playbook, handle)
    inventory = os.path.join(workdir, "inventory.ini")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    proc = run_playbook(path, inventory)
    if not os.path.exists(out):
        raise AssertionError("ansible-playbook did not run the module:\n%s\n%s" % (proc.stdout, proc.stderr))
    with open(out) as handle:
        result = json.load(handle)
    result["_stdout"] = proc.stdout
    shutil.rmtree(workdir, ignore_errors=True)
    return result


# ---------------------------------------------------------------------------------------------
# A bed deployed by site.yml (shared by test_site.py and test_failover.py)
# ---------------------------------------------------------------------------------------------

PASSWORD = "s3cret pass#with 'quotes' \"and\" \\backslash"
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


class Bed:
    """A master and its replicas deployed by site.yml on localhost, all state under one directory.

    replicas: the names of the master's replicas (default one, "replica"). ports maps every
    instance name to its port; master_port and, with the default, replica_port are shortcuts.
    """

    def __init__(self, replicas=("replica",), prefix="redisops-site-"):
        self.dir = tempfile.mkdtemp(prefix=prefix)
        os.chmod(self.dir, 0o755)
        self.ports = {"master": free_port()}
        for name in replicas:
            self.ports[name] = free_port()
        self.master_port = self.ports["master"]
        self.replica_port = self.ports.get("replica")
        self.instances = [{"name": "master", "port": self.master_port}]
        self.instances += [{"name": name, "port": self.ports[name], "replicaof": "localhost:master"}
                           for name in replicas]
        self.inventory = os.path.join(self.dir, "hosts.yml")
        self.write_inventory()

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def host_vars(self, instances=None, **overrides):
        host = {
            "ansible_connection": "local",
            "ansible_host": "127.0.0.1",
            "ansible_python_interpreter": sys.executable,
            "redis_server_service_manager": "process",
            "redis_server_conf_dir": self.path("etc"),
            "redis_server_data_dir": self.path("data"),
            "redis_server_log_dir": self.path("log"),
            "redis_server_run_dir": self.path("run"),
            "redis_server_password": PASSWORD,
            "redis_server_verify_timeout": 20,
            "redis_server_instances": instances if instances is not None else self.instances,
        }
        host.update(overrides)
        return host

    def write_inventory(self, path=None, **kwargs):
        import yaml

        with open(path or self.inventory, "w") as handle:
            yaml.safe_dump({"redis": {"hosts": {"localhost": self.host_vars(**kwargs)}}}, handle)
        return path or self.inventory

    def variant(self, name, **kwargs):
        """Another inventory for the same bed, e.g. with one setting changed."""
        return self.write_inventory(self.path(name + ".yml"), **kwargs)

    def site(self, *args, inventory=None):
        return run_playbook("site.yml", inventory or self.inventory, extra_args=args)

    def playbook(self, playbook, *args, inventory=None):
        return run_playbook(playbook, inventory or self.inventory, extra_args=args)

    def client(self, port, **kwargs):
        import redis

        kwargs.setdefault("password", PASSWORD)
        kwargs.setdefault("socket_timeout", 5)
        return redis.Redis(host="127.0.0.1", port=port, decode_responses=True, **kwargs)

    def run_id(self, port):
        return self.client(port).info("server")["run_id"]

    def stop_all(self):
        kill_pid_files(self.path("run"))
        shutil.rmtree(self.dir, ignore_errors=True)


def recap(proc):
    """(ok, changed, unreachable, failed) of localhost from a play recap."""
    found = RECAP.findall(proc.stdout)
    assert found, "no play recap:\n%s\n%s" % (proc.stdout[-5000:], proc.stderr[-3000:])
    return tuple(int(n) for n in found[-1])


def show(proc):
    return "rc=%s\n%s\n%s" % (proc.returncode, proc.stdout[-8000:], proc.stderr[-3000:])


def kill_pid_files(run_dir):
    """SIGKILL every process a pid file in run_dir names (a bed's servers, whatever started them)."""
    for name in os.listdir(run_dir) if os.path.isdir(run_dir) else ():
        try:
            with open(os.path.join(run_dir, name)) as handle:
                os.kill(int(handle.read().strip()), signal.SIGKILL)
        except (OSError, ValueError):
            pass


def flat(proc):
    """The output on one line, without the YAML callback's line breaks and doubled single quotes."""
    return " ".join((proc.stdout + proc.stderr).split()).replace("''", "'")


def copy_tracked_files(target):
    """Copy the files git tracks in the checkout to target (links as links): the project as a user's
    repository holds it, without build output, virtualenvs or the collections link's contents."""
    listed = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    for path in listed.split("\0"):
        source, copy = os.path.join(ROOT, path), os.path.join(target, path)
        if not path or not os.path.lexists(source):
            continue
        os.makedirs(os.path.dirname(copy), exist_ok=True)
        if os.path.islink(source):
            os.symlink(os.readlink(source), copy)
        else:
            shutil.copy2(source, copy)
