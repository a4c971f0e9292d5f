# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-doc renders every module, and what it shows of each option is what the module validates.

The instances suboptions come from generated doc fragments (plugins/doc_fragments/connection.py):
this compares them, as ansible-doc merges them, with the argument_spec each module builds.
ansible-test sanity (validate-modules) says the same, minutes later.
"""

from __future__ import annotations

import glob
import json
import os
import subprocess
import sys

import pytest

from ansible.module_utils import basic

from ansible_collections.redisops.redis.plugins.modules import (
    aof_enable,
    failover,
    replication_check,
    replication_info,
    runtime_config,
)

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", "..", ".."))
MODULES = sorted(os.path.basename(path)[:-3] for path in glob.glob(os.path.join(ROOT, "plugins", "modules", "*.py")))
KEYS = ("type", "elements", "choices", "required", "aliases")


@pytest.fixture(scope="module")
def docs():
    """ansible-doc --json of every module of the collection, in one run."""
    command = [os.path.join(os.path.dirname(sys.executable), "ansible-doc"), "--json"]
    proc = subprocess.run(command + ["redisops.redis.%s" % module_name for module_name in MODULES], cwd=ROOT,
                          capture_output=True, text=True, check=False)
    assert proc.returncode == 0, proc.stderr
    return {full.rsplit(".", maxsplit=1)[-1]: entry["doc"] for full, entry in json.loads(proc.stdout).items()}


def name(module):
    return module.__name__.rsplit(".", maxsplit=1)[-1]


def argument_spec(module, monkeypatch):
    """The argument_spec module.main() builds."""
    class Built(Exception):
        pass

    def capture(self, argument_spec, **kwargs):
        raise Built(argument_spec)
    monkeypatch.setattr(basic.AnsibleModule, "__init__", capture)
    with pytest.raises(Built) as built:
        module.main()
    return built.value.args[0]


def shape(spec):
    """{name: (type, elements, choices, required, aliases, shape of its options)} of an argument_spec."""
    return {name: tuple(option.get(key) or None for key in KEYS) + (shape(option.get("options") or {}),)
            for name, option in spec.items()}


def documented(options):
    """The same shape, of the options as ansible-doc shows them."""
    return {name: tuple(option.get(key) or None for key in KEYS) + (documented(option.get("suboptions") or {}),)
            for name, option in options.items()}


def test_every_module_renders(docs):
    assert sorted(docs) == MODULES
    for name, doc in docs.items():
        assert doc["options"] and doc["short_description"], name


@pytest.mark.parametrize("module", [replication_info, replication_check, runtime_config, aof_enable, failover],
                         ids=name)
def test_the_documented_options_are_the_validated_ones(docs, module, monkeypatch):
    spec = argument_spec(module, monkeypatch)
    doc = docs[name(module)]
    assert documented(doc["options"]) == shape(spec)


@pytest.mark.parametrize("module", [replication_info, replication_check, runtime_config, aof_enable],
                         ids=name)
def test_every_item_of_instances_is_one_instance_of_the_member_spec(docs, module, monkeypatch):
    items = argument_spec(module, monkeypatch)["instances"]["options"]
    assert list(items)[:6] == ["instance", "login_host", "login_port", "login_unix_socket", "login_user",
                               "login_password"]
    assert items["login_password"]["no_log"] is True
    assert all("default" not in option for option in items.values())
    top = docs[name(module)]["options"]
    assert set(items) <= set(top), "an item option that is not a top-level option"
