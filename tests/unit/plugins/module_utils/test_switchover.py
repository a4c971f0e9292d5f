# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/switchover.py: the steps of a promotion, listed in the order they run, for the plain
path and the path through Sentinel, from one plan."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import Command
from ansible_collections.redisops.redis.plugins.module_utils.switchover import PLAIN_ORDER, SENTINEL_ORDER, Steps


def member(name, port, version, master_port=None, masterauth=""):
    state = ({"role": "master"} if master_port is None else
             {"role": "replica", "master_host": "127.0.0.1", "master_port": master_port, "master_link_status": "up"})
    return SimpleNamespace(name=name, host="127.0.0.1", port=port, server={"name": "redis", "version": version},
                           state=state, config={"masterauth": masterauth, "masteruser": "",
                                                "min-replicas-to-write": "0", "min-replicas-max-lag": "10",
                                                "min-slaves-to-write": "0", "min-slaves-max-lag": "10"})


def plan(version="7.0.15"):
    module = SimpleNamespace(params={"pause_timeout": 2, "masterauth": None, "login_password": "pw", "masteruser": None})
    master = member("m", 7000, version)
    target = member("t", 7001, version, 7000, masterauth="pw")
    other = member("s", 7002, version, 7000, masterauth="pw")
    return Steps(module, target, master, [other]), target, master


def test_the_plain_path_promotes_the_target_and_clears_its_credentials():
    steps, target, master = plan()
    assert steps.order() == PLAIN_ORDER
    assert steps.listed(target, master) == [
        "m - CLIENT PAUSE 2000 WRITE", "t - REPLICAOF NO ONE", "m - CONFIG SET masterauth ********",
        "m - REPLICAOF 127.0.0.1 7001", "m - CLIENT UNPAUSE", 't - CONFIG SET masterauth ""',
        "s - REPLICAOF 127.0.0.1 7001"]


@pytest.mark.parametrize("version, stop, verb, resume", [
    ("7.0.15", "CLIENT PAUSE 2000 WRITE", "REPLICAOF", "CLIENT UNPAUSE"),
    ("6.0.16", "CONFIG SET min-replicas-to-write 1000000", "REPLICAOF", "CONFIG SET min-replicas-to-write 0"),
    ("4.0.14", "CONFIG SET min-slaves-to-write 1000000", "SLAVEOF", "CONFIG SET min-slaves-to-write 0"),
])
def test_through_sentinel_the_failover_replaces_the_promotion_and_the_new_master_keeps_its_credentials(
        version, stop, verb, resume):
    steps, target, master = plan(version)
    steps.failover = ("Sentinel s1", Command(("SENTINEL", "FAILOVER", "main"), "SENTINEL FAILOVER main"))
    assert steps.order() == SENTINEL_ORDER
    assert steps.listed(target, master) == [
        "m - " + stop, "Sentinel s1 - SENTINEL FAILOVER main", "m - CONFIG SET masterauth ********",
        "m - %s 127.0.0.1 7001" % verb, "m - " + resume, "s - %s 127.0.0.1 7001" % verb]
