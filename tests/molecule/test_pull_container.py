"""Pull mode (examples/gitops/pull) on a host under systemd, started by the example's own units
(issue 11): ansible-pull from a local bare git repository, in a container of the molecule image
redisops/molecule-systemd:bookworm (systemd is PID 1, molecule/images/build.sh).

The host is set up as the README's "Pull mode" section tells users: git installed (apt), the
repository cloned, the wrapper, the vault password script, the units and /etc/default/redis-pull
installed with its `install` commands, the settings edited (the repository, the inventory, the
vault password, where ansible is), `systemctl daemon-reload && systemctl enable --now
redis-pull.timer`. The repository is a copy of this checkout (the files git tracks, as they are on
disk) with an inventory of the container itself committed in it (inventories/pull: localhost,
`ansible_connection: local`, ports 7101 to 7103, the Redis password in an Ansible Vault file),
bind-mounted read-only; commits are pushed to it from the controller. Ansible is this checkout's
own virtualenv, mounted read-only at its own path (with the Python it was made from, unless that
is the image's /usr): no internet in the container but Debian's mirror, for git and redis-server.

The tests share the container and run in order, each starting the service as the timer does
(`systemctl start redis-pull.service`): the timer is enabled with the example's schedule (then
stopped, so that it adds no run of its own on a slow machine); the first pull converges and
verifies (INFO replication in the container); the README's ansible-pull command then changes
nothing; a pull with no new commit does not run the playbook, and one started while a run by hand
holds the lock exits 75 (success for systemd); a pushed commit adding a replica is applied by the
next start and verified, while a second `systemctl start` joins that run and a run by hand is
refused: one run, proved by the invocation id, the journal and the timestamps. Neither password appears in the host's journal.

Needs Docker and debootstrap (skipped without them, failed under CI=true, like the molecule
scenarios) and the Debian mirror. About 2 minutes once the image exists (4 on a busy machine).
"""

from __future__ import annotations

import json
import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid

import pytest
import yaml

from harness import ROOT, ansible_env, copy_tracked_files, wait_until

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from test_scenarios import docker_engine  # noqa: E402,F401  pylint: disable=wrong-import-position,unused-import

IMAGE = "redisops/molecule-systemd:bookworm"
PULL = os.path.join(ROOT, "examples", "gitops", "pull")
# In the container: the bare repository (bind-mounted), the clone the units are installed from.
REMOTE = "/srv/git/redis-inventory.git"
CLONE = "/root/redis-inventory"
INVENTORY = "inventories/pull/hosts.yml"
STATE = "/var/lib/redis-pull"
PORTS = {"master": 7101, "replica": 7102, "replica2": 7103}
REDIS_PASSWORD = "pull-" + secrets.token_hex(12)
VAULT_PASSWORD = "vault-" + secrets.token_hex(12)
HAND_RUN = ("set -a; . /etc/default/redis-pull; set +a; date +%s.%N; "
            "/usr/local/sbin/redis-pull --vault-password-file /usr/local/sbin/vault-password.sh; "
            "code=$?; date +%s.%N; exit $code")
RECAP = re.compile(r"^localhost\s*:\s*ok=(\d+)\s+changed=(\d+)\s+unreachable=(\d+)\s+failed=(\d+)", re.M)


def run(cmd, timeout=120, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, **kwargs)


