# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: failover_running
short_description: The instances of a host to check after a failover, those of the group that run
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Takes the resolved instances of a host in the new topology (P(redisops.redis.server_instances#filter)
    with its C(replicaof) option set to the plan's C(replicaof)) and a plan of
    P(redisops.redis.failover_plan#filter), and returns those of the failover's group that run, each
    expecting as replicas only the instances that run.
  - An instance that did not answer (the dead master of an unplanned failover, a replica that is down)
    is left out; its files make it a replica of the new master when it starts.
positional: plan, host
options:
  _input:
    description: The resolved instances of O(host).
    type: list
    elements: dict
    required: true
  plan:
    description: The plan, the output of P(redisops.redis.failover_plan#filter).
    type: dict
    required: true
  host:
    description: The inventory host the instances are of.
    type: str
    required: true
seealso:
  - plugin: redisops.redis.failover_plan
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Check the instances of the group on this host
  ansible.builtin.include_role:
    name: redisops.redis.server
    tasks_from: verify
  vars:
    checked: "{{ instances | redisops.redis.failover_running(plan, inventory_hostname) }}"
"""

RETURN = r"""
_value:
  description: The resolved instances of the group on the host that run, with C(replicas) limited to those that run.
  type: list
  elements: dict
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.failover import failover_running


class FilterModule:
    def filters(self):
        return {"failover_running": failover_running}
