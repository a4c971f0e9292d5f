# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""redisops.redis.runtime_config against real redis-server processes, through ansible-playbook."""

from __future__ import annotations

import json

import pytest
import redis

from harness import run_module, wait_until

PASSWORD = "Pw-master-4d1c9e"
NEW_PASSWORD = "Pw-new-8b27f0"
MASK = "********"


def login(server, password=None):
    return dict(login_port=server.port, login_password=password or server.password)


def run_id(server):
    return server.client().info("server")["run_id"]


def replicating_from(server, master):
    """True once server is a replica of master with the link up."""
    info = server.client().info("replication")
    return info["role"] == "slave" and info["master_port"] == master.port and info["master_link_status"] == "up"


def state(server):
    """Everything the module could change: the whole CONFIG GET and the replication source."""
    client = server.client()
    info = client.info("replication")
    return client.config_get("*"), info["role"], info.get("master_host"), info.get("master_port")


def assert_never_shown(result, *secrets):
    shown = result["_stdout"] + json.dumps(result)
    for secret in secrets:
        assert secret not in shown


def start_replica(redis_server, master):
    replica = redis_server(args=["--replicaof", "127.0.0.1", str(master.port)]
                           + (["--masterauth", master.password] if master.password else []))
    wait_until(lambda: replicating_from(replica, master), what="replica linked to port %d" % master.port)
    return replica


def test_repoints_a_replica_to_another_master_without_restart(redis_server):
    master_a, master_b = redis_server(), redis_server()
    master_b.client().set("written-on", "b")
    replica = start_replica(redis_server, master_a)
    before = run_id(replica)
    args = dict(login(replica), role="replica", master_host="127.0.0.1", master_port=master_b.port)

    result = run_module("runtime_config", args)

    assert not result.get("failed"), result
    assert result["changed"] is True
    assert result["commands"] == ["REPLICAOF 127.0.0.1 %d" % master_b.port]
    wait_until(lambda: replicating_from(replica, master_b), what="replica linked to master B")
    assert replica.client().get("written-on") == "b"
    assert run_id(replica) == before
    again = run_module("runtime_config", args)
    assert (again["changed"], again["commands"]) == (False, [])


def test_promotes_a_replica_to_master(redis_server):
    master = redis_server()
    replica = start_replica(redis_server, master)
    before = run_id(replica)

    result = run_module("runtime_config", dict(login(replica), role="master"))

    assert result["commands"] == ["REPLICAOF NO ONE"]
    assert replica.client().info("replication")["role"] == "master"
    assert run_id(replica) == before
    assert run_module("runtime_config", dict(login(replica), role="master"))["changed"] is False


def test_masterauth_brings_up_the_link_to_a_password_protected_master(redis_server):
    master = redis_server(password=PASSWORD)
    # Without masterauth the replica cannot authenticate: the link stays down.
    replica = redis_server(args=["--replicaof", "127.0.0.1", str(master.port)])
    args = dict(login(replica), role="replica", master_host="127.0.0.1", master_port=master.port,
                config={"masteruser": "default", "replica-read-only": True}, secret_config={"masterauth": PASSWORD})

    result = run_module("runtime_config", args, diff=True)

    assert not result.get("failed"), result
    assert result["commands"] == ["CONFIG SET masteruser default", "CONFIG SET masterauth " + MASK]
    assert result["diff"]["before"] == {"masteruser": "", "replica-read-only": "yes", "masterauth": MASK,
                                        "replicaof": "127.0.0.1 %d" % master.port}
    assert result["diff"]["after"]["masterauth"] == MASK + " (changed)"
    assert MASK + " (changed)" in result["_stdout"]  # the diff is printed, masked
    assert_never_shown(result, PASSWORD)
    wait_until(lambda: replicating_from(replica, master), what="replica linked with masterauth")
    again = run_module("runtime_config", args, diff=True)
    assert (again["changed"], again["diff"]["after"]["masterauth"]) == (False, MASK + " (unchanged)")
    assert_never_shown(again, PASSWORD)


def connections_received(server, password):
    return int(server.client(password=password).info("stats")["total_connections_received"])


