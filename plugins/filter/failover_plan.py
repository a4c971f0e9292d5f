# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: failover_plan
short_description: Plan the promotion of a Redis replica over its master from the resolved inventory
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Takes the replica to promote, C(HOST:INSTANCE) (or C(HOST) for a host's only instance), and the
    resolved instances of every host of the play (the output of P(redisops.redis.server_instances#filter)
    without secrets), and returns who becomes master, which instance is the old master, which replicas
    follow the new master, the new role of each instance per host and the changes the inventory needs.
  - Fails with a message naming C(redis_failover_target) and the fix when the target is not set, names a
    host or instance not in the play, is a master, or replicates from a master outside the play or from
    another replica. The message lists the replicas that can be promoted.
  - With O(unplanned=true), plans the replacement of a master that is down, from O(probes), what each
    instance answered. The replica to promote may be left unset; it is then the running replica
    holding the most of the dead master's replication stream. Fails naming C(redis_failover_unplanned)
    and the fix when the master answers (the planned mode is the right one then), when no master or
    several masters are down, or when the named replica is behind another one (naming it and both offsets).
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
  unplanned:
    description:
      - Plan the replacement of a master that is down; O(_input) may then be empty or V(None).
    type: bool
    default: false
  probes:
    description:
      - With O(unplanned), inventory host name to the results of M(redisops.redis.replication_info)
        with C(instances) for its instances (C(instance) and C(replication), or C(error) when it did not
        answer), or to the registered result of that module itself. A host missing here did not answer at all.
    type: dict
    default: {}
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
         | map('extract', hostvars, '__redis_server_instances'))) }}

- name: Plan the replacement of a master that is down by its most up-to-date replica
  ansible.builtin.set_fact:
    failover: "{{ none | redisops.redis.failover_plan(instances, unplanned=true, probes=probes) }}"
  vars:
    instances: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars, '__redis_server_instances'))) }}"
    probes: "{{ dict(ansible_play_hosts_all | zip(ansible_play_hosts_all | map('extract', hostvars) | map(attribute='probe', default={}))) }}"
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
          C(role), C(replicaof) (C({host, port}) of the new master, for a replica) and C(running) (whether it
          answered; always V(true) in the planned mode).
      type: dict
    replicaof:
      description:
        - The new topology of the group, C(HOST:INSTANCE) to the label of the new master, V(null) for the new
          master; the C(redis_server_replicaof) argument of the C(apply) entry point of the role
          C(redisops.redis.server), which writes the files and live settings for it.
      type: dict
      sample: {"redis-2:main": null, "redis-1:main": "redis-2:main", "redis-3:main": "redis-2:main"}
    unreached:
      description: The old master's other replicas that did not answer (unplanned mode); their files are written.
      type: list
      elements: str
    unplanned:
      description: V(true) for the replacement of a master that is down.
      type: bool
      returned: with O(unplanned)
    down:
      description: The instances of the group that did not answer, the old master first.
      type: list
      elements: str
      returned: with O(unplanned)
    offsets:
      description: How much of the old master's replication stream each running replica holds, by label.
      type: dict
      returned: with O(unplanned)
    inventory:
      description: The changes to make to C(redis_server_instances), one line each.
      type: list
      elements: str
      sample:
        - "host 'redis-2', instance 'main': remove replicaof (it is the master now)"
        - "host 'redis-1', instance 'main': add replicaof: 'redis-2:main' (it is a replica of the new master now)"
"""

from collections.abc import Mapping

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.failover import (
    FailoverPlanError,
    failover_plan,
    unplanned_failover_plan,
)


def failover_plan_filter(target, instances, unplanned=False, probes=None):
    # A host's instances as the role's model gives them (keyed by name) or as a list.
    instances = {host: list(items.values()) if isinstance(items, Mapping) else items
                 for host, items in (instances or {}).items()}
    try:
        if unplanned:
            return unplanned_failover_plan(target, instances, probes or {})
        return failover_plan(target, instances)
    except FailoverPlanError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"failover_plan": failover_plan_filter}
