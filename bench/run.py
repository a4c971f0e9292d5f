# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The benchmark of issue 5: how long site.yml takes, against the Ansible floor of the same run.

    make bench                        # or: .venv/bin/python bench/run.py
    BENCH_REPS=5 make bench           # more repetitions (see ENVIRONMENT below)
    BENCH_ONLY=floor,bed make bench   # only some sections
    make bench-quick                  # or: bench/run.py --quick: bed, profile and fleet, once each

Every figure is the median, with min and max, of several runs, and is reported as a ratio to
the median of the floor (ansible-playbook of one ansible.builtin.ping task, no facts, on the
same kind of inventory) measured in the same run, so that a slow or busy machine does not
change the verdict. Sections:

  floor     the floor itself: BENCH_REPS times at the start, whatever BENCH_ONLY says, and again
            before every repetition of bed and once per bed of verify, scale and profile
  bed       site.yml on a bed shaped like inventories/local (master + replica on localhost, the
            process service manager where PID 1 is not systemd): converge from stopped instances
            and absent configuration (packages installed), then the idempotent run
  verify    time to verified replication: from the replica's start (its process start time) to
            replication_check passing, against a bare loop polling INFO replication every 10 ms
            beside it; once through the module alone, once through site.yml
  scale     converge and idempotent run with 1, 4, 16 and 32 instances on localhost (one master,
            the rest its replicas); least-squares slope per instance
  hosts     3, 6 and 12 systemd containers (one master, the rest replicas), when Docker, a
            molecule image and the community.docker collection are there; else skipped, with why
  fullsync  a replica joining a master holding BENCH_SYNC_GB (default 1) GiB of incompressible
            data: replication_check against the bare loop, and the progress it reports
  fleet     one machine standing in for a fleet: N local hosts (ansible_connection local), one
            instance each on its own port, h01 the master and every other host its replica, forks
            20; for N in BENCH_FLEET (20,60): the floor of those hosts, converge and idempotent run,
            as ratios to that floor; the tasks and module executions per host of the idempotent run
  profile   one converge and one idempotent run of the master + replica bed with the time of
            every task and the module executions (round trips) of each, from -vvv; the
            idempotent run of a 4-instance bed gives the round trips added per instance

The beds live in temporary directories on free loopback ports (never 6379/6479), so the
benchmark runs beside the local test bed and leaves nothing behind. It needs root (the
instances run as the redis user) and redis-server installed, like the integration tests.

Results: bench/results/bench-STAMP.json and .png (and latest.json / latest.png; the directory
is git-ignored), a table and the profile's top tasks on stdout. docs/benchmarks.md explains them.

