# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""module_utils/sentinel_switch.py: the one ask of a group's Sentinels (fake clients; the TCP probe
against real sockets), the Sentinels' connection options, the SENTINEL FAILOVER step."""

from __future__ import annotations

import socket

import pytest
import redis

from ansible_collections.redisops.redis.plugins.module_utils import sentinel_switch
from ansible_collections.redisops.redis.plugins.module_utils.connection import LoginError
from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import DecisionError, decide
from ansible_collections.redisops.redis.plugins.module_utils.sentinel_switch import (
    Sentinels,
    failover_step,
    sentinel_params,
)


class FakeClient:
    """A Sentinel's client: replies in turn (an exception is raised), closed or not."""

    def __init__(self, *replies):
        self.replies = list(replies)
        self.asked = []
        self.closed = False

    def execute_command(self, *args):
        self.asked.append(args)
        reply = self.replies.pop(0)
        if isinstance(reply, Exception):
            raise reply
        return reply

    def close(self):
        self.closed = True


def params(port, name=None):
    return {"instance": name or "127.0.0.1:%d" % port, "login_host": "127.0.0.1", "login_port": port,
            "login_unix_socket": None, "connect_timeout": 1}


@pytest.fixture
def logins(monkeypatch):
    """login() replaced: each port's clients in turn, or a LoginError; records (port, previous)."""
    clients = {}
    calls = []

    def login(connection, previous=()):
        calls.append((connection["login_port"], tuple(previous)))
        client = clients[connection["login_port"]].pop(0)
        if isinstance(client, Exception):
            raise client
        return client

    monkeypatch.setattr(sentinel_switch, "login", login)
    return clients, calls


def test_each_sentinel_is_asked_for_the_group_once_and_answers_in_order(logins):
    clients, calls = logins
    first, second = FakeClient([b"10.0.0.2", b"6379"]), FakeClient(None)
    clients.update({26379: [first], 26380: [second]})
    sentinels = Sentinels("main", [params(26379, "s1"), params(26380)], previous=["old"])
    assert sentinels.answers() == [
        {"sentinel": "s1", "master": {"host": "10.0.0.2", "port": 6379}, "error": None, "unreachable": False},
        {"sentinel": "127.0.0.1:26380", "master": None, "error": None, "unreachable": False},
    ]
    assert first.asked == [("SENTINEL", "GET-MASTER-ADDR-BY-NAME", "main")]
    assert calls == [(26379, ("old",)), (26380, ("old",))]
    # the clients are kept: asking again logs in to nobody
    first.replies.append([b"10.0.0.3", b"6379"])
    second.replies.append([b"10.0.0.3", b"6379"])
    assert decide("main", sentinels.answers())["master"] == {"host": "10.0.0.3", "port": 6379}
    assert len(calls) == 2
    sentinels.close()
    assert first.closed and second.closed


def test_a_refused_login_and_a_sentinel_that_does_not_run_are_answers_with_their_reason(logins):
    clients, _calls = logins
    clients.update({26379: [LoginError("127.0.0.1:26379 refused the login", refused=True)],
                    26380: [LoginError("Cannot connect to 127.0.0.1:26380: refused", unreachable=True)]})
    answers = Sentinels("main", [params(26379), params(26380)]).answers()
    assert [(answer["error"], answer["unreachable"]) for answer in answers] == [
        ("127.0.0.1:26379 refused the login", False), ("Cannot connect to 127.0.0.1:26380: refused", True)]
    with pytest.raises(DecisionError, match="127.0.0.1:26379: no answer \\(127.0.0.1:26379 refused the login\\)"):
        decide("main", answers)


