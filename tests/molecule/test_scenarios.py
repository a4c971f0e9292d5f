"""The molecule scenarios (molecule/, docs/molecule.md) as part of the test suite.

One test per scenario runs `molecule test -s NAME`: create, converge, idempotence (zero
changes), verify, destroy. One more, the test of the test, converges a variant of the
`default` scenario whose inventory gives one replica a wrong masterauth and expects
`molecule verify` to fail, naming that replica and the reason its link is down. The last cuts a
replica's container off the network (issue 4's fault): the checks report the link down and the
master's backlog, and after reconnecting the replica resyncs partially, with every key.

They need Docker and the molecule virtualenv (`make molecule-env` provides both; `.ci/run`
does it on CI). Without them the tests are skipped, with the reason, or fail when CI=true.
Whatever happens, each test ends with `molecule destroy`: no container or network is left.
Full molecule output goes to tests/output/molecule/NAME.log.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import re
import shutil
import signal
import subprocess
import tempfile

import pytest

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
MOLECULE_VENV = os.environ.get("MOLECULE_VENV") or os.path.join(ROOT, ".venv-molecule")
MOLECULE = os.path.join(MOLECULE_VENV, "bin", "molecule")
LOG_DIR = os.path.join(ROOT, "tests", "output", "molecule")
SCENARIOS = ["single_host", "default", "versions"]
# Where molecule looks for scenarios: the green ones, and the test of the test's variants.
GREEN_GLOB = "molecule/*/molecule.yml"
VARIANT_GLOB = "tests/molecule/scenarios/*/molecule.yml"
# One scenario takes 2 to 6 minutes here (more when it builds its images first).
TIMEOUT = 40 * 60


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def why_not_runnable():
    """Why the scenarios cannot run on this machine, or None."""
    if not os.access(MOLECULE, os.X_OK):
        return "no molecule virtualenv at %s (make molecule-env creates it)" % MOLECULE_VENV
    for program in ("docker", "debootstrap"):
        if not shutil.which(program):
            return "%s is not installed (make molecule-env installs docker.io and debootstrap)" % program
    try:
        proc = subprocess.run(["docker", "info", "--format", "{{.ServerVersion}}"],
                              capture_output=True, text=True, check=False, timeout=60)
    except subprocess.TimeoutExpired:
        return "`docker info` did not answer within 60 s"
    if proc.returncode != 0:
        return "no Docker engine answers (molecule/images/start-dockerd.sh starts one): %s" % proc.stderr.strip()[-300:]
    return None


@pytest.fixture(scope="module")
def docker_engine(request):
    """Skip (fail under CI=true) when Docker or the molecule virtualenv is missing.

    Holds a lock of the test file while its scenarios run: their container and network names are
    fixed, so two runs of one file on one machine (two checkouts, two engineers) take turns instead
    of colliding. Files of other scenarios (other names) run beside it: one lock for all of them
    made a pytest-xdist worker wait, idle, for another's scenarios.
    """
    reason = why_not_runnable()
    if reason:
        if in_ci():
            pytest.fail("CI=true but the molecule scenarios cannot run: %s" % reason)
        pytest.skip("the molecule scenarios cannot run here: %s" % reason)
    name = "redisops-molecule-%s.lock" % os.path.splitext(os.path.basename(str(request.path)))[0]
    with open(os.path.join(tempfile.gettempdir(), name), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def molecule(args, glob, log_name):
    """Run the molecule virtualenv's molecule with args; (return code, output). Output is appended to the log."""
    env = dict(os.environ,
               PATH=os.path.join(MOLECULE_VENV, "bin") + os.pathsep + os.environ.get("PATH", ""),
               MOLECULE_GLOB=glob, NO_COLOR="1", PY_COLORS="0", ANSIBLE_NOCOLOR="1", ANSIBLE_FORCE_COLOR="0")
    env.pop("VIRTUAL_ENV", None)
    os.makedirs(LOG_DIR, exist_ok=True)
    # A session of its own: on a timeout the whole tree (ansible-playbook, pytest) is stopped.
    with subprocess.Popen([MOLECULE] + args, cwd=ROOT, env=env, text=True, start_new_session=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT) as proc:
        try:
            output = proc.communicate(timeout=TIMEOUT)[0]
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            output = proc.communicate()[0] + "\n(killed after %d s)\n" % TIMEOUT
    with open(os.path.join(LOG_DIR, log_name + ".log"), "a", encoding="utf-8") as stream:
        stream.write("$ molecule %s\n%s\n" % (" ".join(args), output))
    return proc.returncode, output


def tail(output, lines=120):
    return "\n".join(output.splitlines()[-lines:])


def destroy(scenario, glob):
    """molecule destroy, and say so when it failed (a test must not hide its own cleanup problem)."""
    code, output = molecule(["destroy", "-s", scenario], glob, scenario)
    assert code == 0, "molecule destroy -s %s failed:\n%s" % (scenario, tail(output))


