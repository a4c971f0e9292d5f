# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""main() of aof_enable with fake clients: the member spec, the single-instance form, the login."""

from __future__ import annotations

import redis

from ansible_collections.redisops.redis.plugins.module_utils.connection import refused_login_message
from ansible_collections.redisops.redis.plugins.modules import aof_enable

DONE = "aof_enabled:1\r\naof_rewrite_in_progress:0\r\naof_rewrite_scheduled:0\r\naof_last_bgrewrite_status:ok\r\n"


class Instance:
    """appendonly as given; ping raises error when set."""

    def __init__(self, appendonly="no", error=None):
        self.appendonly, self.error, self.closed = appendonly, error, False

    def ping(self):
        if self.error:
            raise self.error
        return True

    def config_get(self, name):
        return {name: self.appendonly}

    def config_set(self, name, value):
        self.appendonly = value

    def info(self, section):
        return DONE

    def close(self):
        self.closed = True


def test_the_single_instance_form_is_a_list_of_one(run_main):
    instance = Instance()
    result = run_main(aof_enable, {"login_port": 6379, "instance": "main"}, instance)
    assert result["failed"] is False and result["changed"] is True
    assert result["instances"] == [{"instance": "main", "running": True, "changed": True}]
    assert instance.appendonly == "yes" and instance.closed


def test_items_take_the_top_level_options_and_a_stopped_one_is_not_running(run_main):
    clients = {6379: Instance("yes"), 6479: Instance(error=redis.ConnectionError("Connection refused."))}
    result = run_main(aof_enable, {"login_password": "pw", "instances": [
        {"instance": "master", "login_port": 6379}, {"login_port": 6479}]}, clients)
    assert result["changed"] is False
    assert result["instances"] == [{"instance": "master", "running": True, "changed": False},
                                   {"instance": "127.0.0.1:6479", "running": False, "changed": False}]


def test_a_refused_login_fails_with_the_one_message(run_main):
    refused = redis.AuthenticationError("invalid username-password pair or user is disabled.")
    args = {"login_port": 6379, "login_password": "pw", "previous_passwords": ["old"],
            "instances": [{"instance": "master"}]}
    result = run_main(aof_enable, args, Instance(error=refused))
    assert result["failed"] is True and result["login_refused"] is True
    assert result["msg"] == "Instance 'master': " + refused_login_message(
        {"login_host": "127.0.0.1", "login_port": 6379, "login_password": "pw"}, refused, 1)
