# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-core 2.19 on the controller (tests/matrix/core.py), for `make matrix`. `make test` leaves
this file out (pytest.ini): its own virtualenv has the same pins and runs the same three checks."""

from __future__ import annotations

from ansible_collections.redisops.redis.tests.matrix import core


class TestAnsibleCore(core.VersionTests):
    VERSION = "2.19"
