# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The failover module's order of commands against fake servers, for the paths real servers
rarely take: a replica that does not catch up, servers before 6.2, a refused promotion.
"""

from __future__ import annotations

import pytest
from ansible.module_utils.common import arg_spec
import redis
from ansible.module_utils.basic import AnsibleModule
from ansible_collections.redisops.redis.tests.unit.compat import patch_module_args

from ansible_collections.redisops.redis.plugins.modules import failover

SECRET = "s3cret-Value"


class ModuleExit(Exception):
    def __init__(self, result):
        super().__init__(result)
        self.result = result


class FakeServer:
    """Answers INFO, CONFIG GET and the commands the module runs, recording them in log."""

    def __init__(self, port, log, version="7.0.15", master=None, offset=1000, catch_up=True):
        self.port = port
        self.log = log
        self.version = version
        self.master = master
        self.offset = offset
        self.catch_up = catch_up
        self.config = {"masterauth": SECRET if master else "", "masteruser": "",
                       "min-replicas-to-write": "0", "min-replicas-max-lag": "10"}
        self.group = None
        self.link = "up"

    def ping(self):
        return True

    def close(self):
        pass

    def info(self, section):
        if section == "server":
            return "# Server\r\nredis_version:%s\r\n" % self.version
        if self.master is None:
            return "# Replication\r\nrole:master\r\nconnected_slaves:0\r\nmaster_repl_offset:%d\r\n" % self.offset
        source = self.group.get(self.master[1])
        if self.catch_up and source is not None:
            self.offset = max(self.offset, source.offset)
        return ("# Replication\r\nrole:slave\r\nmaster_host:%s\r\nmaster_port:%d\r\nmaster_link_status:%s\r\n"
                "master_sync_in_progress:0\r\nslave_repl_offset:%d\r\nmaster_replid:%s\r\nmaster_repl_offset:%d\r\n"
                % (self.master + (self.link, self.offset, "a" * 40, self.offset)))

    def config_get(self, name):
        return {name: self.config[name]} if name in self.config else {}

    def execute_command(self, *args):
        self.log.append((self.port, " ".join(args)))
        if args[0] in ("REPLICAOF", "SLAVEOF"):
            self.master = None if args[1:] == ("NO", "ONE") else (args[1], int(args[2]))
        elif args[:2] == ("CONFIG", "SET"):
            self.config[args[2]] = args[3]
        return "OK"


def group(version="7.0.15", catch_up=True):
    log = []
    servers = {
        7000: FakeServer(7000, log, version),
        7001: FakeServer(7001, log, version, master=("127.0.0.1", 7000), offset=900, catch_up=catch_up),
        7002: FakeServer(7002, log, version, master=("127.0.0.1", 7000), offset=900),
    }
    for server in servers.values():
        server.group = servers
    return servers, log


class Down:
    """A server that is not running: the connection is refused."""

    def ping(self):
        raise redis.ConnectionError("Error 111 connecting to 127.0.0.1:7000. Connection refused.")

    def close(self):
        pass


def crashed(catch_up=True):
    """The group after its master 7000 died: 7001 and 7002 hold its stream up to 900, links down."""
    servers, log = group(catch_up=catch_up)
    del servers[7000]
    for server in servers.values():
        server.link = "down"
    return servers, log


ARGS = dict(
    instance="t", login_port=7001, login_password=SECRET, pause_timeout=2,
    master=dict(instance="m", login_host="127.0.0.1", login_port=7000),
    replicas=[dict(instance="s", login_host="127.0.0.1", login_port=7002)],
)


@pytest.fixture
def run(monkeypatch):
    def run_module(servers, check_mode=False, **changes):
        def exit_json(self, **result):
            raise ModuleExit(dict(result, failed=False))

        def fail_json(self, msg, **result):
            raise ModuleExit(dict(result, failed=True, msg=msg))

        monkeypatch.setattr(AnsibleModule, "exit_json", exit_json)
        monkeypatch.setattr(AnsibleModule, "fail_json", fail_json)
        monkeypatch.setattr(failover, "connect",
                            lambda module, params=None: servers[(params or module.params)["login_port"]])
        monkeypatch.setattr(failover, "open_client", lambda params: servers.get(params["login_port"]) or Down())
        args = dict(ARGS, **changes)
        if check_mode:
            args["_ansible_check_mode"] = True
        with patch_module_args(args), pytest.raises(ModuleExit) as raised:
            failover.main()
        return raised.value.result
    return run_module


def test_promotion_pauses_promotes_demotes_resumes_then_re_points(run):
    servers, log = group()
    result = run(servers)
    assert not result["failed"], result
    assert log == [
        (7000, "CLIENT PAUSE 2000 WRITE"),
        (7001, "REPLICAOF NO ONE"),
        (7000, "CONFIG SET masterauth %s" % SECRET),
        (7000, "REPLICAOF 127.0.0.1 7001"),
        (7000, "CLIENT UNPAUSE"),
        (7001, 'CONFIG SET masterauth '),
        (7002, "REPLICAOF 127.0.0.1 7001"),
    ]
    assert result["changed"] and result["action"] == "promote"
    assert result["offset"] == 1000
    assert result["writes_stopped"]["method"] == "pause"
    assert result["commands"][2] == "m - CONFIG SET masterauth ********"
    assert SECRET not in repr(result)
    assert result["after"] == {"t": "master", "m": "replica of 127.0.0.1:7001", "s": "replica of 127.0.0.1:7001"}


def test_the_old_member_names_still_work_and_are_deprecated(run, monkeypatch):
    recorded = []
    monkeypatch.setattr(arg_spec, "deprecate", lambda msg, **kwargs: recorded.append(msg))
    servers, log = group()
    result = run(servers, master=dict(name="m", host="127.0.0.1", port=7000),
                 replicas=[dict(name="s", host="127.0.0.1", port=7002, password=SECRET)])
    assert not result["failed"], result
    assert result["after"] == {"t": "master", "m": "replica of 127.0.0.1:7001", "s": "replica of 127.0.0.1:7001"}
    deprecated = " ".join(recorded)
    for name in ("master.name", "master.host", "master.port", "replicas[0].password"):
        assert "Alias '%s' is deprecated" % name in deprecated, deprecated


def test_a_second_run_changes_nothing(run):
    servers, log = group()
    run(servers)
    del log[:]
    result = run(servers)
    assert (result["failed"], result["changed"], result["action"], log) == (False, False, "none", [])


def test_check_mode_lists_the_commands_and_runs_none(run):
    servers, log = group()
    result = run(servers, check_mode=True)
    assert result["changed"] and log == []
    assert result["commands"] == ["m - CLIENT PAUSE 2000 WRITE", "t - REPLICAOF NO ONE",
                                  "m - CONFIG SET masterauth ********", "m - REPLICAOF 127.0.0.1 7001",
                                  "m - CLIENT UNPAUSE", 't - CONFIG SET masterauth ""', "s - REPLICAOF 127.0.0.1 7001"]


def test_a_replica_that_does_not_catch_up_is_not_promoted_and_writes_resume(run):
    servers, log = group(catch_up=False)
    result = run(servers, pause_timeout=1.2)
    assert result["failed"]
    assert "t did not catch up with m within 1.2s (offset 900 of 1000)" in result["msg"]
    assert "nothing was lost" in result["msg"]
    assert log == [(7000, "CLIENT PAUSE 1200 WRITE"), (7000, "CLIENT UNPAUSE")]
    assert servers[7001].master == ("127.0.0.1", 7000)


def test_before_6_2_writes_are_fenced_and_the_fence_lifted(run):
    servers, log = group(version="6.0.16")
    result = run(servers)
    assert not result["failed"], result
    assert log[0] == (7000, "CONFIG SET min-replicas-to-write 1000000")
    assert (7000, "CONFIG SET min-replicas-to-write 0") in log
    assert log.index((7000, "REPLICAOF 127.0.0.1 7001")) < log.index((7000, "CONFIG SET min-replicas-to-write 0"))
    assert result["writes_stopped"]["method"] == "fence"


def test_redis_4_uses_slaveof(run):
    servers, log = group(version="4.0.6")
    for server in servers.values():
        server.config = {"masterauth": "", "min-slaves-to-write": "0", "min-slaves-max-lag": "10"}
    result = run(servers)
    assert not result["failed"], result
    assert (7001, "SLAVEOF NO ONE") in log and (7002, "SLAVEOF 127.0.0.1 7001") in log


def test_a_target_that_is_not_a_replica_of_the_master_is_refused_before_any_change(run):
    servers, log = group()
    servers[7001].master = ("127.0.0.1", 7002)
    result = run(servers)
    assert result["failed"] and log == []
    assert "t (127.0.0.1:7001) is a replica of 127.0.0.1:7002 (link up), not a replica of the master m" in result["msg"]


def test_pause_timeout_must_be_positive(run):
    servers, log = group()
    result = run(servers, pause_timeout=0)
    assert result["failed"] and "pause_timeout must be a positive number" in result["msg"] and log == []


def test_unplanned_promotes_the_target_and_re_points_the_others_without_touching_the_dead_master(run):
    servers, log = crashed()
    servers[7002].offset = 850
    result = run(servers, unplanned=True)
    assert not result["failed"], result
    assert log == [(7001, "REPLICAOF NO ONE"), (7001, "CONFIG SET masterauth "),
                   (7002, "REPLICAOF 127.0.0.1 7001")]
    assert result["action"] == "promote" and result["offset"] == 900
    assert result["before"]["m"].startswith("down (Error 111")
    assert result["after"]["m"] == "down; must start as a replica of 127.0.0.1:7001"
    assert SECRET not in repr(result)


def test_unplanned_again_changes_nothing(run):
    servers, log = crashed()
    run(servers, unplanned=True)
    del log[:]
    result = run(servers, unplanned=True)
    assert (result["failed"], result["changed"], result["action"], log) == (False, False, "none", [])


def test_unplanned_check_mode_lists_the_commands_and_runs_none(run):
    servers, log = crashed()
    result = run(servers, check_mode=True, unplanned=True)
    assert result["changed"] and log == []
    assert result["commands"] == ["t - REPLICAOF NO ONE", 't - CONFIG SET masterauth ""',
                                  "s - REPLICAOF 127.0.0.1 7001"]


def test_unplanned_refuses_a_target_behind_another_replica(run):
    servers, log = crashed()
    servers[7002].offset = 950
    result = run(servers, unplanned=True)
    assert result["failed"] and log == []
    assert "t is at replication offset 900, behind s at offset 950" in result["msg"]


def test_unplanned_refuses_while_the_master_answers(run):
    servers, log = group()
    result = run(servers, unplanned=True)
    assert result["failed"] and log == []
    assert "m (127.0.0.1:7000) answers, as a master: the unplanned failover is for a master that is down" in result["msg"]


def test_unplanned_refuses_while_a_replica_is_still_linked_to_the_master(run):
    servers, log = crashed()
    servers[7002].link = "up"
    result = run(servers, unplanned=True)
    assert result["failed"] and log == []
    assert "s (127.0.0.1:7002) is linked to m (127.0.0.1:7000) right now" in result["msg"]