def test_changes_requirepass_live_logging_in_with_a_previous_password(redis_server):
    server = redis_server(password=PASSWORD)
    before = run_id(server)
    args = dict(login(server, NEW_PASSWORD), previous_passwords=[PASSWORD], role="master",
                secret_config={"requirepass": NEW_PASSWORD})
    connections = connections_received(server, PASSWORD)

    result = run_module("runtime_config", args, diff=True)

    # The new password refused, the previous one accepted, and that client does the rest: two
    # connections of the module's (the one that counted them is the third).
    assert connections_received(server, NEW_PASSWORD) - connections == 3

    assert not result.get("failed"), result
    assert result["commands"] == ["CONFIG SET requirepass " + MASK]
    assert server.client(password=NEW_PASSWORD).ping()
    with pytest.raises(redis.AuthenticationError):
        server.client(password=PASSWORD).ping()
    assert server.client(password=NEW_PASSWORD).info("server")["run_id"] == before
    assert_never_shown(result, PASSWORD, NEW_PASSWORD)
    assert run_module("runtime_config", args)["changed"] is False


def test_fails_when_no_password_is_accepted(redis_server):
    server = redis_server(password=PASSWORD)

    result = run_module("runtime_config", dict(login(server, "wrong-1"), previous_passwords=["wrong-2"], role="master"))

    assert result["failed"] is True
    assert result["msg"] == ("127.0.0.1:%d refused the login of user 'default' with login_password and the 1 "
                             "previous_passwords: invalid username-password pair or user is disabled. "
                             "Fix: give login_password the password the instance has, or list it in previous_passwords "
                             "(server role: redis_server_password or the instance's password, and "
                             "redis_server_previous_passwords)." % server.port)


def test_check_mode_reports_changes_and_applies_none(redis_server):
    master_a, master_b = redis_server(password=PASSWORD), redis_server(password=NEW_PASSWORD)
    replica = start_replica(redis_server, master_a)
    args = dict(login(replica), role="replica", master_host="127.0.0.1", master_port=master_b.port,
                config={"replica-read-only": "no"}, secret_config={"masterauth": NEW_PASSWORD})
    expected = ["CONFIG SET replica-read-only no", "CONFIG SET masterauth " + MASK,
                "REPLICAOF 127.0.0.1 %d" % master_b.port]
    untouched = state(replica)

    checked = run_module("runtime_config", args, check=True, diff=True)

    assert (checked["changed"], checked["commands"]) == (True, expected)
    assert state(replica) == untouched
    applied = run_module("runtime_config", args)
    assert (applied["changed"], applied["commands"]) == (True, expected)
    assert state(replica) != untouched
    for check in (True, False):
        again = run_module("runtime_config", args, check=check)
        assert (again["changed"], again["commands"]) == (False, [])


def test_unknown_directive_fails_naming_it_and_changes_nothing(redis_server):
    master, other = redis_server(), redis_server()
    version = master.client().info("server")["redis_version"]
    untouched = state(master)

    result = run_module("runtime_config", dict(
        login(master), role="replica", master_host="127.0.0.1", master_port=other.port,
        config={"replica-read-only": "no", "no-such-directive": "1"}))

    assert result["failed"] is True
    assert "no-such-directive" in result["msg"]
    assert "redis %s does not know" % version in result["msg"]
    assert "Nothing was changed" in result["msg"]
    assert state(master) == untouched


def test_warns_when_a_master_holding_keys_becomes_a_replica(redis_server):
    master, new_master = redis_server(), redis_server()
    master.client().set("precious", "1")

    result = run_module("runtime_config", dict(login(master), role="replica", master_host="127.0.0.1",
                                               master_port=new_master.port))

    assert result["changed"] is True
    assert any("master holding 1 key(s)" in warning for warning in result["warnings"])
    wait_until(lambda: replicating_from(master, new_master), what="former master linked to the new master")


def test_refused_command_fails_saying_what_was_already_applied(redis_server):
    server = redis_server()

    result = run_module("runtime_config", dict(login(server), role="master",
                                               config={"masteruser": "repl", "replica-priority": "high"}))

    assert result["failed"] is True
    assert "refused CONFIG SET replica-priority high" in result["msg"]
    assert "Applied before it: CONFIG SET masteruser repl." in result["msg"]
    assert result["commands"] == ["CONFIG SET masteruser repl"]
    assert server.client().config_get("masteruser") == {"masteruser": "repl"}
