# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# sentinel_model is documented here; sentinel_instance_items and sentinel_monitor_items, helpers of
# the redisops.redis.sentinel role, in their own files beside this one.

DOCUMENTATION = r"""
name: sentinel_model
short_description: Resolve and validate the Sentinels of a play and the groups they monitor
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Reads C(redis_sentinel_instances), C(redis_sentinel_bind) and C(redis_sentinel_password) of every
    Sentinel host from O(_input) (C(hostvars)), resolves every group of O(monitors) against the server
    role's topology of O(server_hosts), and returns what the C(redisops.redis.sentinel) role needs for
    O(host).
  - "Refused, each message naming the variable, the host and the fix: a quorum of 0 or larger than the
    number of Sentinels; a Sentinel port used twice on a host or equal to a server instance's port there;
    a group whose master is missing, not an instance of O(server_hosts), or a replica; a Sentinel on a
    non-loopback address without C(redis_sentinel_password)."
  - "Warned (allowed, e.g. for a local test bed): a group with fewer than three Sentinels, or all of
    them on one host."
  - The logic lives in C(plugins/plugin_utils/sentinel.py).
positional: host, sentinel_hosts, server_hosts, monitors
options:
  _input:
    description: The C(hostvars) of the play.
    type: dict
    required: true
  host:
    description: The host to return the Sentinels of, normally C(inventory_hostname).
    type: str
    required: true
  sentinel_hosts:
    description: Every host that runs Sentinels (the inventory group C(redis_sentinel)).
    type: list
    elements: str
    required: true
  server_hosts:
    description: Every host of the server role (the inventory group C(redis)); a group's master is one of their instances.
    type: list
    elements: str
    required: true
  monitors:
    description: C(redis_sentinel_monitors), the groups the Sentinels monitor.
    type: list
    elements: dict
    required: true
  defaults:
    description: The role's defaults of C(redis_sentinel_instances), C(redis_sentinel_bind), C(redis_sentinel_password).
    type: dict
    default: {}
"""

EXAMPLES = r"""
- name: Resolve the Sentinels of this host
  ansible.builtin.set_fact:
    sentinels: >-
      {{ hostvars | redisops.redis.sentinel_model(inventory_hostname, groups['redis_sentinel'],
                                                  groups['redis'], redis_sentinel_monitors) }}
"""

RETURN = r"""
_value:
  description: The Sentinels of O(host) and the groups they monitor.
  type: dict
  contains:
    instances:
      description: The Sentinels O(host) runs, each C({name, port, bind, login_host, advertise_address, advertise_port, state, host}).
      type: list
      elements: dict
    retired:
      description: The Sentinels of O(host) with C(state=absent), to stop and remove.
      type: list
      elements: dict
    monitors:
      description:
        - The groups, each C({name, master, host, port, members, quorum, down_after_milliseconds, failover_timeout,
          parallel_syncs, state}); C(host) and C(port) are the master's address, C(members) the addresses of the
          master and every instance whose replicaof chain leads to it.
      type: list
      elements: dict
    sentinels:
      description: How many Sentinels the play runs (each monitors every group).
      type: int
    warnings:
      description: What is allowed but unsafe in production.
      type: list
      elements: str
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel import (
    SentinelError,
    instance_items,
    monitor_items,
    sentinel_model,
)


def sentinel_model_filter(hostvars, host, sentinel_hosts, server_hosts, monitors, defaults=None):
    try:
        return sentinel_model(hostvars, host, sentinel_hosts, server_hosts, monitors, defaults=defaults)
    except SentinelError as exc:
        raise AnsibleFilterError("The Sentinel inventory is not valid; nothing was changed:\n" + str(exc)) from None


class FilterModule:
    def filters(self):
        return {"sentinel_model": sentinel_model_filter,
                "sentinel_instance_items": instance_items,
                "sentinel_monitor_items": monitor_items}
