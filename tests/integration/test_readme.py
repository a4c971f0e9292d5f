"""Every command of the README's `sh` blocks runs as shown, on a copy of the clone whose bed is on
free ports.

A new user goes through the README in one shell, from the top: the commands of every fenced `sh`
block run in README order in one bash process (what `export` or `. .venv/bin/activate` set stays
set), with the venv's directory NOT on the PATH (the README must say how to get it there), a HOME of
their own (`make install` writes to ~/.ansible/collections) and no ANSIBLE_* variable. The copy is
the checkout's files with `inventories/local/hosts.yml` moved to free loopback ports and to
directories of its own: 6379 and 6479 in a command mean the bed's master and replica and are
replaced by those ports. A comment `# -> TEXT` after a command means its output shows TEXT;
`# fails: TEXT` that it exits non-zero showing TEXT. SKIP lists, with the reason, the commands
that cannot run on the bed (other hosts, a master that is down, the test suite itself).
Then: an idempotent `make run` prints at most 40 lines.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile

import pytest
import yaml

from harness import free_port, kill_pid_files, ROOT, show

README = os.path.join(ROOT, "README.md")
MAX_IDEMPOTENT_LINES = 40

# Command prefix, a regular expression matched at its start (after the port replacement) -> why it
# does not run here.
SKIP = {
    "make test": "the whole test suite, of which this test is a part",
    "make molecule": "the molecule scenarios have their own tests (tests/molecule)",
    "ansible-playbook -i inventories/example": "the multi-host example: hosts redis-1..3 are not on this machine",
    "ansible-playbook playbooks/failover.yml -e redis_failover_unplanned=true":
        "the unplanned mode needs a master that is down (tests/integration/test_failover.py)",
    "make install COLLECTIONS_PATH=": "`make install` runs; test_own_project.py installs into a path of its own",
    "ansible-playbook -i inventories/local-sentinel": "the Sentinel bed's Sentinels take fixed ports 26379-26381; "
                                                      "tests/integration/test_sentinel.py deploys it on free ports",
    "redis-cli -p 26379": "a Sentinel of the Sentinel bed (not deployed here, see above)",
    "make matrix": "the ansible-core matrix: its own test files (tests/matrix), hours of virtualenvs",
    "ansible-playbook playbooks/verify.yml -e redis_report_dir": "tests/integration/test_report.py runs this "
                                                                 "sequence on a bed of its own",
    r"redis-cli -p \d+ REPLICAOF NO ONE": "the drift of the report sequence above (test_report.py)",
    "git clone --bare": "the pull-mode sequence: tests/molecule/test_pull_container.py runs it in a systemd "
                        "container, from a bare repository with a bed of its own (the README's would deploy the "
                        "committed 6379/6479 bed here)",
    "ansible-pull": "as above (test_pull_container.py)",
    "install -m": "installs the pull units into /usr/local/sbin and /etc/systemd: test_pull_container.py runs "
                  "these commands in its container, test_gitops.py checks the units with systemd-analyze",
    "systemctl daemon-reload": "needs systemd as PID 1 (test_pull_container.py)",
    "npm install -g gitlab-ci-local": "tests/integration/test_gitlab_pipeline.py installs the same version into "
                                      "tests/output and runs the pipeline against SSH containers",
    "gitlab-ci-local": "the pipeline needs a repository with inventories/production and its CI variables "
                       "(test_gitlab_pipeline.py)",
}


def readme_commands(text):
    """[(line number, command, comment)] of every fenced sh block, indented blocks included."""
    commands, in_block, indent = [], False, ""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not in_block and stripped == "```sh":
            in_block, indent = True, line[:len(line) - len(line.lstrip())]
        elif in_block and stripped == "```":
            in_block = False
        elif in_block and stripped and not stripped.startswith("#"):
            match = re.match(r"^(.*?)(?:\s{2,}(#.*))?$", line[len(indent):])
            commands.append((number, match.group(1).strip(), (match.group(2) or "").strip()))
    assert not in_block, "an sh block of README.md is not closed"
    return commands


def test_the_extractor_reads_blocks_commands_and_expectations():
    text = "x\n```sh\nmake run    # deploy\n  # a comment\n\n```\n- item\n\n  ```sh\n  redis-cli -p 6479 set x 1 " \
           "  # -> READONLY\n  ```\n```yaml\nnot: sh\n```\n"
    assert readme_commands(text) == [(3, "make run", "# deploy"), (10, "redis-cli -p 6479 set x 1", "# -> READONLY")]


def skipped(command):
    return next((reason for prefix, reason in SKIP.items() if re.match(prefix, command)), None)


def expectation(comment):
    """(must_fail, text) from a command's comment, or (False, None)."""
    match = re.match(r"#\s*(->|fails:)\s*(.+)$", comment)
    if not match:
        return False, None
    return match.group(1) == "fails:", match.group(2).strip()


