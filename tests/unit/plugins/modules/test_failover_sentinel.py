# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover module's switchover through Sentinel (option sentinel) against fake servers and
fake Sentinels: the commands check mode lists are the commands a real run runs, in the same order;
the refusals before any change. tests/integration/test_sentinel_follow.py runs it against real ones.
"""

from __future__ import annotations

import pytest
import redis

from ansible_collections.redisops.redis.plugins.modules import failover
from ansible_collections.redisops.redis.tests.unit.plugins.modules.test_failover import ARGS, SECRET, group

SENTINEL_SECRET = "sentinel-S3cret"
GROUP = "main"


class FakeSentinel:
    """Answers GET-MASTER-ADDR-BY-NAME and REPLICAS of GROUP over the fake servers; SENTINEL FAILOVER
    promotes the replica with the lowest priority (as Sentinel does), recording the command in log."""

    def __init__(self, port, servers, log, priorities, state):
        self.port = port
        self.servers = servers
        self.log = log
        self.priorities = priorities
        self.state = state  # shared by the group's Sentinels: {"master": port}
        self.monitors = True

    def ping(self):
        return True

    def close(self):
        pass

    def execute_command(self, *args):
        if args == ("SENTINEL", "GET-MASTER-ADDR-BY-NAME", GROUP):
            return [b"127.0.0.1", str(self.state["master"]).encode()] if self.monitors else None
        if args == ("SENTINEL", "REPLICAS", GROUP):
            return [[b"ip", b"127.0.0.1", b"port", str(port).encode(), b"flags", b"slave",
                     b"slave-priority", str(self.priorities[port]).encode()]
                    for port, server in sorted(self.servers.items()) if server.master is not None]
        if args == ("SENTINEL", "FAILOVER", GROUP):
            self.log.append((self.port, " ".join(args)))
            chosen = min(self.priorities, key=lambda port: self.priorities[port])
            self.servers[chosen].master = None
            self.state["master"] = chosen
            return "OK"
        raise AssertionError("unexpected Sentinel command %r" % (args,))


SENTINEL = dict(group=GROUP, login_password=SENTINEL_SECRET,
                instances=[dict(instance="s%d" % number, login_port=26000 + number) for number in (1, 2, 3)])


class DownSentinel:
    """A Sentinel that is not running: the connection is refused."""

    def ping(self):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1. Connection refused.")

    def close(self):
        pass


@pytest.fixture
def bed(run_main):
    """The fake group of test_failover (m 7000, t 7001, s 7002) and three fake Sentinels of it,
    reached through the real login() of module_utils/connection (conftest's run_main)."""
    servers, log = group()
    state = {"master": 7000}
    priorities = {7001: 10, 7002: 100}
    sentinels = {26000 + number: FakeSentinel(26000 + number, servers, log, priorities, state) for number in (1, 2, 3)}
    clients = dict(servers)
    clients.update(sentinels)

    def run(check_mode=False, **changes):
        args = dict(ARGS, sentinel=SENTINEL, **changes)
        if check_mode:
            args["_ansible_check_mode"] = True
        return run_main(failover, args, client=clients)

    def down(port):
        clients[port] = DownSentinel()

    return dict(run=run, servers=servers, log=log, sentinels=sentinels, priorities=priorities, state=state,
                down=down)


def test_check_mode_lists_the_commands_a_run_runs_in_the_same_order(bed):
    planned = bed["run"](check_mode=True)
    assert not planned["failed"], planned
    assert bed["log"] == [] and bed["state"]["master"] == 7000
    assert planned["commands"] == [
        "m - CLIENT PAUSE 2000 WRITE",
        "Sentinel s1 - SENTINEL FAILOVER main",
        "m - CONFIG SET masterauth ********",
        "m - REPLICAOF 127.0.0.1 7001",
        "m - CLIENT UNPAUSE",
        "s - REPLICAOF 127.0.0.1 7001",
    ]
    done = bed["run"]()
    assert not done["failed"], done
    assert done["commands"] == planned["commands"]
    assert bed["log"] == [
        (7000, "CLIENT PAUSE 2000 WRITE"),
        (26001, "SENTINEL FAILOVER main"),
        (7000, "CONFIG SET masterauth %s" % SECRET),
        (7000, "REPLICAOF 127.0.0.1 7001"),
        (7000, "CLIENT UNPAUSE"),
        (7002, "REPLICAOF 127.0.0.1 7001"),
    ]
    assert done["action"] == "promote" and done["changed"]
    assert done["sentinel"] == {"group": GROUP, "asked": "s1", "votes": 3, "sentinels": 3}
    assert done["offset"] == 1000 and done["writes_stopped"]["method"] == "pause"
    assert SECRET not in repr(done) and SENTINEL_SECRET not in repr(done)


def test_the_new_master_keeps_its_credentials_through_sentinel(bed):
    done = bed["run"]()
    assert not done["failed"], done
    assert not any(port == 7001 for port, _command in bed["log"])
    assert bed["servers"][7001].config["masterauth"] == SECRET


def test_a_second_run_changes_nothing(bed):
    bed["run"]()
    del bed["log"][:]
    again = bed["run"]()
    assert (again["failed"], again["changed"], again["action"], bed["log"]) == (False, False, "none", [])


def test_the_sentinel_asked_is_the_first_that_answers(bed):
    bed["down"](26001)
    planned = bed["run"](check_mode=True)
    assert not planned["failed"], planned
    assert "Sentinel s2 - SENTINEL FAILOVER main" in planned["commands"]
    done = bed["run"]()
    assert not done["failed"], done
    assert done["commands"] == planned["commands"] and (26002, "SENTINEL FAILOVER main") in bed["log"]
    assert done["sentinel"] == {"group": GROUP, "asked": "s2", "votes": 2, "sentinels": 3}


def test_sentinels_without_a_majority_on_the_master_refuse_before_any_change(bed):
    bed["sentinels"][26001].monitors = False
    bed["sentinels"][26002].monitors = False
    result = bed["run"]()
    assert result["failed"]
    assert result["msg"].startswith("The Sentinels of group 'main' do not agree that m (127.0.0.1:7000) is its master: "
                                    "s1: does not monitor the group; s2: does not monitor the group; "
                                    "s3: 127.0.0.1:7000. Nothing was changed."), result["msg"]
    assert bed["log"] == []


def test_a_rival_replica_with_the_same_priority_is_refused_before_any_change(bed):
    bed["priorities"][7002] = 10
    result = bed["run"]()
    assert result["failed"]
    assert "SENTINEL FAILOVER main would not surely promote 127.0.0.1:7001: 127.0.0.1:7002 has" in result["msg"]
    assert bed["log"] == []


def test_a_replica_sentinel_may_promote_outside_the_failover_is_refused(bed):
    result = bed["run"](replicas=[])
    assert result["failed"]
    assert ("Sentinel s1 may promote 127.0.0.1:7002 in group 'main', which is not an instance of this failover"
            in result["msg"]), result["msg"]
    assert bed["log"] == []


def test_a_replica_that_does_not_catch_up_asks_for_no_failover(bed):
    bed["servers"][7002].catch_up = False
    result = bed["run"](pause_timeout=1.2)
    assert result["failed"]
    assert "s did not catch up with m within 1.2s (offset 900 of 1000): Sentinel might promote it." in result["msg"]
    assert bed["log"] == [(7000, "CLIENT PAUSE 1200 WRITE"), (7000, "CLIENT UNPAUSE")]
    assert bed["state"]["master"] == 7000


def test_unplanned_and_sentinel_exclude_each_other(bed):
    result = bed["run"](unplanned=True)
    assert result["failed"]
    assert result["msg"].startswith("unplanned and sentinel exclude each other: the Sentinels of group 'main'")
