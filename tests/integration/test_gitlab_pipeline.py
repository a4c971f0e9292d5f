"""examples/gitops/.gitlab-ci.yml run for real by gitlab-ci-local (npm, shell executor) against
systemd containers reached over SSH, as production is (issue 11, parts 3 and 4).

One bed for the whole file (module-scoped, the tests run in order): two containers of the
molecule image redisops/molecule-systemd:bookworm (molecule/images: sshd with key authentication
only, host keys made at first start) on a docker network of their own; a key pair made here; a
copy of this checkout as the project, with the example pipeline at its root and an inventory
inventories/production of the two containers (redis-1 the master, redis-2 its replica) at their
bridge addresses, the Redis password in an Ansible Vault file. The CI/CD variables are what a
user sets in GitLab: ANSIBLE_VAULT_PASSWORD, SSH_PRIVATE_KEY (type File) and SSH_KNOWN_HOSTS
(from ssh-keyscan; host keys are checked). The jobs run with HOME in a temporary directory.

The steps: a merge request pipeline's plan passes; the default branch's apply and verify pass;
a hand-made drift on the replica (REPLICAOF NO ONE) fails the scheduled pipeline's drift job, its
JUnit artifact naming the host, the instance and the reason; the apply job repairs it live (same
server process) and verify passes again. No job output and no report holds a secret.

Needs Docker, debootstrap, node and npm (gitlab-ci-local is installed into tests/output), rsync
(gitlab-ci-local's shell executor uses it) and PyPI for the jobs' pip install. Skipped with the
reason where they are missing, failed under CI=true. 8 to 14 minutes on the shared 2-core test
machine, 4 more when build.sh rebuilds the image (most of it: apt installs of redis-server in the
containers, the jobs' pip install).
"""

from __future__ import annotations

import os
import re
import secrets
import shutil
import subprocess
import sys
import tempfile
import uuid
from xml.etree import ElementTree

import pytest
import yaml

from harness import ROOT, ansible_env, copy_tracked_files, wait_until

GITLAB_CI_LOCAL_NPM = "gitlab-ci-local@4.70.0"  # 4.71+ needs Node 22 (Set.prototype.union); Debian's is 20
GITLAB_CI_LOCAL_DIR = os.path.join(ROOT, "tests", "output", "gitlab-ci-local")
IMAGE = "redisops/molecule-systemd:bookworm"
BIN = os.path.dirname(sys.executable)
# The Redis password (in the vault) and the vault password: neither may appear in any output.
REDIS_PASSWORD = "gl-" + secrets.token_hex(12)
VAULT_PASSWORD = "vault-" + secrets.token_hex(12)
JOB_TIMEOUT = 900
ANSI = re.compile(r"\x1b\[[0-9;]*m")


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason):
    if in_ci():
        pytest.fail("CI=true but the GitLab pipeline test cannot run: %s" % reason)
    pytest.skip("the GitLab pipeline test cannot run here: %s" % reason)


def run(cmd, timeout=120, **kwargs):
    return subprocess.run(cmd, capture_output=True, text=True, check=False, timeout=timeout, **kwargs)


def gitlab_ci_local():
    """The pinned gitlab-ci-local, installed into tests/output/gitlab-ci-local on first use."""
    for program in ("node", "npm", "rsync", "docker", "debootstrap", "ssh", "ssh-keyscan"):
        if not shutil.which(program):
            unavailable("%s is not installed (.ci/run installs what this test needs)" % program)
    program = os.path.join(GITLAB_CI_LOCAL_DIR, "node_modules", ".bin", "gitlab-ci-local")
    wanted = GITLAB_CI_LOCAL_NPM.split("@")[1]
    if not os.access(program, os.X_OK) or run([program, "--version"]).stdout.strip() != wanted:
        os.makedirs(GITLAB_CI_LOCAL_DIR, exist_ok=True)
        proc = run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", GITLAB_CI_LOCAL_DIR,
                    GITLAB_CI_LOCAL_NPM], timeout=300)
        assert proc.returncode == 0, proc.stderr
    proc = run([program, "--version"])
    assert proc.stdout.strip() == wanted, proc.stdout + proc.stderr
    return program


def git(*args, cwd):
    proc = run(["git", "-c", "user.name=ci", "-c", "user.email=ci@example.com", *args], cwd=cwd)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