ENVIRONMENT: BENCH_REPS (3) repetitions of floor, bed and verify; BENCH_SCALE_REPS (2);
BENCH_SCALE ("1,4,16,32"); BENCH_HOSTS ("3,6,12"); BENCH_HOSTS_REPS (2); BENCH_SYNC_GB (1);
BENCH_SYNC_REPS (1); BENCH_FLEET ("20,60"); BENCH_FLEET_REPS (1); BENCH_FLEET_FORKS (20);
BENCH_ONLY (all sections, comma-separated; or --only SECTIONS); BENCH_IMAGE (the molecule
image of hosts, redisops/molecule-systemd:bookworm); BENCH_RESULTS (directory of the results).
"""

from __future__ import annotations

import datetime
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time

import redis
import yaml
from redis.backoff import NoBackoff
from redis.retry import Retry

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
BIN = os.path.dirname(sys.executable)
RESULTS = os.environ.get("BENCH_RESULTS") or os.path.join(HERE, "results")
RESERVED_PORTS = {6379, 6479}
RECAP = re.compile(r"^(\S+)\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)

# The targets of issue 5, as ratios to the floor (slope: floor per instance) and seconds.
TARGETS = {"idempotent": 2.5, "converge": 5.0, "slope": 0.15, "verify_overhead_s": 0.3, "fullsync_overhead": 0.05,
           "fleet_idempotent": 4.0}


def env_int(name, default):
    return int(os.environ.get(name, default))


def env_list(name, default):
    return [int(part) for part in os.environ.get(name, default).split(",") if part.strip()]


REPS = env_int("BENCH_REPS", 3)
SCALE_REPS = env_int("BENCH_SCALE_REPS", 2)
SCALE = env_list("BENCH_SCALE", "1,4,16,32")
HOSTS = env_list("BENCH_HOSTS", "3,6,12")
HOSTS_REPS = env_int("BENCH_HOSTS_REPS", 2)
SYNC_GB = float(os.environ.get("BENCH_SYNC_GB", "1"))
SYNC_REPS = env_int("BENCH_SYNC_REPS", 1)
FLEET = env_list("BENCH_FLEET", "20,60")
FLEET_REPS = env_int("BENCH_FLEET_REPS", 1)
FLEET_FORKS = env_int("BENCH_FLEET_FORKS", 20)
SECTIONS = ("floor", "bed", "verify", "scale", "hosts", "fullsync", "profile", "fleet")
ONLY = [part for part in os.environ.get("BENCH_ONLY", ",".join(SECTIONS)).split(",") if part]


def log(msg):
    print("[bench %s] %s" % (time.strftime("%H:%M:%S"), msg), flush=True)


def summary(samples):
    """median, min, max and the samples (seconds, rounded)."""
    if not samples:
        return None
    return {"median": round(statistics.median(samples), 3), "min": round(min(samples), 3),
            "max": round(max(samples), 3), "n": len(samples), "samples": [round(s, 3) for s in samples]}


def free_ports(count):
    """count distinct TCP ports of 127.0.0.1 that nothing listens on now."""
    ports = set()
    while len(ports) < count:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        if port not in RESERVED_PORTS and port < 65000:
            ports.add(port)
    return sorted(ports)


class PlaybookFailed(RuntimeError):
    pass


def ansible_playbook(playbook, inventory, *args, timing_file=None, extra_env=None, bindir=BIN):
    """Run ansible-playbook from the root of the clone; (seconds, stdout). Raises PlaybookFailed."""
    env = dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), NO_COLOR="1", ANSIBLE_NOCOLOR="1")
    if timing_file:
        env.update(ANSIBLE_CALLBACK_PLUGINS=os.path.join(HERE, "callback_plugins"),
                   ANSIBLE_CALLBACKS_ENABLED="bench_timing", BENCH_TIMING_FILE=timing_file)
    env.update(extra_env or {})
    cmd = [os.path.join(bindir, "ansible-playbook"), "-i", inventory, playbook] + list(args)
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    if proc.returncode != 0:
        raise PlaybookFailed("%s failed (rc=%d):\n%s\n%s"
                             % (" ".join(cmd), proc.returncode, proc.stdout[-6000:], proc.stderr[-3000:]))
    return seconds, proc.stdout


def changed_count(stdout):
    return sum(int(match[2]) for match in RECAP.findall(stdout))


def read_timing(path):
    with open(path) as handle:
        return [json.loads(line) for line in handle if line.strip()]


def process_start_time(pid):
    """The start of process pid as a time.time() value (clock-tick resolution, 10 ms)."""
    with open("/proc/%d/stat" % pid) as handle:
        fields = handle.read().rsplit(")", 1)[1].split()
    started_after_boot = int(fields[19]) / os.sysconf("SC_CLK_TCK")
    return time.time() - (time.clock_gettime(time.CLOCK_BOOTTIME) - started_after_boot)


def stop_pid(pid, timeout=15.0, sig=signal.SIGTERM):
    try:
        os.kill(pid, sig)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.02)
    try:
        os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    time.sleep(0.1)


class LocalBed:
    """Instances on this machine deployed by site.yml, every path under one temporary directory.

    The inventory is inventories/local's, with the paths and ports changed: same host variables,
    same group_vars (the password lookup), auto service manager.
    """

    def __init__(self, count, names=None):
        self.dir = tempfile.mkdtemp(prefix="redisops-bench-")
        os.chmod(self.dir, 0o755)
        self.ports = free_ports(count)
        names = names or ["i%02d" % n for n in range(count)]
        self.instances = [{"name": names[0], "port": self.ports[0]}] + [
            {"name": name, "port": port, "replicaof": "localhost:%s" % names[0]}
            for name, port in zip(names[1:], self.ports[1:])]
        inventory_dir = os.path.join(self.dir, "inventories", "bench")
        os.makedirs(os.path.join(inventory_dir, "group_vars"))
        shutil.copy(os.path.join(ROOT, "inventories", "local", "group_vars", "redis.yml"),
                    os.path.join(inventory_dir, "group_vars", "redis.yml"))
        self.inventory = os.path.join(inventory_dir, "hosts.yml")
        host = {
            "ansible_connection": "local",
            "ansible_host": "127.0.0.1",
            "ansible_python_interpreter": "{{ ansible_playbook_python }}",
            "redis_server_conf_dir": self.path("etc"),
            "redis_server_data_dir": self.path("data"),
            "redis_server_log_dir": self.path("log"),
            "redis_server_run_dir": self.path("run"),
            "redis_server_instances": self.instances,
        }
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"redis": {"hosts": {"localhost": host}}}, handle)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    @property
    def password(self):
        if os.environ.get("REDIS_PASSWORD"):
            return os.environ["REDIS_PASSWORD"]
        with open(self.path(".secrets", "redis-password")) as handle:
            return handle.read().split()[0]

    def client(self, port, **kwargs):
        """A client that fails at once when nothing listens (redis-py retries with backoff by default)."""
        return redis.Redis(host="127.0.0.1", port=port, password=self.password, socket_timeout=10,
                           retry=Retry(NoBackoff(), 0), **kwargs)

    def pid(self, name):
        try:
            with open(self.path("run", "redis-%s.pid" % name)) as handle:
                return int(handle.read().strip())
        except (OSError, ValueError):
            return None

    def stop(self, name, sig=signal.SIGTERM):
        pid = self.pid(name)
        if pid:
            stop_pid(pid, sig=sig)

    def wipe(self, sig=signal.SIGTERM):
        """Stopped instances and absent configuration, data, logs: what a converge starts from."""
        for instance in self.instances:
            self.stop(instance["name"], sig)
        for part in ("etc", "data", "log", "run"):
            shutil.rmtree(self.path(part), ignore_errors=True)

    def destroy(self):
        self.wipe(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def site(self, *args, timing_file=None):
        return ansible_playbook("site.yml", self.inventory, *args, timing_file=timing_file)

    def floor(self):
        return ansible_playbook(os.path.join(HERE, "playbooks", "ping.yml"), self.inventory)[0]


class LinkWatcher(threading.Thread):
    """The bare loop: poll INFO replication of a port every 10 ms until master_link_status is up.

    Records when the link came up (time.time()) and the sync progress seen on the way.
    """

    def __init__(self, bed, port, timeout):
        super().__init__(daemon=True)
        self.bed, self.port, self.timeout = bed, port, timeout
        self.link_up_at = None
        self.samples = []
        self.stop_event = threading.Event()

    def run(self):
        deadline = time.monotonic() + self.timeout
        client = None
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            try:
                client = client or self.bed.client(self.port, socket_connect_timeout=1)
                info = client.info("replication")
            except (redis.RedisError, OSError):
                client = None
                time.sleep(0.01)
                continue
            now = time.time()
            if info.get("master_sync_in_progress"):
                self.samples.append({"time": now, "read": info.get("master_sync_read_bytes"),
                                     "total": info.get("master_sync_total_bytes")})
            if info.get("master_link_status") == "up":
                self.link_up_at = now
                return
            time.sleep(0.01)


PROGRESS_TEXT = re.compile(r"\d+(?:\.\d+)?%|\d+ bytes")


def measure_replica_start(bed, replica, master_port, mode, timeout=600):
    """Start the stopped replica (through replica_start.yml or site.yml) beside the bare loop.

    Returns, in seconds from the replica's process start, when the bare loop saw the link up
    (bare) and when the check's passing result reached the controller (check), their difference
    (overhead), and what the check reported about the sync's progress while it waited.
    """
    timing_file = os.path.join(bed.dir, "timing-%d.jsonl" % time.monotonic_ns())
    watcher = LinkWatcher(bed, replica["port"], timeout)
    watcher.start()
    if mode == "module":
        seconds, stdout = ansible_playbook(
            os.path.join(HERE, "playbooks", "replica_start.yml"), bed.inventory, "-e", json.dumps(
                {"bench_replica": replica, "bench_master_port": master_port, "bench_timeout": timeout}),
            timing_file=timing_file)
        check_task = "Wait until the replica's link to its master is up"
    else:
        seconds, stdout = bed.site(timing_file=timing_file)
        check_task = "Check the replication state of the instances"
    watcher.join(timeout)
    events = read_timing(timing_file)
    passed = [event for event in events if event["task"].endswith(check_task)
              and event["event"] in ("ok", "item_ok") and event.get("item") in (None, replica["name"])]
    if not passed or watcher.link_up_at is None:
        raise RuntimeError("no passing check or no link up seen (%s): %s" % (mode, events[-5:]))
    started = process_start_time(bed.pid(replica["name"]))
    # Progress while waiting: what the module returns (a "progress" list) or prints (retries).
    printed = [line.strip() for line in stdout.splitlines() if "RETRYING" in line or "progress" in line.lower()]
    result = {
        "bare": watcher.link_up_at - started,
        "check": passed[-1]["time"] - started,
        "module_elapsed": passed[-1].get("elapsed"),
        "progress": passed[-1].get("progress"),
        "progress_printed": [line for line in printed if PROGRESS_TEXT.search(line)][:20],
        "playbook": seconds,
        "bare_progress_samples": len(watcher.samples),
        "bare_progress_first": watcher.samples[0] if watcher.samples else None,
        "bare_progress_last": watcher.samples[-1] if watcher.samples else None,
    }
    result["overhead"] = result["check"] - result["bare"]
    return result


def converge_and_rerun(bed, rep, hosts=1):
    """One repetition on bed (a LocalBed or FleetBed of hosts hosts): the floor, a converge from
    nothing, then the idempotent run, which must change nothing. Returns the three times and the
    idempotent run's counts (run_counts)."""
    floor = bed.floor()
    bed.wipe()
    converge = bed.site()[0]
    timing_file = bed.path("timing-idempotent-%d.jsonl" % rep)
    seconds, stdout = bed.site(timing_file=timing_file)
    if changed_count(stdout):
        raise RuntimeError("the second run of site.yml over %d host(s) changed %d thing(s):\n%s"
                           % (hosts, changed_count(stdout), stdout))
    return floor, converge, seconds, run_counts(read_timing(timing_file), hosts)


