"""ansible-lint (production profile) and ansible-test sanity, run as part of the test suite.

They run here rather than as separate make steps so that `make test` ends in one pytest
summary that counts them, and a lint or sanity failure fails the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.path.dirname(sys.executable)


def run(cmd):
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False,
                          env=dict(os.environ, ANSIBLE_CONFIG=os.path.join(ROOT, "ansible.cfg"), NO_COLOR="1"))
    return proc.returncode, proc.stdout + proc.stderr


def test_ansible_lint_production_profile_is_clean():
    rc, output = run([os.path.join(BIN, "ansible-lint"), "--profile", "production", "--nocolor"])
    assert rc == 0, output


def test_ansible_test_sanity_is_clean():
    rc, output = run(["bash", "tests/sanity/run.sh"])
    assert rc == 0, output[-20000:]