@pytest.fixture(scope="module")
def clone():
    """A copy of the checkout (the venv linked, made before) whose bed runs on free ports."""
    top = tempfile.mkdtemp(prefix="redisops-readme-")
    os.chmod(top, 0o755)
    path = os.path.join(top, "clone")
    shutil.copytree(ROOT, path, symlinks=True, ignore=shutil.ignore_patterns(
        ".git", ".venv", ".venv-molecule", ".secrets", "build", "output", ".pytest_cache", "__pycache__", "results",
        ".ansible"))
    os.symlink(os.path.realpath(os.path.join(ROOT, ".venv")), os.path.join(path, ".venv"))
    # The venv exists (`make test` made it): make must not remake it from the copied requirements.
    installed = os.path.join(path, ".venv", ".installed")
    if os.path.exists(installed):
        made = os.stat(installed).st_mtime - 60
        for name in os.listdir(path):
            if name.startswith("requirements"):
                os.utime(os.path.join(path, name), (made, made))
    ports = {6379: free_port(), 6479: free_port()}
    hosts = os.path.join(path, "inventories", "local", "hosts.yml")
    with open(hosts) as handle:
        inventory = yaml.safe_load(handle)
    host = inventory["redis"]["hosts"]["localhost"]
    for instance in host["redis_server_instances"]:
        instance["port"] = ports[instance["port"]]
    host.update({"redis_server_service_manager": "process",
                 "redis_server_conf_dir": os.path.join(top, "bed", "etc"),
                 "redis_server_data_dir": os.path.join(top, "bed", "data"),
                 "redis_server_log_dir": os.path.join(top, "bed", "log"),
                 "redis_server_run_dir": os.path.join(top, "bed", "run")})
    with open(hosts, "w") as handle:
        yaml.safe_dump(inventory, handle)
    os.makedirs(os.path.join(top, "bed"), mode=0o755)
    home = os.path.join(top, "home")
    os.makedirs(home)
    env = {key: value for key, value in os.environ.items() if not key.startswith(("ANSIBLE_", "VIRTUAL_ENV", "REDIS"))}
    env["PATH"] = os.pathsep.join(part for part in env.get("PATH", "").split(os.pathsep) if "/.venv" not in part)
    env.update(HOME=home, NO_COLOR="1")
    yield {"dir": path, "top": top, "ports": ports, "env": env}
    kill_pid_files(os.path.join(top, "bed", "run"))
    shutil.rmtree(top, ignore_errors=True)


def on_bed(command, ports):
    for readme_port, port in ports.items():
        command = re.sub(r"\b%d\b" % readme_port, str(port), command)
    return command


def shell(clone, script, timeout=900):
    return subprocess.run(["bash", "-c", script], cwd=clone["dir"], env=clone["env"], capture_output=True, text=True,
                          timeout=timeout, check=False)


@pytest.fixture(scope="module")
def readme_run(clone):
    """Every command of the README in one shell; the output of each, by README line."""
    with open(README, encoding="utf-8") as handle:
        commands = readme_commands(handle.read())
    script, ran = ["exec 2>&1", "set -o pipefail"], []
    for number, command, comment in commands:
        if skipped(command):
            continue
        must_fail = expectation(comment)[0]
        line = on_bed(command, clone["ports"])
        script.append("echo '@@ %d'" % number)
        if must_fail:
            script.append("if %s; then echo '@@ unexpected success'; exit 1; fi" % line)
        else:
            script.append("%s || { echo \"@@ exit $?\"; exit 1; }" % line)
        ran.append((number, command, comment))
    proc = shell(clone, "\n".join(script) + "\n", timeout=1800)
    outputs = dict(re.findall(r"^@@ (\d+)\n(.*?)(?=^@@ |\Z)", proc.stdout + "\n@@ ", re.M | re.S))
    return {"proc": proc, "ran": ran, "outputs": {int(k): v for k, v in outputs.items()}}


