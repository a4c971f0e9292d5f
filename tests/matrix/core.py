# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The ansible-core matrix: the collection's units, site.yml on real servers and ansible-test
sanity, each run with one ansible-core version on the controller (tests/matrix/test_*.py, one
file per version so that pytest-xdist spreads them over its workers).

Each version gets a virtualenv with the pins of requirements/ansible-core-X.Y.txt, created by
the test itself under a cache directory (REDISOPS_MATRIX_CACHE, default
~/.cache/redisops/ansible-core-matrix) and reused while that file is unchanged; a lock file
per virtualenv lets parallel runs wait for each other. Where this machine's Python cannot run
a version (2.20 and later need Python >= 3.12; Debian 12 has 3.11), the version runs in a
container of Debian trixie (Python 3.13) built locally from the molecule base image (no
registry): tests/matrix/Dockerfile. The checkout is mounted at its own path, so the same
commands run in both places.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import re
import shutil
import subprocess
import sys

import pytest

# realpath: imported as ansible_collections.redisops.redis (a link back to the checkout), the
# checkout itself is what the container mounts.
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.realpath(__file__))))
CACHE = os.environ.get("REDISOPS_MATRIX_CACHE") or os.path.join(
    os.path.expanduser("~"), ".cache", "redisops", "ansible-core-matrix")
# The controller Pythons each ansible-core version supports (its setup metadata and
# ansible-test's controller list).
PYTHONS = {
    "2.16": ((3, 10), (3, 12)),
    "2.17": ((3, 10), (3, 12)),
    "2.18": ((3, 11), (3, 13)),
    "2.19": ((3, 11), (3, 13)),
    "2.20": ((3, 12), (3, 14)),
    "2.21": ((3, 12), (3, 14)),
}
IMAGE = "redisops/ansible-controller:trixie"
IMAGE_PYTHON = (3, 13)
IMAGE_LABEL = "org.redisops.matrix.recipe"
DOCKERFILE = os.path.join(ROOT, "tests", "matrix", "Dockerfile")
CA_BUNDLE = "/etc/ssl/certs/ca-certificates.crt"
# What the matrix runs of test_site.py: the deployment of a master and its replica, its
# closing verification, the data flowing, auth, no secret in the output, a second run that
# changes nothing and check mode on the converged bed.
SITE_TESTS = (
    "test_deploy_reproduces_the_guides_bed",
    "test_data_flows_from_master_to_replica_which_refuses_writes",
    "test_both_instances_refuse_unauthenticated_clients",
    "test_the_run_ends_by_printing_each_instances_replication_state",
    "test_no_secret_in_output_even_with_diff_and_verbose",
    "test_second_run_changes_nothing",
    "test_check_mode_on_a_converged_bed_reports_no_change",
)
TIMEOUT = 30 * 60


def in_ci():
    return os.environ.get("CI", "").strip().lower() in ("1", "true", "yes")


def unavailable(reason):
    """Skip, or fail under CI=true: CI must run every version."""
    if in_ci():
        pytest.fail("CI=true but this version of the matrix cannot run: %s" % reason)
    pytest.skip(reason)


def requirements(version):
    return os.path.join(ROOT, "requirements", "ansible-core-%s.txt" % version)


def _fits(python, version):
    low, high = PYTHONS[version]
    return low <= python[:2] <= high


@contextlib.contextmanager
def _locked(name):
    os.makedirs(CACHE, exist_ok=True)
    with open(os.path.join(CACHE, name + ".lock"), "w", encoding="utf-8") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        yield


def _run(cmd, timeout=TIMEOUT, env=None):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False, timeout=timeout,
                          env=dict(os.environ, **(env or {})))
    return proc.returncode, proc.stdout + proc.stderr