def git(*args, cwd):
    proc = run(["git", "-c", "user.name=t", "-c", "user.email=t@example.com", *args], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def python_mounts():
    """The virtualenv of this test run and the Python it was made from, at their own paths (the
    scripts' shebangs name them); the image's own Python when the virtualenv was made from /usr."""
    venv = os.path.realpath(sys.prefix)
    mounts = [venv]
    base = os.path.realpath(sys.base_prefix)
    if base != venv and not (base + os.sep).startswith("/usr/"):
        mounts.append(base)
    return mounts


class Host:
    """The container, the repository it pulls from and the clone commits are pushed from."""

    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="redisops-pullc-")
        self.name = "redisops-pullc-" + uuid.uuid4().hex[:8]
        self.work = os.path.join(self.dir, "work")
        self.bare = os.path.join(self.dir, "remote.git")
        self.bin = os.path.join(os.path.realpath(sys.prefix), "bin")
        self.started = False

    # -- the repository
    def make_repository(self):
        copy_tracked_files(self.work)
        group_vars = os.path.join(self.work, "inventories", "pull", "group_vars", "redis")
        os.makedirs(group_vars)
        with open(os.path.join(group_vars, "main.yml"), "w") as handle:
            handle.write("---\nredis_server_password: \"{{ vault_redis_server_password }}\"\n"
                         "redis_server_verify_timeout: 20\n")
        vault = os.path.join(group_vars, "vault.yml")
        with open(vault, "w") as handle:
            handle.write("vault_redis_server_password: %s\n" % REDIS_PASSWORD)
        proc = run([os.path.join(self.bin, "ansible-vault"), "encrypt", "--vault-password-file",
                    os.path.join(ROOT, "examples", "gitops", "vault-password.sh"), vault],
                   env=ansible_env(ANSIBLE_VAULT_PASSWORD=VAULT_PASSWORD))
        assert proc.returncode == 0, proc.stderr
        self.write_inventory(["master", "replica"])
        git("init", "-q", "-b", "main", cwd=self.work)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", "the pull host", cwd=self.work)
        git("init", "-q", "--bare", "-b", "main", self.bare, cwd=self.dir)
        git("push", "-q", self.bare, "main", cwd=self.work)

    def write_inventory(self, names):
        instances = [{"name": "master", "port": PORTS["master"]}]
        instances += [{"name": name, "port": PORTS[name], "replicaof": "localhost:master"} for name in names[1:]]
        with open(os.path.join(self.work, INVENTORY), "w") as handle:
            yaml.safe_dump({"redis": {"hosts": {"localhost": {"ansible_connection": "local",
                                                              "redis_server_instances": instances}}}},
                           handle, sort_keys=False)

    def push(self, names, message):
        self.write_inventory(names)
        git("commit", "-q", "-am", message, cwd=self.work)
        git("push", "-q", self.bare, "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    # -- the container
    def start(self):
        proc = run([os.path.join(ROOT, "molecule", "images", "build.sh"), "bookworm"], timeout=900)
        assert proc.returncode == 0, "molecule/images/build.sh bookworm failed:\n%s" % proc.stderr[-3000:]
        # The image by its id: a rebuild of the tag meanwhile (another checkout's recipe) cannot swap it.
        image = run(["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE]).stdout.strip()
        assert image, "no image %s after build.sh" % IMAGE
        mounts = ["-v", "%s:%s:ro" % (self.bare, REMOTE)]
        for path in python_mounts():
            mounts += ["-v", "%s:%s:ro" % (path, path)]
        proc = run(["docker", "run", "-d", "--name", self.name, "--hostname", "redis-pull-host",
                    "--label", "org.redisops.test=pull_container",
                    "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE", "--cgroupns=host",
                    "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
                    *mounts, "--stop-signal", "SIGRTMIN+3", image, "/lib/systemd/systemd"])
        assert proc.returncode == 0, proc.stderr
        self.started = True
        wait_until(lambda: self.sh("systemctl is-system-running").stdout.strip() in ("running", "degraded"),
                   timeout=60, interval=0.2, what="systemd in %s" % self.name)

    def stop(self):
        if self.started:
            run(["docker", "rm", "-f", self.name], timeout=120)
        shutil.rmtree(self.dir, ignore_errors=True)

    def sh(self, script, timeout=120, env=None):
        """A shell command in the container; env is passed by name, not on the command line."""
        names = []
        for key in env or {}:
            names += ["-e", key]
        return run(["docker", "exec", *names, self.name, "sh", "-c", script], timeout=timeout,
                   env=dict(os.environ, **(env or {})))

    def check(self, script, timeout=120, env=None):
        proc = self.sh(script, timeout=timeout, env=env)
        assert proc.returncode == 0, "%s in %s: rc=%d\n%s\n%s" % (
            script, self.name, proc.returncode, proc.stdout[-5000:], proc.stderr[-5000:])
        return proc.stdout

    def popen(self, script):
        return subprocess.Popen(["docker", "exec", self.name, "sh", "-c", script], text=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT)

    def install(self):
        """What the README's Pull mode section tells users to do on a host."""
        self.check("apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "
                   "--no-install-recommends git >/dev/null", timeout=300)
        self.check("git clone -q %s %s" % (REMOTE, CLONE))
        commands = readme_install_commands()
        self.check("cd %s && %s" % (CLONE, " && ".join(commands)))
        # "then edit it": the repository, the inventory, the vault password, where ansible is.
        settings = {"REDIS_PULL_URL": REMOTE, "REDIS_PULL_INVENTORY": INVENTORY,
                    "ANSIBLE_VAULT_PASSWORD": VAULT_PASSWORD,
                    "ANSIBLE_PULL": os.path.join(self.bin, "ansible-pull"),
                    "ANSIBLE_PLAYBOOK": os.path.join(self.bin, "ansible-playbook")}
        edits = " ".join("-e 's|^#* *%s=.*|%s=%s|'" % (key, key, value) for key, value in settings.items())
        self.check("sed -i %s /etc/default/redis-pull" % edits)
        written = self.check("cat /etc/default/redis-pull")
        for key, value in settings.items():
            assert "\n%s=%s\n" % (key, value) in "\n" + written, "%s is not a setting of redis-pull.env" % key
        assert self.check("stat -c %a /etc/default/redis-pull").strip() == "600"

    # -- what the tests read
    def service(self, *properties):
        out = self.check("systemctl show --timestamp=unix redis-pull.service %s"
                         % " ".join("-p " + name for name in properties))
        return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)

    def journal(self, cursor=None):
        """The service's journal lines (unix timestamps), after a cursor: its output (by its syslog
        identifier, which a run that exits at once keeps, unlike its unit and invocation fields),
        what systemd says of it, and the modules it runs."""
        after = " --after-cursor='%s'" % cursor if cursor else ""
        return self.check("journalctl --no-pager -o short-unix%s SYSLOG_IDENTIFIER=redis-pull + "
                          "UNIT=redis-pull.service + _SYSTEMD_UNIT=redis-pull.service" % after)

    def cursor(self):
        out = self.check("journalctl --no-pager -n 0 --show-cursor")
        return out.split("-- cursor:", 1)[1].strip()

    def wait_journal(self, cursor, text, timeout=30):
        """The journal after cursor once it holds text (journald may write a line after the start returned)."""
        found = []

        def holds():
            found[:] = [self.journal(cursor)]
            return text in found[0]
        try:
            wait_until(holds, timeout=timeout, interval=0.2, what="%r in the journal of redis-pull.service" % text)
        except AssertionError as exc:
            raise AssertionError("%s:\n%s" % (exc, found[0][-8000:])) from None
        return found[0]

    def start_service(self):
        """systemctl start redis-pull.service, as the timer starts it; (rc, the journal cursor before)."""
        cursor = self.cursor()
        proc = self.sh("systemctl start redis-pull.service", timeout=900)
        return proc.returncode, cursor

    def pulling(self, parent=None):
        """Whether an ansible-pull runs (a child of parent): redis-pull starts it once it holds the
        lock. (Its output cannot tell: ansible-pull's stdout is a pipe, written in blocks.)"""
        parents = ["-P", str(parent)] if parent else []
        return run(["docker", "exec", self.name, "pgrep", *parents, "-f", "bin/ansible-pull "]).returncode == 0

    def replication(self, port):
        out = self.check("redis-cli -p %d INFO replication" % port, env={"REDISCLI_AUTH": REDIS_PASSWORD})
        return dict(line.strip().split(":", 1) for line in out.splitlines() if ":" in line)

    def replicating(self, port):
        info = self.replication(port)
        return (info.get("role") == "slave" and info.get("master_port") == str(PORTS["master"])
                and info.get("master_link_status") == "up")

    def report(self):
        return json.loads(self.check("cat %s/report/redis-verify.json" % STATE))


def readme_install_commands():
    """The commands of the README's Pull mode section that install the wrapper and the units."""
    with open(os.path.join(ROOT, "README.md")) as handle:
        text = handle.read()
    section = text.split("### Pull mode", 1)[1].split("\n### ", 1)[0]
    blocks = re.findall(r"```sh\n(.*?)```", section, re.S)
    [block] = [block for block in blocks if "systemctl" in block]
    commands = [line.split("#", 1)[0].strip() for line in block.splitlines() if line.strip()]
    assert commands[-1] == "systemctl daemon-reload && systemctl enable --now redis-pull.timer", commands
    return commands


def unix_time(value):
    assert value.startswith("@"), value
    return float(value[1:])


def recap(output):
    found = RECAP.findall(output)
    assert found, "no play recap:\n%s" % output[-5000:]
    return tuple(int(n) for n in found[-1])


@pytest.fixture(scope="module")
def host(docker_engine):  # pylint: disable=redefined-outer-name,unused-argument
    host = Host()
    try:
        host.make_repository()
        host.start()
        host.install()
        yield host
        whole = host.check("journalctl --no-pager")
        leaks = [line for line in whole.splitlines() if REDIS_PASSWORD in line or VAULT_PASSWORD in line]
        assert not leaks, "a password in the journal of the host:\n%s" % "\n".join(
            line.replace(REDIS_PASSWORD, "<redis password>").replace(VAULT_PASSWORD, "<vault password>") for line in leaks)
    finally:
        host.stop()


def test_the_timer_is_enabled_with_the_example_schedule(host):
    assert host.check("systemctl is-enabled redis-pull.timer").strip() == "enabled"
    assert host.check("systemctl is-active redis-pull.timer").strip() == "active"
    listed = host.check("systemctl list-timers --all --no-pager redis-pull.timer")
    assert re.search(r"redis-pull\.timer\s+redis-pull\.service", listed), listed
    with open(os.path.join(PULL, "redis-pull.timer")) as handle:
        schedule = dict(line.split("=", 1) for line in handle.read().splitlines() if "Sec=" in line)
    shown = host.check("systemctl show redis-pull.timer -p TimersMonotonic -p RandomizedDelayUSec -p Persistent "
                       "-p Triggers")
    for key in ("OnBootSec", "OnUnitInactiveSec"):
        assert "%s=%s" % (key.replace("Sec", "USec"), schedule[key]) in shown, shown
    assert "RandomizedDelayUSec=%s" % schedule["RandomizedDelaySec"] in shown and "Persistent=yes" in shown, shown
    assert "Triggers=redis-pull.service" in shown, shown
    # From here on the tests start the service themselves, as the timer does: stopped, the timer
    # cannot add a run of its own (5 to 7 minutes after boot) on a slow machine.
    host.check("systemctl stop redis-pull.timer")


def test_the_first_pull_converges_and_verifies(host):
    head = git("rev-parse", "HEAD", cwd=host.work)
    code, cursor = host.start_service()
    assert code == 0, host.journal(cursor)[-8000:]
    host.wait_journal(cursor, "redis-pull: applied and verified %s" % head)
    wait_until(lambda: host.replicating(PORTS["replica"]), timeout=30, what="the replica replicating")
    assert host.replication(PORTS["master"])["role"] == "master"
    report = host.report()
    assert report["ok"] is True and set(report["hosts"]["localhost"]["instances"]) == {"master", "replica"}
    assert host.check("cat %s/applied" % STATE).strip() == head


def test_the_readme_ansible_pull_command_changes_nothing(host):
    pull = os.path.join(host.bin, "ansible-pull")
    proc = host.sh("%s -U %s -C main -d /root/pull-by-hand -i %s --vault-password-file "
                   "/usr/local/sbin/vault-password.sh site.yml" % (pull, REMOTE, INVENTORY),
                   timeout=900, env={"ANSIBLE_VAULT_PASSWORD": VAULT_PASSWORD})
    assert proc.returncode == 0, proc.stdout[-8000:] + proc.stderr[-3000:]
    assert recap(proc.stdout)[1:] == (0, 0, 0), proc.stdout[-8000:]


def test_a_pull_without_a_new_commit_does_not_run_the_playbook(host):
    code, cursor = host.start_service()
    assert code == 0, host.journal(cursor)[-8000:]
    journal = host.wait_journal(cursor, "is applied already; nothing to do")
    assert "Repository has not changed, quitting" in journal and "PLAY RECAP" not in journal, journal


def test_the_service_started_during_a_run_by_hand_exits_75_as_a_success(host):
    hand = host.popen(HAND_RUN)
    wait_until(lambda: host.pulling() or hand.poll() is not None, timeout=60, interval=0.05,
               what="the run by hand's ansible-pull (the lock taken)")
    assert hand.poll() is None, "the run by hand ended before the service started:\n" + hand.communicate()[0]
    code, cursor = host.start_service()
    host.wait_journal(cursor, "another run holds /run/lock/redis-pull.lock; this one does not start")
    journal = host.wait_journal(cursor, "Finished redis-pull.service")
    rest = hand.communicate(timeout=300)[0]
    assert hand.returncode == 0, rest
    assert code == 0, journal
    assert "Starting Ansible Pull" not in journal, journal
    shown = host.service("ExecMainStatus", "Result")
    assert shown == {"ExecMainStatus": "75", "Result": "success"}, shown


def test_a_pushed_replica_is_applied_by_one_run_while_other_starts_wait_or_are_refused(host):
    head = host.push(["master", "replica", "replica2"], "a second replica")
    before = host.service("InvocationID")["InvocationID"]
    cursor = host.cursor()
    host.check("systemctl start --no-block redis-pull.service")

    def started():
        now = host.service("InvocationID")["InvocationID"]
        return now if now != before else None
    invocation = wait_until(started, timeout=30, interval=0.1, what="a new invocation of redis-pull.service")

    def service_pulling():
        main = host.service("MainPID")["MainPID"]
        return main != "0" and host.pulling(main)
    wait_until(service_pulling, timeout=60, interval=0.1, what="the service's ansible-pull (the lock taken)")
    second = host.popen("systemctl start redis-pull.service")
    hand = host.sh(HAND_RUN, timeout=300)
    assert second.wait(timeout=900) == 0, second.communicate()[0]
    shown = host.service("InvocationID", "ExecMainStartTimestamp", "ExecMainExitTimestamp", "ExecMainStatus", "Result")
    # The second start joined the running one: the same invocation, started once, ended successfully.
    assert shown["InvocationID"] == invocation and shown["ExecMainStatus"] == "0" and shown["Result"] == "success", shown
    since = host.wait_journal(cursor, "redis-pull: applied and verified %s" % head)
    assert since.count("Starting Ansible Pull") == 1, since
    assert since.count("Finished redis-pull.service") == 1, since
    # The run by hand, refused at once, began and ended while the service's run held the lock.
    assert hand.returncode == 75, hand.stdout + hand.stderr
    assert "another run holds" in hand.stderr and "Starting Ansible Pull" not in hand.stdout, hand.stdout + hand.stderr
    began, ended = (float(value) for value in hand.stdout.split())
    assert unix_time(shown["ExecMainStartTimestamp"]) < began <= ended < unix_time(shown["ExecMainExitTimestamp"]), (
        shown, began, ended)
    wait_until(lambda: host.replicating(PORTS["replica2"]), timeout=30, what="replica2 replicating")
    report = host.report()
    assert report["hosts"]["localhost"]["instances"]["replica2"]["ok"] is True, report
    assert host.check("cat %s/applied" % STATE).strip() == head