def test_the_skip_list_names_only_commands_the_readme_has():
    with open(README, encoding="utf-8") as handle:
        commands = [item[1] for item in readme_commands(handle.read())]
    for prefix in SKIP:
        assert any(re.match(prefix, command) for command in commands), "SKIP names %r, not in README.md" % prefix


def test_every_readme_command_runs_as_shown(readme_run):
    proc = readme_run["proc"]
    assert proc.returncode == 0, show(proc)
    assert len(readme_run["ran"]) >= 12, readme_run["ran"]
    for number, command, comment in readme_run["ran"]:
        text = expectation(comment)[1]
        out = readme_run["outputs"].get(number)
        assert out is not None, "README.md:%d %s did not run\n%s" % (number, command, show(proc))
        if text:
            assert text in " ".join(out.split()), "README.md:%d %s: %r not in its output\n%s" % (
                number, command, text, out)


def test_the_first_run_starts_the_instances_and_an_idempotent_run_prints_little(clone, readme_run):
    first = readme_run["outputs"][next(item[0] for item in readme_run["ran"] if item[1] == "make run")]
    assert "Start the instances that are not running" in first and "Restart" not in first, first
    proc = shell(clone, "make run")
    assert proc.returncode == 0, show(proc)
    lines = proc.stdout.splitlines()
    assert len(lines) <= MAX_IDEMPOTENT_LINES, "%d lines:\n%s" % (len(lines), proc.stdout)
    assert re.search(r"localhost\s*: ok=\d+\s+changed=0\s+unreachable=0\s+failed=0", proc.stdout), show(proc)
    assert "replica 127.0.0.1:%d role=replica master=127.0.0.1:%d link=up" % (
        clone["ports"][6479], clone["ports"][6379]) in proc.stdout, show(proc)


def test_a_wrong_password_is_one_error_naming_the_variable(clone, readme_run):
    """The README's Troubleshooting runs `REDIS_PASSWORD=... make verify`; `make run` here."""
    verify = next(item[0] for item in readme_run["ran"]
                  if item[1].startswith("REDIS_PASSWORD=") and item[1].endswith("make verify"))
    proc = shell(clone, "REDIS_PASSWORD=not-the-password make run")
    assert proc.returncode != 0, show(proc)
    for out in readme_run["outputs"][verify], proc.stdout + proc.stderr:
        text = " ".join(out.split()).replace("''", "'")
        assert out.count("fatal:") == 1 and "[ERROR]" not in out and "...ignoring" not in out, out
        assert "DRIFT" not in out and "changed=0" in out, out
        for name, readme_port in (("master", 6379), ("replica", 6479)):
            assert "Instance '%s' of host 'localhost' (127.0.0.1:%d) is running and refuses the password" % (
                name, clone["ports"][readme_port]) in text, out
        assert "Fix: give redis_server_password" in text and "redis_server_previous_passwords" in text, out


def test_the_replication_check_examples_run_as_written(redis_server, workdir):
    """The module's EXAMPLES, as a playbook, against a master and its replica on free ports."""
    import json

    from harness import PASSWORD, run_playbook

    master = redis_server(password=PASSWORD)
    replica = redis_server(password=PASSWORD, args=["--replicaof", "127.0.0.1", str(master.port),
                                                    "--masterauth", PASSWORD])
    replica.client()  # answers
    source = open(os.path.join(ROOT, "plugins", "modules", "replication_check.py"), encoding="utf-8").read()
    examples = source.split('EXAMPLES = r"""', 1)[1].split('"""', 1)[0]
    tasks = yaml.safe_load(on_bed(examples, {6379: master.port, 6479: replica.port}))
    for task in tasks:  # the replica's log is where this test started it
        if "log_file" in task.get("redisops.redis.replication_check", {}):
            task["redisops.redis.replication_check"]["log_file"] = replica.log_file
    play = [{"name": "The EXAMPLES of replication_check", "hosts": "all", "gather_facts": False,
             "vars": {"redis_password": PASSWORD}, "tasks": tasks}]
    playbook = os.path.join(workdir, "examples.yml")
    with open(playbook, "w") as handle:
        json.dump(play, handle)
    inventory = os.path.join(workdir, "hosts.ini")
    with open(inventory, "w") as handle:
        handle.write("localhost ansible_connection=local ansible_python_interpreter=%s\n" % sys.executable)
    proc = run_playbook(playbook, inventory)
    assert proc.returncode == 0, show(proc)
    out = " ".join(proc.stdout.split())
    assert "In sync after" in out and "expected 10.0.0.11" in out, show(proc)