class Controller:
    """One ansible-core version's virtualenv, on this machine or in the trixie container."""

    def __init__(self, version):
        self.version = version
        self.container = not _fits(sys.version_info, version)
        where = "trixie-py%d.%d" % IMAGE_PYTHON if self.container else "host-py%d.%d" % sys.version_info[:2]
        self.venv = os.path.join(CACHE, where, "ansible-core-%s" % version)
        # ansible-test keeps its sanity virtualenvs under ~/.ansible/test: a home per version, so
        # that two versions (or tests/quality's sanity) never build the same one at once.
        self.home = os.path.join(CACHE, where, "home-%s" % version)
        self.python_version = "%d.%d" % (IMAGE_PYTHON if self.container else sys.version_info[:2])
        self.name = "ansible-core %s on Python %s%s" % (
            version, self.python_version, " (container %s)" % IMAGE if self.container else "")

    # --- running commands ---------------------------------------------------------------------

    def run(self, cmd, env=None, timeout=TIMEOUT):
        """(return code, output) of cmd, run with this controller's Python (cwd: the checkout)."""
        if not self.container:
            return _run(cmd, timeout=timeout, env=env)
        name = "redisops-matrix-%s-%d" % (self.version.replace(".", "-"), os.getpid())
        # SYS_PTRACE: root reads /proc/PID/exe of the servers (they run as redis), as on a host;
        # --init: an init as PID 1 reaps the servers the process service manager daemonizes.
        docker = ["docker", "run", "--rm", "--init", "--name", name, "--cap-add", "SYS_PTRACE", "-w", ROOT,
                  "-v", "%s:%s" % (ROOT, ROOT),
                  "-v", "%s:%s" % (os.path.dirname(self.venv), os.path.dirname(self.venv)),
                  "-v", "%s:/root/.ansible" % os.path.join(self.home, ".ansible"),
                  "-e", "PYTHONDONTWRITEBYTECODE=1", "-e", "PIP_DISABLE_PIP_VERSION_CHECK=1"]
        for path in _git_dirs():
            docker += ["-v", "%s:%s:ro" % (path, path)]
        if os.path.exists(CA_BUNDLE):
            # The host's trust store: the index may sit behind a proxy only it trusts. In pip's
            # site-wide file, since ansible-test passes its pip runs no PIP_* variables.
            pip_conf = os.path.join(os.path.dirname(self.venv), "pip.conf")
            with open(pip_conf, "w", encoding="utf-8") as handle:
                handle.write("[global]\ncert = /etc/ssl/certs/host-ca-certificates.crt\n")
            docker += ["-v", "%s:/etc/ssl/certs/host-ca-certificates.crt:ro" % CA_BUNDLE,
                       "-v", "%s:/etc/pip.conf:ro" % pip_conf]
        for variable in ("PIP_INDEX_URL", "CI"):
            if os.environ.get(variable) and not os.environ[variable].startswith("file:"):
                docker += ["-e", "%s=%s" % (variable, os.environ[variable])]
        for key, value in (env or {}).items():
            docker += ["-e", "%s=%s" % (key, value)]
        try:
            return _run(docker + [IMAGE] + cmd, timeout=timeout)
        finally:
            subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)

    def python(self, *args):
        return [os.path.join(self.venv, "bin", "python")] + list(args)

    # --- setting up ---------------------------------------------------------------------------

    def prepare(self):
        """Make the virtualenv (and the container image) exist; skip when impossible here."""
        if self.container:
            if not _fits(IMAGE_PYTHON, self.version):
                unavailable("neither this machine's Python %d.%d nor the container's %d.%d runs ansible-core %s"
                            % (sys.version_info[:2] + IMAGE_PYTHON + (self.version,)))
            build_image()
        os.makedirs(os.path.join(self.home, ".ansible"), exist_ok=True)
        with open(requirements(self.version), "rb") as handle:
            recipe = hashlib.sha256(handle.read() + self.name.encode()).hexdigest()
        stamp = os.path.join(self.venv, ".redisops-installed")
        with _locked(os.path.basename(os.path.dirname(self.venv)) + "-" + os.path.basename(self.venv)):
            with contextlib.suppress(OSError), open(stamp, encoding="utf-8") as handle:
                if handle.read() == recipe:
                    return self
            shutil.rmtree(self.venv, ignore_errors=True)
            python = "python3" if self.container else sys.executable
            rc, output = self.run([python, "-m", "venv", self.venv])
            assert rc == 0, "%s: creating the virtualenv failed:\n%s" % (self.name, output[-5000:])
            rc, output = self.run(self.python("-m", "pip", "install", "--quiet", "-r", requirements(self.version)))
            assert rc == 0, "%s: pip install -r %s failed:\n%s" % (self.name, requirements(self.version), output[-5000:])
            with open(stamp, "w", encoding="utf-8") as handle:
                handle.write(recipe)
        return self

    def ansible_core_version(self):
        rc, output = self.run(self.python("-c", "from ansible.release import __version__; print(__version__)"))
        assert rc == 0, output
        return output.strip().splitlines()[-1]

    # --- the checks ---------------------------------------------------------------------------

    def pytest(self, *args):
        return self.run(self.python("-m", "pytest", "-q", "-p", "no:cacheprovider", *args))

    def units(self):
        return self.pytest("tests/unit")

    def site(self):
        return self.pytest(*("tests/integration/test_site.py::" + name for name in SITE_TESTS))

    def sanity(self):
        tree = "/tmp/redisops-matrix-sanity-%s-%d" % (self.version, os.getpid())
        try:
            env = {"VENV": self.venv, "SANITY_TREE": tree, "SANITY_PYTHON": self.python_version}
            if not self.container:  # the container's /root/.ansible is this home's
                env["HOME"] = self.home
            return self.run(["bash", "tests/sanity/run.sh"], env=env)
        finally:
            if not self.container:
                shutil.rmtree(tree, ignore_errors=True)


