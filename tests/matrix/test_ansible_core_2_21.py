# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-core 2.21 on the controller: units, site.yml on real servers, ansible-test sanity
(tests/matrix/core.py; one file per version so that parallel workers take one each)."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.tests.matrix import core

VERSION = "2.21"


@pytest.fixture(scope="module")
def controller():
    controller = core.Controller(VERSION).prepare()
    installed = controller.ansible_core_version()
    assert installed.startswith(VERSION + "."), "%s: the virtualenv has ansible-core %s" % (controller.name, installed)
    return controller


def test_units(controller):
    core.check_units(controller)


def test_site_deploys_verifies_and_changes_nothing_the_second_time(controller):
    core.check_site(controller)


def test_sanity(controller):
    core.check_sanity(controller)