class Bed:
    """The containers, the key pair, the project and gitlab-ci-local's environment."""

    def __init__(self, program):
        self.program = program
        self.dir = tempfile.mkdtemp(prefix="redisops-gl-")
        self.name = "redisops-gl-" + uuid.uuid4().hex[:8]
        self.hosts = {}  # inventory name -> (container, address)
        self.home = os.path.join(self.dir, "home")
        self.project = os.path.join(self.dir, "project")
        os.makedirs(self.home)

    # -- containers reached over SSH
    def start(self, names):
        proc = run([os.path.join(ROOT, "molecule", "images", "build.sh"), "bookworm"], timeout=900)
        if proc.returncode != 0:
            unavailable("molecule/images/build.sh bookworm failed: %s" % proc.stderr[-500:])
        # The image by its id: a rebuild of the tag meanwhile (another checkout's recipe) cannot swap it.
        image = run(["docker", "image", "inspect", "--format", "{{.Id}}", IMAGE]).stdout.strip()
        assert image, "no image %s after build.sh" % IMAGE
        key = os.path.join(self.dir, "id_ed25519")
        proc = run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "gitlab-ci-local", "-f", key])
        assert proc.returncode == 0, proc.stderr
        self.key = key
        proc = run(["docker", "network", "create", self.name])
        assert proc.returncode == 0, proc.stderr
        for index, host in enumerate(names, 1):
            container = "%s-%d" % (self.name, index)
            proc = run(["docker", "run", "-d", "--name", container, "--hostname", host, "--network", self.name,
                        "--label", "org.redisops.test=gitlab_pipeline",
                        "--cap-add", "SYS_ADMIN", "--cap-add", "SYS_PTRACE", "--cgroupns=host",
                        "-v", "/sys/fs/cgroup:/sys/fs/cgroup:rw", "--tmpfs", "/run", "--tmpfs", "/run/lock",
                        "--stop-signal", "SIGRTMIN+3", image, "/lib/systemd/systemd"])
            assert proc.returncode == 0, proc.stderr
            address = run(["docker", "inspect", "-f", '{{ (index .NetworkSettings.Networks "%s").IPAddress }}' % self.name,
                           container]).stdout.strip()
            assert address, "no address for %s" % container
            self.hosts[host] = (container, address)
        with open(key + ".pub") as handle:
            public = handle.read()
        known = []
        for host, (container, address) in self.hosts.items():
            wait_until(lambda c=container: run(["docker", "exec", c, "systemctl", "is-active", "ssh"]).stdout.strip()
                       == "active", timeout=60, interval=0.5, what="sshd in %s" % container)
            proc = run(["docker", "exec", "-i", container, "sh", "-c",
                        "umask 077 && mkdir -p /root/.ssh && cat >/root/.ssh/authorized_keys"], input=public)
            assert proc.returncode == 0, proc.stderr
            proc = run(["ssh-keyscan", "-T", "10", address])
            assert proc.returncode == 0 and address in proc.stdout, proc.stderr
            known.append(proc.stdout.strip())
        self.known_hosts = "\n".join(known) + "\n"

    def stop(self):
        for container, _address in self.hosts.values():
            run(["docker", "rm", "-f", container], timeout=120)
        run(["docker", "network", "rm", self.name], timeout=60)
        shutil.rmtree(self.dir, ignore_errors=True)

    def redis(self, host, *command):
        """redis-cli in the host's container (the password from the environment, not the command line)."""
        container = self.hosts[host][0]
        proc = run(["docker", "exec", "-e", "REDISCLI_AUTH=" + REDIS_PASSWORD, container, "redis-cli", "-p", "6379",
                    *command])
        assert proc.returncode == 0, proc.stderr
        return proc.stdout

    def info(self, host, section):
        return dict(line.split(":", 1) for line in self.redis(host, "INFO", section).splitlines() if ":" in line)

    # -- the project as a user's repository
    def make_project(self):
        copy_tracked_files(self.project)
        # Users copy the example to the root of their repository.
        shutil.copy2(os.path.join(ROOT, "examples", "gitops", ".gitlab-ci.yml"), self.project)
        inventory = os.path.join(self.project, "inventories", "production")
        os.makedirs(os.path.join(inventory, "group_vars", "redis"))
        master = next(iter(self.hosts))
        hosts = {}
        for host, (_container, address) in self.hosts.items():
            hosts[host] = {"ansible_host": address}
            if host != master:
                hosts[host]["redis_server_instances"] = [{"name": "main", "port": 6379, "replicaof": master}]
        with open(os.path.join(inventory, "hosts.yml"), "w") as handle:
            yaml.safe_dump({"redis": {"hosts": hosts}}, handle, sort_keys=False)
        with open(os.path.join(inventory, "group_vars", "redis", "main.yml"), "w") as handle:
            handle.write("---\n"
                         "ansible_user: root\n"
                         "redis_server_bind:\n  - 127.0.0.1\n  - \"{{ ansible_host }}\"\n"
                         "redis_server_password: \"{{ vault_redis_server_password }}\"\n"
                         "# A drift is reported after this many seconds of waiting, not the default 30.\n"
                         "redis_server_verify_timeout: 10\n")
        vault = os.path.join(inventory, "group_vars", "redis", "vault.yml")
        with open(vault, "w") as handle:
            handle.write("vault_redis_server_password: %s\n" % REDIS_PASSWORD)
        proc = run([os.path.join(BIN, "ansible-vault"), "encrypt", "--vault-password-file",
                    os.path.join(ROOT, "examples", "gitops", "vault-password.sh"), vault],
                   env=ansible_env(ANSIBLE_VAULT_PASSWORD=VAULT_PASSWORD))
        assert proc.returncode == 0, proc.stderr
        git("init", "-q", "-b", "main", cwd=self.project)
        git("remote", "add", "origin", "https://gitlab.example.com/ops/redis.git", cwd=self.project)
        git("add", "-A", cwd=self.project)
        git("commit", "-q", "-m", "production inventory", cwd=self.project)
        # The CI/CD variables as set in GitLab (Settings > CI/CD > Variables), kept out of git.
        with open(os.path.join(self.project, ".git", "info", "exclude"), "a") as handle:
            handle.write(".gitlab-ci-local-variables.yml\n.gitlab-ci-local/\n.venv/\n.cache/\nreport/\n.ci-ssh/\n")
        with open(self.key) as handle:
            private = handle.read()
        with open(os.path.join(self.project, ".gitlab-ci-local-variables.yml"), "w") as handle:
            yaml.safe_dump({"ANSIBLE_VAULT_PASSWORD": VAULT_PASSWORD,
                            "SSH_PRIVATE_KEY": {"type": "file", "values": {"*": private}},
                            "SSH_KNOWN_HOSTS": self.known_hosts}, handle)

    def env(self):
        """The runner's environment: nothing of this test's Ansible settings or virtualenv."""
        env = {key: value for key, value in os.environ.items()
               if not key.startswith(("ANSIBLE_", "PYTEST", "VIRTUAL_ENV", "PYTHON"))}
        env["PATH"] = os.pathsep.join(p for p in env.get("PATH", "").split(os.pathsep) if p and p != BIN)
        env["HOME"] = self.home
        # Ansible's SSH control sockets under the short temporary HOME (sun_path is 108 bytes).
        return env

    def pipeline(self, *args, source="push"):
        """gitlab-ci-local in the project, shell executor (the jobs' image cannot be pulled here):
        (exit code, stdout, stderr)."""
        cmd = [self.program, "--force-shell-executor", "--no-color", "--max-job-name-padding", "0",
               "--ignore-predefined-vars", "CI_PIPELINE_SOURCE", "--variable", "CI_PIPELINE_SOURCE=" + source, *args]
        proc = run(cmd, cwd=self.project, env=self.env(), timeout=JOB_TIMEOUT)
        assert REDIS_PASSWORD not in proc.stdout + proc.stderr and VAULT_PASSWORD not in proc.stdout + proc.stderr, \
            "a secret in the pipeline output"
        return proc.returncode, proc.stdout, proc.stderr

    def job(self, *args, source="push"):
        """Jobs run by name: (exit code, all output without its colours: the pipeline forces them)."""
        code, out, err = self.pipeline(*args, source=source)
        return code, ANSI.sub("", out + err)

    def listed(self, source):
        """The jobs a pipeline of that source runs (the rules of the example, evaluated by gitlab-ci-local)."""
        code, out, err = self.pipeline("--list", source=source)
        assert code == 0, out + err
        lines = out[out.index("name "):].splitlines()[1:]
        return sorted(line.split()[0] for line in lines if line.strip())

    def report(self, job):
        """The job's artifact: report/redis-verify.xml as gitlab-ci-local exported it."""
        path = os.path.join(self.project, ".gitlab-ci-local", "artifacts", job, "report", "redis-verify.xml")
        with open(path) as handle:
            text = handle.read()
        assert REDIS_PASSWORD not in text and VAULT_PASSWORD not in text
        return ElementTree.fromstring(text)