def _git_dirs():
    """The git directories of the checkout that lie outside it (a worktree's), for the container."""
    dirs = []
    for option in ("--git-dir", "--git-common-dir"):
        proc = subprocess.run(["git", "rev-parse", "--path-format=absolute", option], cwd=ROOT,
                              capture_output=True, text=True, check=False)
        path = proc.stdout.strip()
        if proc.returncode == 0 and path and not path.startswith(ROOT + os.sep) and path not in dirs:
            dirs.append(path)
    return dirs


def build_image():
    """The trixie controller image: the molecule base image (molecule/images/build.sh) with a
    Python virtualenv tool, redis-server, redis-py, git and shellcheck. Rebuilt when the
    Dockerfile or the base image changes; concurrent callers wait for each other."""
    if not shutil.which("docker"):
        unavailable("docker is not installed (make molecule-env installs it): needed for ansible-core %s" % IMAGE)
    rc, output = _run(["docker", "info", "--format", "{{.ServerVersion}}"], timeout=60)
    if rc != 0:
        unavailable("no Docker engine answers (molecule/images/start-dockerd.sh starts one): %s" % output[-300:])
    with _locked("image"):
        rc, output = _run(["bash", "molecule/images/build.sh", "trixie"])
        assert rc == 0, "building the trixie base image failed:\n%s" % output[-5000:]
        base = _run(["docker", "image", "inspect", "--format", "{{.Id}}", "redisops/molecule-systemd:trixie"])[1].strip()
        with open(DOCKERFILE, "rb") as handle:
            recipe = hashlib.sha256(handle.read() + base.encode()).hexdigest()[:16]
        rc, current = _run(["docker", "image", "inspect", "--format",
                            '{{ index .Config.Labels "%s" }}' % IMAGE_LABEL, IMAGE])
        if rc == 0 and current.strip() == recipe:
            return
        rc, output = _run(["docker", "build", "-q", "--label", "%s=%s" % (IMAGE_LABEL, recipe), "-t", IMAGE,
                           "-f", DOCKERFILE, os.path.dirname(DOCKERFILE)])
        assert rc == 0, "building %s failed:\n%s" % (IMAGE, output[-5000:])


def passed(output):
    """The number of tests a pytest run's summary line says passed."""
    found = re.findall(r"(\d+) passed", output)
    return int(found[-1]) if found else 0


def check_units(controller):
    rc, output = controller.units()
    assert rc == 0 and passed(output) > 0, "%s: the unit tests failed:\n%s" % (controller.name, output[-20000:])


def check_site(controller):
    rc, output = controller.site()
    assert rc == 0 and passed(output) == len(SITE_TESTS), (
        "%s: site.yml on real servers failed:\n%s" % (controller.name, output[-20000:]))


def check_sanity(controller):
    rc, output = controller.sanity()
    assert rc == 0, "%s: ansible-test sanity failed:\n%s" % (controller.name, output[-20000:])


class VersionTests:
    """The three tests of one version; each tests/matrix/test_ansible_core_X_Y.py is a subclass that
    sets VERSION, so that a failure names the version and the versions spread over the workers."""

    VERSION = None

    @pytest.fixture(scope="class")
    @classmethod
    def controller(cls):
        controller = Controller(cls.VERSION).prepare()
        installed = controller.ansible_core_version()
        assert installed.startswith(cls.VERSION + "."), (
            "%s: the virtualenv has ansible-core %s" % (controller.name, installed))
        return controller

    def test_units(self, controller):
        check_units(controller)

    def test_site_deploys_verifies_and_changes_nothing_the_second_time(self, controller):
        check_site(controller)

    def test_sanity(self, controller):
        check_sanity(controller)
