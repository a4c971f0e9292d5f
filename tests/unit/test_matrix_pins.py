"""The ansible-core matrix's pins and files agree with each other and with `make test`.

Every version of the Makefile's MATRIX has a requirements file that pins an ansible-core of that
version and a test file of its own; `make test` (pytest.ini's testpaths) runs every one of those files
but the one whose pins are the main virtualenv's (requirements.txt), which the whole suite stands in for.
"""

from __future__ import annotations

import configparser
import os
import re

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def read(*path):
    with open(os.path.join(ROOT, *path), encoding="utf-8") as handle:
        return handle.read()


def pins(*path):
    """{package: version} of a requirements file's `name==version` lines."""
    return dict(re.findall(r"^([A-Za-z0-9_.-]+)==(\S+)", read(*path), re.M))


def matrix_versions():
    return re.search(r"^MATRIX \?= (.+)$", read("Makefile"), re.M).group(1).split()


def test_every_version_pins_its_own_ansible_core_and_has_a_test_file():
    for version in matrix_versions():
        pinned = pins("requirements", "ansible-core-%s.txt" % version)["ansible-core"]
        assert pinned.startswith(version + "."), (version, pinned)
        test_file = os.path.join("tests", "matrix", "test_ansible_core_%s.py" % version.replace(".", "_"))
        assert 'VERSION = "%s"' % version in read(test_file), test_file


def test_make_test_runs_every_version_but_the_main_virtualenvs():
    parser = configparser.ConfigParser()
    parser.read(os.path.join(ROOT, "pytest.ini"))
    listed = set(parser["pytest"]["testpaths"].split())
    main = pins("requirements.txt")
    skipped = []
    for version in matrix_versions():
        test_file = "tests/matrix/test_ansible_core_%s.py" % version.replace(".", "_")
        if test_file not in listed:
            skipped.append(version)
            # Left out only where the main run has the very same controller.
            assert pins("requirements", "ansible-core-%s.txt" % version)["ansible-core"] == main["ansible-core"], version
            assert pins("requirements", "ansible-core-%s.txt" % version)["redis"] == main["redis"], version
    assert len(skipped) <= 1, skipped