def failures(root):
    """{(class, case): message} of the JUnit report: class HOST.INSTANCE, case INSTANCE.CHECK."""
    return {(case.get("classname"), case.get("name")): case.find("failure").get("message")
            for case in root.iter("testcase") if case.find("failure") is not None}


@pytest.fixture(scope="module")
def bed():
    program = gitlab_ci_local()
    proc = run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=60)
    if proc.returncode != 0:
        unavailable("no Docker engine answers (molecule/images/start-dockerd.sh starts one)")
    bed = Bed(program)
    try:
        bed.start(["redis-1", "redis-2"])
        bed.make_project()
        yield bed
    finally:
        bed.stop()


def tail(out):
    return out[-6000:]


def test_the_pipelines_rules_pick_the_jobs_of_each_source(bed):
    assert bed.listed("merge_request_event") == ["lint", "plan"]
    assert bed.listed("push") == ["apply", "lint", "verify"]
    assert bed.listed("schedule") == ["drift"]


def test_apply_and_verify_pass_on_the_default_branch(bed):
    code, out = bed.job("apply", "verify")
    assert code == 0, tail(out)
    assert re.search(r"PASS\s+apply", out) and re.search(r"PASS\s+verify", out), tail(out)
    replication = bed.info("redis-2", "replication")
    assert replication["role"] == "slave" and replication["master_host"] == bed.hosts["redis-1"][1]
    assert failures(bed.report("verify")) == {}