@contextlib.contextmanager
def converged_variant(scenario):
    """A variant under tests/molecule/scenarios converged from scratch (a left-over state would
    have molecule skip create for containers that are gone); destroyed whatever happens."""
    log = os.path.join(LOG_DIR, scenario + ".log")
    if os.path.exists(log):
        os.unlink(log)
    try:
        destroy(scenario, VARIANT_GLOB)
        code, output = molecule(["converge", "-s", scenario], VARIANT_GLOB, scenario)
        assert code == 0, "converge of the %s variant failed (full output in %s):\n%s" % (scenario, log, tail(output, 200))
        yield log
    finally:
        destroy(scenario, VARIANT_GLOB)


# The hosts of a scenario that plans (molecule check) on its fresh containers before converging:
# the plan says once per host that it cannot predict what follows the install (issue 11).
FRESH_PLAN_HOSTS = {"default": ["redisops-redis-1", "redisops-redis-2", "redisops-redis-3"]}


@pytest.mark.usefixtures("docker_engine")
@pytest.mark.parametrize("scenario", SCENARIOS)
def test_scenario(scenario):
    """create, converge, idempotence (zero changes), verify, destroy: molecule test."""
    log = os.path.join(LOG_DIR, scenario + ".log")
    if os.path.exists(log):
        os.unlink(log)
    try:
        code, output = molecule(["test", "-s", scenario, "--destroy", "always"], GREEN_GLOB, scenario)
        assert code == 0, "molecule test -s %s failed (full output in %s):\n%s" % (scenario, log, tail(output, 200))
        assert re.search(r"%s\s*:\s*actions=\d+\s+successful=\d+\s+.*failed=0" % scenario, output), tail(output)
        words = " ".join(output.split())
        for host in FRESH_PLAN_HOSTS.get(scenario, []):
            line = "%s: the server is not installed yet, so this plan stops after the install" % host
            assert words.count(line) == 1, "the plan on fresh containers does not say once: %s" % line
    finally:
        destroy(scenario, GREEN_GLOB)


@pytest.mark.usefixtures("docker_engine")
def test_verify_names_the_replica_with_a_wrong_masterauth():
    """The test of the test: a replica whose masterauth is wrong makes verify fail, naming it and the cause.

    tests/molecule/scenarios/broken_masterauth is the default scenario's topology (a master and two
    replicas) with masterauth wrong on redisops-broken-3 only.
    """
    scenario = "broken_masterauth"
    with converged_variant(scenario):
        code, output = molecule(["verify", "-s", scenario], VARIANT_GLOB, scenario)
        assert code != 0, "verify passed although redisops-broken-3 has a wrong masterauth:\n%s" % tail(output, 200)
        flat = re.sub(r"\s+", " ", output)
        # testinfra: the broken replica's link check fails, its good sibling's passes.
        failed = re.findall(r"FAILED \S+::(\w+\[[^\]]+\])", flat)
        assert "test_role_and_link[redisops-broken-3:main]" in failed, flat[-6000:]
        assert "test_role_and_link[redisops-broken-2:main]" not in failed, flat[-6000:]
        # The collection's verify (playbooks/verify.yml, replication_check): instance, link, reason.
        assert re.search(r"redisops-broken-3:main: master_link_status: expected up, found down", flat), flat[-6000:]
        assert re.search(r"Last replication error in /var/log/redis/redis-main\.log: [^']*(AUTH|WRONGPASS|invalid password)",
                         flat), flat[-6000:]
        assert "redisops-broken-2:main: master_link_status" not in flat, flat[-6000:]


@pytest.mark.usefixtures("docker_engine")
def test_a_network_cut_is_reported_then_healed_by_a_partial_resync():
    """A replica's container cut off the network: the checks name the link down and the backlog;
    once reconnected, the replica resyncs partially (not fully) and has every key written meanwhile.

    tests/molecule/scenarios/network_cut: converge, then its side effect (network_cut.yml), which
    asserts each step itself.
    """
    scenario = "network_cut"
    with converged_variant(scenario) as log:
        code, output = molecule(["side-effect", "-s", scenario], VARIANT_GLOB, scenario)
        assert code == 0, "the network cut was not reported or not healed (full output in %s):\n%s" % (log, tail(output, 200))
        flat = re.sub(r"\s+", " ", output)
        assert "master_link_status: expected up, found down (down for" in flat, flat[-6000:]
        assert "backlog holds offsets" in flat, flat[-6000:]


@pytest.mark.usefixtures("docker_engine")
def test_systemd_does_not_restart_a_crashed_master_into_an_empty_group():
    """Issue 8's master crash under systemd: a replica killed with SIGKILL is restarted and resyncs;
    a master killed with SIGKILL stays down and its replica keeps every key it acknowledged.

    tests/molecule/scenarios/master_crash: converge, then its side effect (master_crash.yml), which
    asserts each step itself.
    """
    scenario = "master_crash"
    with converged_variant(scenario) as log:
        code, output = molecule(["side-effect", "-s", scenario], VARIANT_GLOB, scenario)
        assert code == 0, "the crashed master was restarted or keys were lost (full output in %s):\n%s" % (
            log, tail(output, 200))
        assert re.search(r"The master stayed down and the replica holds every key.*?ok: \[redisops-crash\]",
                         output, re.S), tail(output, 200)