# --------------------------------------------------------------------------------------------
# Sections


def section_bed(results, floors):
    """Converge from nothing (packages installed) and the idempotent run of a master + replica bed."""
    bed = LocalBed(2, names=["master", "replica"])
    converge, idempotent, counts = [], [], None
    try:
        for rep in range(REPS):
            floor, converge_seconds, idempotent_seconds, counts = converge_and_rerun(bed, rep)
            floors.append(floor)
            converge.append(converge_seconds)
            idempotent.append(idempotent_seconds)
            log("bed rep %d: floor %.2fs converge %.2fs idempotent %.2fs"
                % (rep + 1, floors[-1], converge[-1], idempotent[-1]))
    finally:
        bed.destroy()
    results["bed"] = {"converge": summary(converge), "idempotent": summary(idempotent), "idempotent_counts": counts}


def section_verify(results, floors):
    """From the replica's start to verified replication, against the bare loop."""
    bed = LocalBed(2, names=["master", "replica"])
    replica = bed.instances[1]
    out = {"module": [], "site": []}
    try:
        bed.site()
        floors.append(bed.floor())
        for rep in range(REPS):
            for mode in ("module", "site"):
                bed.stop(replica["name"])
                shutil.rmtree(bed.path("data", replica["name"]), ignore_errors=True)
                if mode == "module":
                    os.makedirs(bed.path("data", replica["name"]))
                    shutil.chown(bed.path("data", replica["name"]), "redis", "redis")
                measured = measure_replica_start(bed, replica, bed.ports[0], mode, timeout=120)
                out[mode].append(measured)
                log("verify rep %d (%s): link up %.2fs after the start, check passed at %.2fs (%+.2fs)"
                    % (rep + 1, mode, measured["bare"], measured["check"], measured["overhead"]))
    finally:
        bed.destroy()
    results["verify"] = {mode: {key: summary([m[key] for m in runs]) for key in ("bare", "check", "overhead")}
                         for mode, runs in out.items()}


