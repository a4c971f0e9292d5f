# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""ansible-core 2.20 on the controller (tests/matrix/core.py)."""

from __future__ import annotations

from ansible_collections.redisops.redis.tests.matrix import core


class TestAnsibleCore(core.VersionTests):
    VERSION = "2.20"
