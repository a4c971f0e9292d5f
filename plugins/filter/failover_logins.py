# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: failover_logins
short_description: The instances of the failover module for a failover plan, from the role's logins
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Takes a plan of P(redisops.redis.failover_plan#filter) and the logins the role C(redisops.redis.server)
    builds for the instances of each host, and returns the target, the old master and the replicas as
    items of M(redisops.redis.failover) (C(instance), C(login_host), C(login_port), C(login_user),
    C(login_password)), joined by instance name.
  - The target is reached as its own host reaches it (the module runs there); the old master and the
    replicas at their address and port in the play (how the target's host reaches them). Each is named
    C(HOST:INSTANCE).
  - The result holds passwords; use it only in tasks with C(no_log).
  - Fails, naming the instance, when a host of the plan has no logins (its topology was not resolved).
positional: logins
options:
  _input:
    description: The plan, the output of P(redisops.redis.failover_plan#filter).
    type: dict
    required: true
  logins:
    description:
      - Inventory host name to the role's logins of its instances, by instance name (each a dict with
        C(login_host), C(login_port), C(login_password) and optionally C(login_user)).
    type: dict
    required: true
seealso:
  - plugin: redisops.redis.failover_plan
    plugin_type: filter
  - module: redisops.redis.failover
"""

EXAMPLES = r"""
- name: Promote the planned target
  redisops.redis.failover:
    instance: "{{ members.target }}"
    master: "{{ members.master }}"
    replicas: "{{ members.replicas }}"
  vars:
    members: "{{ plan | redisops.redis.failover_logins(logins) }}"
    logins: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, 'redis_logins'))) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The instances of the failover module.
  type: dict
  contains:
    target:
      description: The replica to promote.
      type: dict
      sample: {instance: "redis-2:main", login_host: 127.0.0.1, login_port: 6379, login_password: "..."}
    master:
      description: The old master, at its address in the play.
      type: dict
      sample: {instance: "redis-1:main", login_host: 10.0.0.11, login_port: 6379, login_password: "..."}
    replicas:
      description: The old master's other replicas that answer, at their addresses in the play.
      type: list
      elements: dict
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.failover import FailoverPlanError, failover_logins


def failover_logins_filter(plan, logins):
    try:
        return failover_logins(plan, logins or {})
    except FailoverPlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"failover_logins": failover_logins_filter}