def section_scale(results, floors):
    """Converge and idempotent run with each count of instances on localhost."""
    rows = []
    for count in SCALE:
        bed = LocalBed(count)
        converge, idempotent = [], []
        try:
            floors.append(bed.floor())
            for rep in range(SCALE_REPS):
                bed.wipe()
                converge.append(bed.site()[0])
                seconds, stdout = bed.site()
                if changed_count(stdout):
                    raise RuntimeError("idempotent run with %d instances changed %d thing(s)"
                                       % (count, changed_count(stdout)))
                idempotent.append(seconds)
                log("scale %d instances rep %d: converge %.2fs idempotent %.2fs"
                    % (count, rep + 1, converge[-1], idempotent[-1]))
        finally:
            bed.destroy()
        rows.append({"instances": count, "converge": summary(converge), "idempotent": summary(idempotent)})
    results["scale"] = {"rows": rows, "slope": {
        kind: slope([(row["instances"], row[kind]["median"]) for row in rows]) for kind in ("converge", "idempotent")}}


def slope(points):
    """Least-squares slope (seconds per instance) of (count, seconds) points."""
    if len(points) < 2:
        return None
    xs = [point[0] for point in points]
    ys = [point[1] for point in points]
    mean_x, mean_y = statistics.mean(xs), statistics.mean(ys)
    num = sum((x - mean_x) * (y - mean_y) for x, y in zip(xs, ys))
    den = sum((x - mean_x) ** 2 for x in xs)
    return round(num / den, 4) if den else None


def fill(client, gigabytes):
    """Write gigabytes GiB of incompressible 1 MiB values; returns (keys, seconds)."""
    value = os.urandom(1 << 20)  # each value is compressed on its own: random bytes stay 1 MiB
    keys = int(gigabytes * 1024)
    start = time.monotonic()
    pipe = client.pipeline(transaction=False)
    for n in range(keys):
        pipe.set("bench:fill:%06d" % n, value)
        if n % 32 == 31:
            pipe.execute()
    pipe.execute()
    return keys, time.monotonic() - start


def section_fullsync(results, floors):
    """A replica joining a master that holds SYNC_GB GiB: replication_check against the bare loop."""
    bed = LocalBed(2, names=["master", "replica"])
    master, replica = bed.instances
    runs = []
    try:
        bed.site()
        bed.stop(replica["name"])
        keys, seconds = fill(bed.client(master["port"]), SYNC_GB)
        used = bed.client(master["port"]).info("memory")["used_memory"]
        log("fullsync: wrote %d keys (%.2f GiB used) in %.1fs" % (keys, used / 2.0 ** 30, seconds))
        for rep in range(SYNC_REPS):
            bed.stop(replica["name"])
            shutil.rmtree(bed.path("data", replica["name"]), ignore_errors=True)
            os.makedirs(bed.path("data", replica["name"]))
            shutil.chown(bed.path("data", replica["name"]), "redis", "redis")
            measured = measure_replica_start(bed, replica, master["port"], "module", timeout=1800)
            runs.append(measured)
            log("fullsync rep %d: link up %.2fs after the start, check passed at %.2fs (%+.2fs), progress: %s"
                % (rep + 1, measured["bare"], measured["check"], measured["overhead"],
                   "reported" if measured["progress"] or measured["progress_printed"] else "none reported"))
    finally:
        bed.destroy()
    last = runs[-1]
    results["fullsync"] = {
        "gigabytes": SYNC_GB, "keys": keys, "used_memory": used,
        "bare": summary([r["bare"] for r in runs]), "check": summary([r["check"] for r in runs]),
        "overhead": summary([r["overhead"] for r in runs]),
        "overhead_ratio": round(statistics.median(r["overhead"] / r["bare"] for r in runs), 4),
        "progress_reported": bool(last["progress"] or last["progress_printed"]),
        "progress": last["progress"], "progress_printed": last["progress_printed"],
        "bare_progress_samples": last["bare_progress_samples"],
        "bare_progress_first": last["bare_progress_first"], "bare_progress_last": last["bare_progress_last"],
    }


def section_hosts(results, floors):
    """site.yml across containers: bench/hosts.py, which skips when Docker or the image is missing."""
    from hosts import hosts_section  # pylint: disable=import-outside-toplevel

    workdir = tempfile.mkdtemp(prefix="redisops-bench-hosts-")
    try:
        results["hosts"] = hosts_section(HOSTS, HOSTS_REPS, log, ansible_playbook, summary, changed_count,
                                         workdir, BIN)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


# Actions that run on the controller only: no module execution on the host.
CONTROLLER_ACTIONS = {"set_fact", "assert", "debug", "fail", "meta", "include_tasks", "import_tasks", "include_vars",
                      "include_role", "import_role", "add_host", "group_by", "set_stats", "pause",
                      "validate_argument_spec", "import_playbook", "end_play", "end_host", "end_batch"}


def run_counts(events, hosts=1):
    """Tasks and module executions of a run, from the timing callback's events.

    tasks: task starts (a task counts once, however many hosts run it); per_host: tasks that ran
    (not skipped) on the average host; modules: results of actions that execute a module on the
    host (one per host, or one per loop item), not skipped; per host: divided by the host count.
    Action plugins that run several modules (template: stat + copy) count once here; the profile
    section counts executions exactly, from -vvv.
    """
    ran = [event for event in events if event["event"] in ("ok", "failed", "item_ok", "item_failed")]
    modules = [event for event in ran if event.get("action", "").rsplit(".", 1)[-1] not in CONTROLLER_ACTIONS
               and not event.get("loop")]
    not_items = [event for event in ran if not event["event"].startswith("item")]
    return {"tasks": sum(1 for event in events if event["event"] == "task"),
            "tasks_run_per_host": round(len(not_items) / float(hosts), 2),
            "modules": len(modules), "modules_per_host": round(len(modules) / float(hosts), 2)}


