# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: failover_plan
short_description: Plan the promotion of a Redis replica over its master from the resolved inventory
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Takes the replica to promote, C(HOST:INSTANCE) (or C(HOST) for a host's only instance), and the
    resolved instances of every host of the play (the output of P(redisops.redis.server_instances#filter)
    without secrets), and returns who becomes master, which instance is the old master, which replicas
    follow the new master, the new role of each instance per host and the changes the inventory needs.
  - Fails with a message naming C(redis_failover_target) and the fix when the target is not set, names a
    host or instance not in the play, is a master, or replicates from a master outside the play or from
    another replica. The message lists the replicas that can be promoted.
  - Used by the C(redisops.redis.failover) playbook before anything changes.
positional: _input
options:
  _input:
    description: The replica to promote, C(HOST:INSTANCE) or C(HOST).
    type: str
    required: true
  instances:
    description:
      - Inventory host name to the list of its resolved instances, for every host of the play.
    type: dict
    required: true
seealso:
  - plugin: redisops.redis.server_instances
    plugin_type: filter
  - module: redisops.redis.failover
"""

EXAMPLES = r"""
- name: Plan the promotion of the replica given as -e redis_failover_target=HOST:INSTANCE
  ansible.builtin.set_fact:
    failover: "{{ redis_failover_target | redisops.redis.failover_plan(instances) }}"
  vars:
    instances: >-
      {{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all
         | map('extract', hostvars, '__redis_server_public_instances'))) }}
"""

RETURN = r"""
_value:
  description: The plan.
  type: dict
  contains:
    target:
      description:
        - The replica promoted to master, with C(inventory_host), C(instance), C(index) (in its host's
          resolved instances), C(label) (C(HOST:INSTANCE)), C(address) (how the others reach it), C(port)
          and C(login_host) (how its own host reaches it).
      type: dict
      sample: {inventory_host: redis-2, instance: main, index: 0, label: "redis-2:main", address: 10.0.0.12,
               port: 6379, login_host: 127.0.0.1}
    master:
      description: The old master, made a replica of the target, with the same keys.
      type: dict
    replicas:
      description: The old master's other replicas, pointed at the target, with the same keys.
      type: list
      elements: dict
    hosts:
      description:
        - Per inventory host, the instances of the group on it, each with C(name), C(label), C(index), its new
          C(role), C(replicaof) (C({host, port}) of the new master, for a replica), C(replicas) (for the
          new master, as it lists them) and C(replica_read_only).
      type: dict
    inventory:
      description: The changes to make to C(redis_server_instances), one line each.
      type: list
      elements: str
      sample:
        - "host 'redis-2', instance 'main': remove replicaof (it is the master now)"
        - "host 'redis-1', instance 'main': add replicaof: 'redis-2:main' (it is a replica of the new master now)"
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.failover import FailoverPlanError, failover_plan


def failover_plan_filter(target, instances):
    try:
        return failover_plan(target, instances)
    except FailoverPlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"failover_plan": failover_plan_filter}
