# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: sentinel_acl
short_description: The ACL user Sentinel logs in to a host's data instances as
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Takes the groups of P(redisops.redis.sentinel_groups#filter), C(hostvars), the hosts of the Sentinel
    group and a host, and returns the user of the Sentinel hosts' C(redis_sentinel_auth_user) and
    C(redis_sentinel_auth_password) with the rules Sentinel needs, for the instances of the host in a
    monitored group - C({name, password, rules, instances}) - or V(None) when C(redis_sentinel_auth_user)
    is empty or the host has no instance in a monitored group.
  - The rules are C(+multi +exec +slaveof +ping +subscribe +config|rewrite +role +publish +info
    +client|setname +client|kill +script|kill) and, with O(channels), C(&__sentinel__:hello).
  - Fails naming C(redis_sentinel_auth_password) and the host when the user is set and its password empty.
  - The result holds a secret; read it under C(no_log) only.
positional: hostvars, hosts, host, channels
options:
  _input:
    description: The groups, the output of P(redisops.redis.sentinel_groups#filter).
    type: list
    elements: dict
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts of the Sentinel group.
    type: list
    elements: str
    required: true
  host:
    description: The inventory host of the data instances.
    type: str
    required: true
  channels:
    description: The server has ACL channel rules (Redis 6.2 and later, Valkey).
    type: bool
    default: true
seealso:
  - plugin: redisops.redis.sentinel_groups
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The Sentinel user of this host's instances
  ansible.builtin.set_fact:
    sentinel_user: "{{ groups_to_ask | redisops.redis.sentinel_acl(hostvars, groups['redis_sentinel'], inventory_hostname) }}"
  no_log: true
"""

RETURN = r"""
_value:
  description: The user, or V(None).
  type: dict
  sample: {name: sentinel, password: "...", rules: ["+multi", "+exec"], instances: [master, replica]}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel_follow import SentinelError, sentinel_acl


def _acl(groups, hostvars, hosts, host, channels=True):
    try:
        return sentinel_acl(groups, hostvars, hosts, host, channels)
    except SentinelError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"sentinel_acl": _acl}