class FleetBed:
    """One machine standing in for a fleet: count inventory hosts h01..hNN, all ansible_connection
    local, each with one instance (named main) on its own port and its own directories; h01 the
    master, every other host its replica.
    """

    def __init__(self, count):
        self.dir = tempfile.mkdtemp(prefix="redisops-bench-fleet-")
        os.chmod(self.dir, 0o755)
        self.count = count
        self.hosts = ["h%02d" % (n + 1) for n in range(count)]
        ports = free_ports(count)
        inventory_dir = os.path.join(self.dir, "inventories", "fleet")
        os.makedirs(os.path.join(inventory_dir, "group_vars"))
        shutil.copy(os.path.join(ROOT, "inventories", "local", "group_vars", "redis.yml"),
                    os.path.join(inventory_dir, "group_vars", "redis.yml"))
        # The group_vars take $REDIS_PASSWORD before their password lookup, which N forks would
        # run at once, each waiting for the lookup's lock file (a busy machine exceeds its timeout).
        self.password = secrets.token_hex(16)
        self.inventory = os.path.join(inventory_dir, "hosts.yml")
        hosts = {}
        for host, port in zip(self.hosts, ports):
            os.makedirs(self.path(host), mode=0o755)  # the role creates the directories in it, not it
            instance = {"name": "main", "port": port}
            if host != self.hosts[0]:
                instance["replicaof"] = self.hosts[0]
            hosts[host] = {
                "ansible_connection": "local",
                "ansible_host": "127.0.0.1",
                "ansible_python_interpreter": "{{ ansible_playbook_python }}",
                "redis_server_conf_dir": self.path(host, "etc"),
                "redis_server_data_dir": self.path(host, "data"),
                "redis_server_log_dir": self.path(host, "log"),
                "redis_server_run_dir": self.path(host, "run"),
                "redis_server_instances": [instance],
            }
        with open(self.inventory, "w") as handle:
            yaml.safe_dump({"redis": {"hosts": hosts}}, handle)

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def wipe(self, sig=signal.SIGTERM):
        """Stopped instances, absent configuration, data and logs on every host."""
        for host in self.hosts:
            try:
                with open(self.path(host, "run", "redis-main.pid")) as handle:
                    stop_pid(int(handle.read().strip()), sig=sig)
            except (OSError, ValueError):
                pass
        for host in self.hosts:
            for part in ("etc", "data", "log", "run"):
                shutil.rmtree(self.path(host, part), ignore_errors=True)

    def destroy(self):
        self.wipe(signal.SIGKILL)
        shutil.rmtree(self.dir, ignore_errors=True)

    def run(self, playbook, timing_file=None):
        return ansible_playbook(playbook, self.inventory, "--forks", str(FLEET_FORKS), timing_file=timing_file,
                                extra_env={"REDIS_PASSWORD": self.password})

    def site(self, timing_file=None):
        return self.run("site.yml", timing_file=timing_file)

    def floor(self):
        return self.run(os.path.join(HERE, "playbooks", "ping.yml"))[0]


def section_fleet(results, floors):
    """site.yml over N local hosts (one instance each, forks FLEET_FORKS) against the floor of the same hosts."""
    rows = []
    for count in FLEET:
        bed = FleetBed(count)
        floor, converge, idempotent, counts = [], [], [], None
        try:
            for rep in range(FLEET_REPS):
                floor_seconds, converge_seconds, idempotent_seconds, counts = converge_and_rerun(bed, rep, count)
                floor.append(floor_seconds)
                converge.append(converge_seconds)
                idempotent.append(idempotent_seconds)
                log("fleet %d hosts rep %d: floor %.2fs converge %.2fs (%.1f x) idempotent %.2fs (%.1f x), "
                    "%d tasks, %.1f module executions per host"
                    % (count, rep + 1, floor[-1], converge[-1], converge[-1] / floor[-1], idempotent[-1],
                       idempotent[-1] / floor[-1], counts["tasks"], counts["modules_per_host"]))
        finally:
            bed.destroy()
        row = {"hosts": count, "forks": FLEET_FORKS, "floor": summary(floor), "converge": summary(converge),
               "idempotent": summary(idempotent), "counts": counts}
        row["ratio"] = {kind: ratio(row[kind]["median"], row["floor"]["median"]) for kind in ("converge", "idempotent")}
        rows.append(row)
    results["fleet"] = {"rows": rows}


MODULE_EXEC = re.compile(r"> EXEC /bin/sh -c '\S*python[\d.]*(?: \S*AnsiballZ_\w+\.py)? && sleep 0'")
TASK_LINE = re.compile(r"^(?:TASK|RUNNING HANDLER) \[(.*?)\] \**$", re.M)


def module_executions(stdout):
    """{task name: modules executed} from the -vvv output of a run (local connection)."""
    counts = {}
    task = None
    for line in stdout.splitlines():
        match = TASK_LINE.match(line)
        if match:
            task = match.group(1)
            counts.setdefault(task, 0)
        elif task and MODULE_EXEC.search(line):
            counts[task] += 1
    return counts