def test_plan_on_a_merge_request_changes_nothing_on_the_converged_hosts(bed):
    code, out = bed.job("plan", source="merge_request_event")
    assert code == 0, tail(out)
    assert re.search(r"PASS\s+plan", out), tail(out)
    # Over SSH, as the CI connects (the key from SSH_PRIVATE_KEY, host keys checked against
    # SSH_KNOWN_HOSTS), and the plan of converged hosts is empty.
    for host in bed.hosts:
        assert re.search(r"^.*\b%s\s+: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0\b" % host, out, re.M), tail(out)
    assert not os.path.exists(os.path.join(bed.project, ".ci-ssh")), "after_script left the SSH key behind"


def test_a_drift_fails_the_scheduled_job_and_apply_repairs_it_live(bed):
    run_id = bed.info("redis-2", "server")["run_id"]
    assert bed.redis("redis-2", "REPLICAOF", "NO", "ONE").strip() == "OK"
    wait_until(lambda: bed.info("redis-2", "replication")["role"] == "master", what="redis-2 promoted by hand")

    code, out = bed.job(source="schedule")
    assert code != 0, tail(out)
    assert re.search(r"FAIL\s+drift", out), tail(out)
    found = failures(bed.report("drift"))
    master = "%s:6379" % bed.hosts["redis-1"][1]
    role = found.get(("redis-2.main", "main.role"), "")
    assert role.startswith("redis-2:main (port 6379)"), found
    assert "role: expected replica of %s, found master" % master in role, found
    assert "would run: REPLICAOF %s" % master.replace(":", " ") in found.get(("redis-2.main", "main.drift"), ""), found
    # Besides redis-2, only the master's checks of its replicas fail.
    others = {case for case in found if case[0] != "redis-2.main"}
    assert others <= {("redis-1.main", "main.replicas"), ("redis-1.main", "main.min_replicas")}, found

    code, out = bed.job("apply")
    assert code == 0, tail(out)
    wait_until(lambda: bed.info("redis-2", "replication").get("master_link_status") == "up", timeout=30,
               what="redis-2 replicating again")
    assert bed.info("redis-2", "server")["run_id"] == run_id, "apply restarted redis-2 instead of repairing it live"

    code, out = bed.job("verify")
    assert code == 0, tail(out)
    assert failures(bed.report("verify")) == {}
