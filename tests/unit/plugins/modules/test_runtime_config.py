# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The runtime_config module against a fake client answering with recorded INFO output.

Covers the servers the integration tests cannot start (Redis 4, Valkey): what the module asks
with CONFIG GET and what it runs.
"""

from __future__ import annotations

import json
import os

import pytest
import redis
from ansible_collections.redisops.redis.tests.unit.compat import patch_module_args

from ansible_collections.redisops.redis.plugins.module_utils import connection
from ansible_collections.redisops.redis.plugins.modules import runtime_config

INFO_DIR = os.path.join(os.path.dirname(__file__), "..", "..", "fixtures", "info")


def recorded(name):
    with open(os.path.join(INFO_DIR, name)) as handle:
        return handle.read()


# The 4.0 samples hold INFO replication only; 4.0.6 is the version they were taken from.
REDIS_4_REPLICA = "# Server\nredis_version:4.0.6\n" + recorded("redis-4.0-replica.txt")
VALKEY_REPLICA = recorded("valkey-8.1-replica.txt")


class FakeClient:
    """Answers INFO with one recorded text whatever the section, and CONFIG GET from a dict."""

    def __init__(self, info_text, config):
        self.info_text = info_text
        self.config = config
        self.asked = []
        self.executed = []

    def info(self, section):
        return self.info_text

    def config_get(self, name):
        self.asked.append(name)
        return {name: self.config[name]} if name in self.config else {}

    def execute_command(self, *args):
        self.executed.append(args)
        return "OK"

    def close(self):
        pass


def run(monkeypatch, capsys, client, **args):
    monkeypatch.setattr(runtime_config, "login", lambda params, previous_passwords=(): client
                        if not isinstance(client, dict) else client[params["login_port"]])
    with patch_module_args(args):
        with pytest.raises(SystemExit):
            runtime_config.main()
    return json.loads(capsys.readouterr().out)


def test_redis_4_gets_slave_names_and_slaveof(monkeypatch, capsys):
    client = FakeClient(REDIS_4_REPLICA, {"slave-read-only": "yes", "masterauth": ""})

    result = run(monkeypatch, capsys, client, role="replica", master_host="127.0.0.1", master_port=6380,
                 config={"replica-read-only": "no"}, secret_config={"masterauth": "pw-4f1a"})

    assert client.asked == ["slave-read-only", "masterauth"]
    assert client.executed == [("CONFIG", "SET", "slave-read-only", "no"), ("CONFIG", "SET", "masterauth", "pw-4f1a"),
                               ("SLAVEOF", "127.0.0.1", "6380")]
    assert result["commands"] == ["CONFIG SET slave-read-only no", "CONFIG SET masterauth ********",
                                  "SLAVEOF 127.0.0.1 6380"]
    assert result["changed"] is True


def test_check_mode_runs_nothing(monkeypatch, capsys):
    client = FakeClient(REDIS_4_REPLICA, {})

    result = run(monkeypatch, capsys, client, role="master", _ansible_check_mode=True)

    assert (result["changed"], result["commands"]) == (True, ["SLAVEOF NO ONE"])
    assert client.executed == []


def test_valkey_gets_replicaof_and_is_named_in_errors(monkeypatch, capsys):
    client = FakeClient(VALKEY_REPLICA, {"replica-read-only": "yes"})

    promoted = run(monkeypatch, capsys, client, role="master", config={"replica-read-only": "yes"})
    failed = run(monkeypatch, capsys, client, role="master", config={"no-such-directive": "1"})

    assert promoted["commands"] == ["REPLICAOF NO ONE"]
    assert "valkey 8.1.1 does not know the directive(s) no-such-directive" in failed["msg"]
    assert client.executed == [("REPLICAOF", "NO", "ONE")]


def test_several_instances_in_one_call_go_on_after_one_fails(monkeypatch, capsys):
    clients = {6380: FakeClient(VALKEY_REPLICA, {"replica-read-only": "yes"}),
               6381: FakeClient(VALKEY_REPLICA, {}),
               6382: FakeClient(REDIS_4_REPLICA, {"masterauth": ""})}
    result = run(monkeypatch, capsys, clients, secret_config={"masterauth": "pw-4f1a"}, instances=[
        {"instance": "promoted", "login_port": 6380, "role": "master", "config": {"replica-read-only": "yes"},
         "secret_config": {}},
        {"instance": "unknown", "login_port": 6381, "role": "master", "config": {"no-such-directive": "1"},
         "secret_config": {}},
        {"instance": "old", "login_port": 6382, "role": "replica", "master_host": "127.0.0.1", "master_port": 6380},
    ])
    promoted, unknown, old = result["instances"]
    assert result["failed"] is True and result["changed"] is True
    assert result["msg"].startswith("unknown: 127.0.0.1:6381: valkey 8.1.1 does not know the directive(s) "
                                    "no-such-directive: CONFIG GET returned nothing.")
    assert (promoted["instance"], promoted["commands"]) == ("promoted", ["REPLICAOF NO ONE"])
    assert unknown["failed"] is True and unknown["commands"] == []
    assert old["commands"] == ["CONFIG SET masterauth ********", "SLAVEOF 127.0.0.1 6380"]
    assert clients[6382].executed[-1] == ("SLAVEOF", "127.0.0.1", "6380")
    assert "pw-4f1a" not in json.dumps(result)


def test_the_single_instance_form_is_the_one_item_list(monkeypatch, capsys):
    args = dict(role="replica", master_host="127.0.0.1", master_port=6380, config={"replica-read-only": "no"})
    single = run(monkeypatch, capsys, FakeClient(REDIS_4_REPLICA, {"slave-read-only": "yes"}), **args)
    listed = run(monkeypatch, capsys, FakeClient(REDIS_4_REPLICA, {"slave-read-only": "yes"}),
                 instances=[dict(args, login_port=6379)])
    [item] = listed["instances"]
    assert {key: single[key] for key in item} == item
    assert single["instance"] == "127.0.0.1:6379"


def test_a_previous_password_logs_in_on_one_client_that_then_changes_requirepass(monkeypatch, capsys):
    """The refused login's connection is closed; the accepted one reads and applies, no second client."""
    opened = []

    class Server(FakeClient):
        def __init__(self, password):
            super().__init__(VALKEY_REPLICA, {"requirepass": "old"})
            self.password, self.closed = password, False
            opened.append(self)

        def ping(self):
            if self.password != "old":
                raise redis.AuthenticationError("invalid username-password pair or user is disabled.")
            return True

        def close(self):
            self.closed = True

        def acl_getuser(self, name):
            return {"passwords": [], "flags": ["on"]}

    monkeypatch.setattr(connection, "open_client", lambda params: Server(params["login_password"]))
    with patch_module_args(dict(role="master", login_password="new", previous_passwords=["older", "old"],
                                secret_config={"requirepass": "new"})):
        with pytest.raises(SystemExit):
            runtime_config.main()
    result = json.loads(capsys.readouterr().out)
    assert not result.get("failed"), result
    assert [server.password for server in opened] == ["new", "older", "old"]
    assert all(server.closed for server in opened)
    assert ("CONFIG", "SET", "requirepass", "new") in opened[2].executed
    assert not opened[0].executed and not opened[1].executed


def test_a_refused_login_fails_with_the_one_message(monkeypatch, capsys):
    class Refusing(FakeClient):
        def ping(self):
            raise redis.AuthenticationError("invalid username-password pair or user is disabled.")

    monkeypatch.setattr(connection, "open_client", lambda params: Refusing(VALKEY_REPLICA, {}))
    with patch_module_args(dict(role="master", login_port=6390, login_password="new", previous_passwords=["old"])):
        with pytest.raises(SystemExit):
            runtime_config.main()
    result = json.loads(capsys.readouterr().out)
    assert result["failed"] is True and result["commands"] == []
    assert result["msg"] == ("127.0.0.1:6390 refused the login of user 'default' with login_password and the 1 "
                             "previous_passwords: invalid username-password pair or user is disabled. "
                             "Fix: give login_password the password the instance has, or list it in previous_passwords "
                             "(server role: redis_server_password or the instance's password, and "
                             "redis_server_previous_passwords).")