def task_profile(timing_file, execs, started):
    """Per task: seconds (to the next task's start), results, items run and skipped, changed, modules run."""
    events = read_timing(timing_file)
    tasks = []
    for event in events:
        if event["event"] == "task":
            tasks.append({"task": event["task"], "start": event["time"], "seconds": 0.0, "results": 0, "items": 0,
                          "skipped": 0, "host_skipped": 0, "changed": 0})
        elif event["event"] == "stats" and tasks:
            tasks[-1]["end"] = event["time"]
        elif tasks:
            task = tasks[-1]
            if event["event"].startswith("item"):
                task["items"] += 1
            else:
                task["results"] += 1
            task["skipped"] += event["event"].endswith("skipped")
            task["host_skipped"] += event["event"] == "skipped"
            task["changed"] += bool(event.get("changed"))
    for index, task in enumerate(tasks):
        end = tasks[index + 1]["start"] if index + 1 < len(tasks) else task.get("end", task["start"])
        task["seconds"] = round(end - task.pop("start"), 3)
        task.pop("end", None)
        task["modules"] = execs.get(task["task"], 0)
        # one execution per task name: a name that comes back (handlers) keeps its count once
        execs[task["task"]] = 0
    first = min((event["time"] for event in events), default=started)
    return {"startup_s": round(first - started, 3), "tasks": tasks,
            "task_seconds": round(sum(task["seconds"] for task in tasks), 3),
            "modules": sum(task["modules"] for task in tasks),
            "skipped_only": [task["task"] for task in tasks if task["results"] and task["host_skipped"] == task["results"]]}


def profiled_run(bed, name):
    timing_file = bed.path("profile-%s.jsonl" % name)
    started = time.time()
    seconds, stdout = bed.site("-vvv", timing_file=timing_file)
    profile = task_profile(timing_file, module_executions(stdout), started)
    profile["seconds"] = round(seconds, 3)
    profile["changed"] = changed_count(stdout)
    return profile


def section_profile(results, floors):
    """Where the time goes: every task of a converge and an idempotent run of the master + replica bed."""
    out = {}
    bed = LocalBed(2, names=["master", "replica"])
    try:
        floors.append(bed.floor())
        bed.wipe()
        out["converge"] = profiled_run(bed, "converge")
        out["idempotent"] = profiled_run(bed, "idempotent")
    finally:
        bed.destroy()
    bed = LocalBed(4)
    try:
        bed.site()
        four = profiled_run(bed, "idempotent-4")
    finally:
        bed.destroy()
    out["modules_per_instance_idempotent"] = (four["modules"] - out["idempotent"]["modules"]) / 2.0
    out["modules_constant_idempotent"] = out["idempotent"]["modules"] - 2 * out["modules_per_instance_idempotent"]
    out["idempotent_4_instances"] = {key: four[key] for key in ("seconds", "modules", "task_seconds", "startup_s")}
    log("profile: idempotent %d module executions (%g per added replica + %g), converge %d"
        % (out["idempotent"]["modules"], out["modules_per_instance_idempotent"], out["modules_constant_idempotent"],
           out["converge"]["modules"]))
    results["profile"] = out


# --------------------------------------------------------------------------------------------
# Report


def ratio(value, floor):
    return round(value / floor, 2) if value is not None and floor else None


def verdict(ok):
    return "ok" if ok else "MISSED"


def build_table(results):
    """Rows (measure, stats, x floor, target, verdict) of the printed table; stats None: a note."""
    floor = results["floor"]["median"]
    rows = [("floor (ping, 1 task, no facts)", results["floor"], 1.0, "", "")]

    def add(name, stats, target=None):
        value = ratio(stats["median"], floor)
        if target is None:
            rows.append((name, stats, value, "", ""))
        else:
            rows.append((name, stats, value, "<= %g x" % target, verdict(value <= target)))

    if "bed" in results:
        add("idempotent site.yml (master + replica)", results["bed"]["idempotent"], TARGETS["idempotent"])
        add("converge site.yml (master + replica)", results["bed"]["converge"], TARGETS["converge"])
        counts = results["bed"].get("idempotent_counts")
        if counts:
            rows.append(("idempotent run: %d tasks (%g ran), %d module executions"
                         % (counts["tasks"], counts["tasks_run_per_host"], counts["modules"]), None, None, "", ""))
    if "verify" in results:
        data = results["verify"]["module"]
        over = data["overhead"]["median"]
        rows.append(("replica start -> link up (bare INFO loop)", data["bare"], None, "", ""))
        rows.append(("replica start -> replication_check passes", data["check"], None,
                     "%+.2fs (<= +%.1fs)" % (over, TARGETS["verify_overhead_s"]),
                     verdict(over <= TARGETS["verify_overhead_s"])))
        data = results["verify"]["site"]
        rows.append(("replica start (by site.yml) -> link up (bare loop)", data["bare"], None, "", ""))
        rows.append(("replica start (by site.yml) -> its verify passes", data["check"], None,
                     "%+.2fs (information)" % data["overhead"]["median"], ""))
    if "scale" in results:
        for row in results["scale"]["rows"]:
            add("converge, %d instance(s) on one host" % row["instances"], row["converge"])
            add("idempotent, %d instance(s) on one host" % row["instances"], row["idempotent"])
        for kind in ("converge", "idempotent"):
            value = results["scale"]["slope"][kind]
            if value is not None:
                per = ratio(value, floor)
                rows.append(("slope per instance (%s), s/instance" % kind, {"median": value}, per,
                             "<= %g x" % TARGETS["slope"], verdict(per <= TARGETS["slope"])))
    if "hosts" in results:
        hosts = results["hosts"]
        if hosts.get("skipped"):
            rows.append(("hosts: SKIPPED - %s" % hosts["skipped"], None, None, "", ""))
        else:
            for row in hosts["rows"]:
                for kind in ("floor", "converge", "idempotent"):
                    rows.append(("%s, %d hosts (containers)" % (kind, row["hosts"]), row[kind],
                                 ratio(row[kind]["median"], row["floor"]["median"]), "x its own floor", ""))
    if "fleet" in results:
        rows.extend(fleet_rows(results["fleet"]))
    if "fullsync" in results:
        sync = results["fullsync"]
        rows.append(("full sync %.3g GiB: start -> link up (bare loop)" % sync["gigabytes"], sync["bare"], None, "", ""))
        rows.append(("full sync: start -> replication_check passes", sync["check"], None,
                     "%+.1f%% (<= %d%%)" % (100 * sync["overhead_ratio"], 100 * TARGETS["fullsync_overhead"]),
                     verdict(sync["overhead_ratio"] <= TARGETS["fullsync_overhead"])))
        rows.append(("full sync: progress (bytes, %%) while waiting: %s"
                     % ("reported" if sync["progress_reported"] else "NOT reported"), None, None, "", ""))
    if "profile" in results:
        prof = results["profile"]
        rows.append(("module executions (round trips): idempotent %d = %g + %g per added replica; converge %d"
                     % (prof["idempotent"]["modules"], prof["modules_constant_idempotent"],
                        prof["modules_per_instance_idempotent"], prof["converge"]["modules"]), None, None, "", ""))
    return rows


