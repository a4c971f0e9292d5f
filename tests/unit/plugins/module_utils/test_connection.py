# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The one member spec, the single-instance form as a one-item list, and the one refused-login message."""

from __future__ import annotations

import pytest
import redis

from ansible.module_utils.common.arg_spec import ArgumentSpecValidator

from ansible_collections.redisops.redis.plugins.module_utils import connection
from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    MEMBER_CONNECTION,
    LoginError,
    login,
    member_spec,
    members,
    module_argument_spec,
    refused_login_message,
)

OPTIONS = dict(role=dict(type="str", choices=["master", "replica"]), link_up=dict(type="bool", default=True),
               master_port=dict(type="int"))


def validated(args, **spec_args):
    result = ArgumentSpecValidator(module_argument_spec(OPTIONS, **spec_args)).validate(args)
    assert not result.error_messages, result.error_messages
    return result.validated_parameters


def test_a_member_has_the_connection_options_and_the_module_s_without_defaults():
    spec = member_spec(OPTIONS, required=("role",))
    assert list(spec) == list(MEMBER_CONNECTION) + ["role", "link_up", "master_port"]
    assert all("default" not in option for option in spec.values())
    assert spec["role"] == dict(type="str", choices=["master", "replica"], required=True)
    assert spec["login_password"]["no_log"] is True
    assert OPTIONS["link_up"]["default"] is True  # the module's own spec is left alone


def test_the_single_instance_form_is_a_one_item_list_of_the_top_level_options():
    params = validated({"instance": "replica", "login_port": 6479, "role": "replica", "link_up": False})
    [member] = members(params)
    assert member == {key: value for key, value in params.items() if key != "instances"}
    [unnamed] = members(validated({"login_port": 6479}))
    assert unnamed["instance"] == "127.0.0.1:6479" and unnamed["link_up"] is True


def test_items_take_the_top_level_options_they_leave_unset_by_name():
    params = validated({"instance": "not an item's name", "login_password": "pw", "link_up": False, "instances": [
        {"instance": "master", "login_port": 6379, "role": "master"},
        {"login_port": 6479, "role": "replica", "link_up": True, "login_password": "other"},
    ]})
    master, replica = members(params)
    assert (master["instance"], master["login_port"], master["login_password"], master["link_up"]) == (
        "master", 6379, "pw", False)
    assert (replica["instance"], replica["login_password"], replica["link_up"]) == ("127.0.0.1:6479", "other", True)
    assert replica["login_host"] == "127.0.0.1" and replica["connect_timeout"] == 5.0


def test_items_are_validated_by_the_member_spec():
    spec = module_argument_spec(OPTIONS, required=("role",),
                                item_required_if=[("role", "replica", ("master_port",))])
    errors = ArgumentSpecValidator(spec).validate({"instances": [{"login_port": "x"}, {"role": "replica"}]}).error_messages
    assert any("login_port" in error for error in errors), errors
    assert any("role" in error and "missing" in error for error in errors), errors
    assert any("master_port" in error for error in errors), errors


@pytest.mark.parametrize("params, previous, message", [
    ({"login_password": "x"}, 0, "127.0.0.1:6379 refused the login of user 'default' with login_password: "
                                 "invalid username-password pair. Fix: give login_password the password the instance "
                                 "has (server role: redis_server_password or the instance's password; while it "
                                 "changes, the current one in redis_server_previous_passwords)."),
    ({"login_user": "repl"}, 0, "127.0.0.1:6379 refused the login of user 'repl' with no password: "
                                "invalid username-password pair. Fix: give login_user a user the instance has and "
                                "login_password that user's password."),
    ({"login_password": "x"}, 2, "127.0.0.1:6379 refused the login of user 'default' with login_password and the 2 "
                                 "previous_passwords: invalid username-password pair. Fix: give login_password the "
                                 "password the instance has, or list it in previous_passwords (server role: "
                                 "redis_server_password or the instance's password, and redis_server_previous_passwords)."),
])
def test_one_message_for_a_refused_login(params, previous, message):
    params = dict(params, login_host="127.0.0.1", login_port=6379)
    assert refused_login_message(params, "invalid username-password pair.", previous) == message


class FakeServer:
    """Accepts the password it has; records the passwords tried and the clients closed."""

    def __init__(self, password, error=None):
        self.password, self.error = password, error
        self.tried, self.closed = [], 0

    def client(self, params):
        server = self

        class Client:
            def ping(self):
                server.tried.append(params["login_password"])
                if server.error:
                    raise server.error
                if params["login_password"] != server.password:
                    raise redis.AuthenticationError("invalid username-password pair or user is disabled.")
                return True

            def close(self):
                server.closed += 1
        return Client()


PARAMS = dict(login_host="127.0.0.1", login_port=6379, login_password="new")


def test_login_keeps_the_client_of_the_first_accepted_password(monkeypatch):
    server = FakeServer("old")
    monkeypatch.setattr(connection, "open_client", server.client)
    client = login(PARAMS, ["older", "old", "oldest"])
    assert client.ping() and server.tried == ["new", "older", "old", "old"]
    assert server.closed == 2


def test_login_refused_with_every_password(monkeypatch):
    server = FakeServer("something else")
    monkeypatch.setattr(connection, "open_client", server.client)
    with pytest.raises(LoginError) as raised:
        login(PARAMS, ["old"])
    assert raised.value.refused and not raised.value.unreachable
    assert str(raised.value) == refused_login_message(PARAMS, "invalid username-password pair or user is disabled", 1)
    assert server.closed == 2


@pytest.mark.parametrize("error, unreachable", [
    (redis.ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused."), True),
    (redis.ResponseError("ERR unknown command 'ping'"), False),
])
def test_login_to_a_server_that_does_not_answer(monkeypatch, error, unreachable):
    server = FakeServer("new", error)
    monkeypatch.setattr(connection, "open_client", server.client)
    with pytest.raises(LoginError) as raised:
        login(PARAMS, ["old"])
    assert str(raised.value) == "Cannot connect to 127.0.0.1:6379: %s" % error
    assert (raised.value.refused, raised.value.unreachable) == (False, unreachable)
    assert server.tried == ["new"]


def test_noauth_of_an_older_redis_py_is_a_refused_login(monkeypatch):
    server = FakeServer("new", redis.ResponseError("NOAUTH Authentication required."))
    monkeypatch.setattr(connection, "open_client", server.client)
    with pytest.raises(LoginError) as raised:
        login(PARAMS)
    assert raised.value.refused and "Authentication required" in str(raised.value)


def test_advertise_address_is_the_role_s_word_and_announce_host_a_deprecated_alias():
    result = ArgumentSpecValidator(connection.advertise_spec()).validate({"announce_host": "10.0.0.2", "announce_port": 7000})
    assert not result.error_messages
    assert (result.validated_parameters["advertise_address"], result.validated_parameters["advertise_port"]) == (
        "10.0.0.2", 7000)
    assert sorted(item["msg"] for item in result._deprecations) == ["Alias 'announce_host' is deprecated. See the module "
                                                                    "docs for more information",
                                                                    "Alias 'announce_port' is deprecated. See the module "
                                                                    "docs for more information"]
    assert not ArgumentSpecValidator(connection.advertise_spec()).validate({"advertise_address": "h"})._deprecations