@pytest.mark.parametrize("failure, text", [
    (redis.ResponseError("ERR unknown command"), "127.0.0.1:26379: ERR unknown command"),
    ([b"10.0.0.2"], "127.0.0.1:26379: unexpected reply to SENTINEL GET-MASTER-ADDR-BY-NAME: [b'10.0.0.2']"),
])
def test_an_error_or_a_reply_it_cannot_read_is_named_and_the_client_dropped(logins, failure, text):
    clients, calls = logins
    broken, fresh = FakeClient(failure), FakeClient([b"10.0.0.2", b"6379"])
    clients[26379] = [broken, fresh]
    sentinels = Sentinels("main", [params(26379)])
    assert sentinels.answers() == [{"sentinel": "127.0.0.1:26379", "master": None, "error": text,
                                    "unreachable": False}]
    assert broken.closed
    # the next ask logs in again
    assert sentinels.answers()[0]["master"] == {"host": "10.0.0.2", "port": 6379}
    assert len(calls) == 2


def test_a_sentinel_that_accepts_no_connection_is_answered_for_without_redis_py(logins):
    clients, calls = logins
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))  # bound, not listening: connections are refused
    try:
        up, down = params(listener.getsockname()[1], "up"), params(closed.getsockname()[1], "down")
        clients[up["login_port"]] = [FakeClient([b"10.0.0.2", b"6379"])]
        sentinels = Sentinels("main", [up, down])
        assert sentinels.probe() == [True, False]
        answers = sentinels.answers()
    finally:
        listener.close()
        closed.close()
    assert answers[0]["master"] == {"host": "10.0.0.2", "port": 6379}
    assert answers[1] == {"sentinel": "down", "master": None, "unreachable": True,
                          "error": "Cannot connect to %s: no connection accepted" % ("127.0.0.1:%d" % down["login_port"])}
    assert [port for port, _previous in calls] == [up["login_port"]]


def test_none_listening_is_no_sentinel():
    closed = socket.socket()
    closed.bind(("127.0.0.1", 0))
    try:
        sentinels = Sentinels("main", [params(closed.getsockname()[1])])
        assert sentinels.probe() == [False]
        assert decide("main", sentinels.answers())["state"] == "no_sentinel"
    finally:
        closed.close()


def test_the_first_sentinel_without_an_error_is_asked():
    sentinels = Sentinels("main", [params(1, "a"), params(2, "b")])
    answers = [{"error": "down"}, {"error": None}]
    assert sentinels.first(answers)["instance"] == "b"
    assert sentinels.first([{"error": "down"}, {"error": "refused"}]) is None


def test_the_replicas_a_sentinel_knows_are_read_as_dicts(logins):
    clients, _calls = logins
    clients[26379] = [FakeClient([[b"ip", b"10.0.0.2", b"port", b"6379", b"flags", b"slave"]])]
    sentinels = Sentinels("main", [params(26379)])
    assert sentinels.replicas(sentinels.params[0]) == [{"ip": "10.0.0.2", "port": "6379", "flags": "slave"}]


def test_sentinel_params_take_the_item_then_the_option_then_the_module():
    module = {"login_host": "10.0.0.9", "login_port": 6379, "login_user": "admin", "login_password": "data",
              "login_unix_socket": "/run/redis.sock", "connect_timeout": 3, "tls": False}
    spec = {"group": "main", "login_user": None, "login_password": "sentinel",
            "instances": [{"instance": "s1", "login_host": "10.0.0.5", "login_port": 26379, "login_user": None,
                           "login_password": None},
                          {"instance": None, "login_host": None, "login_port": 26380, "login_user": "watcher",
                           "login_password": "own"}]}
    first, second = sentinel_params(module, spec)
    assert (first["instance"], first["login_host"], first["login_port"], first["login_user"],
            first["login_password"]) == ("s1", "10.0.0.5", 26379, None, "sentinel")
    assert (second["instance"], second["login_host"], second["login_user"], second["login_password"]) == (
        "127.0.0.1:26380", "127.0.0.1", "watcher", "own")
    assert first["login_unix_socket"] is None and first["connect_timeout"] == 3


def test_the_failover_step_names_the_sentinel_asked():
    sentinels = Sentinels("main", [params(26379, "s1")])
    sentinels.asked = sentinels.params[0]
    who, command = failover_step(sentinels)
    assert (who, command.args, command.text) == ("Sentinel s1", ("SENTINEL", "FAILOVER", "main"),
                                                 "SENTINEL FAILOVER main")