def fleet_rows(fleet):
    """The fleet section's rows: each kind as a ratio to the floor of the same hosts."""
    rows = []
    for row in fleet["rows"]:
        count = row["hosts"]
        rows.append(("fleet floor, %d local hosts (forks %d)" % (count, row["forks"]), row["floor"], 1.0, "", ""))
        rows.append(("fleet converge, %d hosts" % count, row["converge"], row["ratio"]["converge"], "x its floor", ""))
        target = "<= %g x" % TARGETS["fleet_idempotent"]
        mark = verdict(row["ratio"]["idempotent"] <= TARGETS["fleet_idempotent"]) if count >= 60 else ""
        rows.append(("fleet idempotent, %d hosts" % count, row["idempotent"], row["ratio"]["idempotent"],
                     target if count >= 60 else "x its floor", mark))
        if row.get("counts"):
            rows.append(("  idempotent over %d hosts: %d tasks, %g ran and %g module executions per host"
                         % (count, row["counts"]["tasks"], row["counts"]["tasks_run_per_host"],
                            row["counts"]["modules_per_host"]), None, None, "", ""))
    if len(fleet["rows"]) > 1:
        first, last = fleet["rows"][0], fleet["rows"][-1]
        grows = last["ratio"]["idempotent"] - first["ratio"]["idempotent"]
        rows.append(("fleet idempotent ratio from %d to %d hosts: %+.2f x (must not grow, 5%% noise): %s"
                     % (first["hosts"], last["hosts"], grows, verdict(grows <= 0.05 * first["ratio"]["idempotent"])),
                     None, None, "", ""))
    return rows


def format_table(rows):
    lines = ["%-52s %9s %13s %8s %22s %7s" % ("measure", "median s", "min-max s", "x floor", "target", "")]
    lines.append("-" * len(lines[0]))
    for name, stats, value, target, mark in rows:
        if stats is None:
            lines.append(name)
            continue
        span = ("%.2f-%.2f" % (stats["min"], stats["max"])) if stats.get("min") is not None else ""
        lines.append("%-52s %9.3f %13s %8s %22s %7s"
                     % (name, stats["median"], span, "" if value is None else "%.2f" % value, target, mark))
    return "\n".join(lines)


def format_profile(profile, top=12):
    """The costliest tasks of the profiled converge and idempotent runs."""
    lines = []
    for name in ("idempotent", "converge"):
        run = profile[name]
        lines.append("profile, %s run of the master + replica bed: %.2fs wall, %.2fs in tasks, %.2fs before the "
                     "first task, %d module executions, %d changed" % (name, run["seconds"], run["task_seconds"],
                                                                       run["startup_s"], run["modules"], run["changed"]))
        lines.append("  %7s %5s %7s %5s %7s  %s" % ("seconds", "%", "modules", "items", "skipped", "task"))
        for task in sorted(run["tasks"], key=lambda t: -t["seconds"])[:top]:
            share = 100 * task["seconds"] / run["task_seconds"]
            label = task["task"].split(" : ", 1)[-1]
            lines.append("  %7.2f %4.0f%% %7d %5d %7d  %s"
                         % (task["seconds"], share, task["modules"], task["items"], task["skipped"], label))
        if run["skipped_only"]:
            lines.append("  %d task(s) ran only to be skipped" % len(run["skipped_only"]))
    return "\n".join(lines)


