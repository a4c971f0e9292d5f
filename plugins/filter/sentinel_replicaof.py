# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: sentinel_replicaof
short_description: The topology the Sentinels say, as the server role's replicaof override
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Takes the groups of P(redisops.redis.sentinel_groups#filter) and what M(redisops.redis.sentinel_master)
    answered for each, and returns C({"HOST:INSTANCE" - "HOST:MASTER" or null}) for the members of the
    groups whose Sentinels agree on a master other than the inventory's - that member a master (null),
    every other member, the old master included, its replica. Empty where the Sentinels name the
    inventory's master, do not run yet or do not monitor the group.
  - Fails naming the group, the address and the members when the master the Sentinels agree on is
    none of the group's instances.
positional: answers, play
options:
  _input:
    description: The groups, the output of P(redisops.redis.sentinel_groups#filter).
    type: list
    elements: dict
    required: true
  answers:
    description: The registered result of a loop of M(redisops.redis.sentinel_master) over the groups, or a dict group name - result.
    type: dict
    required: true
  play:
    description: The play's topology, the output of P(redisops.redis.server_model#filter).
    type: dict
    required: true
seealso:
  - plugin: redisops.redis.sentinel_groups
    plugin_type: filter
"""

EXAMPLES = r"""
- name: The topology to resolve instead of the inventory's
  ansible.builtin.set_fact:
    override: "{{ groups_to_ask | redisops.redis.sentinel_replicaof(answers, play) }}"
"""

RETURN = r"""
_value:
  description: The replicaof override, empty when the inventory's topology holds.
  type: dict
  sample: {"localhost:replica": null, "localhost:master": "localhost:replica"}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel_follow import SentinelError, sentinel_replicaof


def _replicaof(groups, answers, play):
    try:
        return sentinel_replicaof(groups, answers, play)
    except SentinelError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"sentinel_replicaof": _replicaof}
