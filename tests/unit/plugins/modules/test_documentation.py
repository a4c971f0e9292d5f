# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Every module's DOCUMENTATION, EXAMPLES and RETURN parse as YAML, in seconds.

ansible-doc and ansible-test sanity say the same, minutes later: a ": " or " #" inside a plain
scalar is the usual cause (it ends the text or starts a mapping).
"""

from __future__ import annotations

import ast
import glob
import os

import pytest
import yaml

MODULES = os.path.join(os.path.dirname(__file__), "..", "..", "..", "..", "plugins", "modules")
SECTIONS = ("DOCUMENTATION", "EXAMPLES", "RETURN")


def sections(path):
    with open(path, encoding="utf-8") as handle:
        tree = ast.parse(handle.read())
    return {node.targets[0].id: node.value.value for node in tree.body
            if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", None) in SECTIONS}


@pytest.mark.parametrize("path", sorted(glob.glob(os.path.join(MODULES, "*.py"))), ids=os.path.basename)
def test_documentation_examples_and_return_are_yaml(path):
    found = sections(path)
    assert sorted(found) == sorted(SECTIONS)
    documentation = yaml.safe_load(found["DOCUMENTATION"])
    assert documentation["module"] == os.path.basename(path)[:-3]
    assert isinstance(yaml.safe_load(found["EXAMPLES"]), list)
    yaml.safe_load(found["RETURN"])