def plot(results, path):
    try:
        import matplotlib
    except ImportError:  # requirements-bench.txt not installed (bench/run.py run without make bench)
        log("no plot: matplotlib is not installed (make bench installs requirements-bench.txt)")
        return None
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [key for key in ("scale", "hosts") if key in results and not results[key].get("skipped")]
    if not panels:
        return None
    fig, axes = plt.subplots(1, len(panels), figsize=(6.5 * len(panels), 4.5), squeeze=False)
    floor = results["floor"]["median"]
    for axis, key in zip(axes[0], panels):
        rows = results[key]["rows"]
        xkey = "instances" if key == "scale" else "hosts"
        xs = [row[xkey] for row in rows]
        ref = floor if key == "scale" else results[key]["floor"]["median"]
        for kind, marker in (("converge", "o"), ("idempotent", "s")):
            med = [row[kind]["median"] for row in rows]
            err = [[m - row[kind]["min"] for m, row in zip(med, rows)], [row[kind]["max"] - m for m, row in zip(med, rows)]]
            axis.errorbar(xs, med, yerr=err, marker=marker, capsize=3, label="%s (median, min-max)" % kind)
        axis.axhline(ref, color="grey", linestyle=":", label="Ansible floor %.2fs" % ref)
        if key == "scale":
            first = rows[0]["idempotent"]["median"]
            axis.plot(xs, [first + TARGETS["slope"] * floor * (x - xs[0]) for x in xs], color="grey", linestyle="--",
                      label="target slope %.2f x floor / instance" % TARGETS["slope"])
            axis.set_title("site.yml, instances on one host (local)")
            axis.set_xlabel("instances on localhost")
        else:
            axis.set_title("site.yml, one instance per container host")
            axis.set_xlabel("hosts (containers)")
        axis.set_ylabel("seconds")
        axis.grid(True, alpha=0.3)
        axis.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path


def measure_floor(floors):
    """REPS floors on a master + replica inventory (the bed section adds one before each of its runs)."""
    bed = LocalBed(2, names=["master", "replica"])
    try:
        for rep in range(REPS):
            floors.append(bed.floor())
            log("floor %d: %.2fs" % (rep + 1, floors[-1]))
    finally:
        bed.destroy()


def interrupted(signum, frame):
    raise KeyboardInterrupt("signal %d" % signum)


def parse_args(argv):
    """--quick: one repetition of bed, profile and fleet (a few minutes); --only SECTIONS like BENCH_ONLY."""
    global REPS, ONLY  # pylint: disable=global-statement
    args = list(argv)
    if "--help" in args or "-h" in args:
        print(__doc__)
        sys.exit(0)
    if "--quick" in args:
        args.remove("--quick")
        REPS, ONLY = 1, ["bed", "profile", "fleet"]
    if "--only" in args:
        index = args.index("--only")
        ONLY = [part for part in args[index + 1].split(",") if part]
        del args[index:index + 2]
    if args:
        sys.exit("bench/run.py: unknown arguments %s (see --help)" % " ".join(args))


def main():
    parse_args(sys.argv[1:])
    if os.geteuid() != 0:
        sys.exit("bench/run.py starts instances as the redis user: run it as root")
    # SIGTERM (and SIGINT, also when a shell started the run in the background) unwinds through
    # the sections' cleanups: no instance or temporary bed is left behind.
    signal.signal(signal.SIGTERM, interrupted)
    signal.signal(signal.SIGINT, interrupted)
    os.makedirs(RESULTS, exist_ok=True)
    stamp = datetime.datetime.now().strftime("%Y%m%d-%H%M%S")
    results = {"started": stamp, "sections": ONLY, "machine": {
        "cpus": os.cpu_count(), "python": platform.python_version(),
        "redis": subprocess.run(["redis-server", "--version"], capture_output=True, text=True, check=False).stdout.strip(),
        "ansible_core": subprocess.run([os.path.join(BIN, "ansible"), "--version"], capture_output=True, text=True,
                                       check=False).stdout.splitlines()[0],
        "loadavg_start": os.getloadavg()},
        "repetitions": {"reps": REPS, "scale_reps": SCALE_REPS, "hosts_reps": HOSTS_REPS, "sync_reps": SYNC_REPS,
                        "fleet_reps": FLEET_REPS}}
    floors = []
    started = time.monotonic()
    measure_floor(floors)  # every ratio needs the floor of this run, whatever the sections
    json_path = os.path.join(RESULTS, "bench-%s.json" % stamp)
    for name, section in (("bed", section_bed), ("profile", section_profile), ("verify", section_verify),
                          ("fullsync", section_fullsync), ("scale", section_scale), ("hosts", section_hosts),
                          ("fleet", section_fleet)):
        if name in ONLY:
            log("section %s" % name)
            try:
                section(results, floors)
            except (RuntimeError, OSError, subprocess.SubprocessError, redis.RedisError) as exc:
                # One broken section must not lose the others: record why, go on.
                log("section %s FAILED: %s" % (name, exc))
                results.setdefault("failed", {})[name] = str(exc)[-4000:]
            with open(json_path, "w") as handle:  # what is measured so far survives an interrupted run
                json.dump(dict(results, floor=summary(floors), partial=True), handle, indent=2)
    results["floor"] = summary(floors)
    results["machine"]["loadavg_end"] = os.getloadavg()
    results["duration_s"] = round(time.monotonic() - started, 1)
    rows = build_table(results)
    for name, error in results.get("failed", {}).items():
        rows.append(("%s: FAILED - %s" % (name, error.strip().splitlines()[0][:200]), None, None, "", ""))
    results["table"] = [{"measure": name, "stats": stats, "x_floor": value, "target": target, "verdict": mark}
                        for name, stats, value, target, mark in rows]
    with open(json_path, "w") as handle:
        json.dump(results, handle, indent=2)
    png_path = plot(results, os.path.join(RESULTS, "bench-%s.png" % stamp))
    shutil.copy(json_path, os.path.join(RESULTS, "latest.json"))
    if png_path:
        shutil.copy(png_path, os.path.join(RESULTS, "latest.png"))
    print()
    print(format_table(rows))
    print()
    if "profile" in results:
        print(format_profile(results["profile"]))
        print()
    print("results: %s%s (%.0fs)" % (json_path, ", plot: %s" % png_path if png_path else "", results["duration_s"]))


if __name__ == "__main__":
    main()
