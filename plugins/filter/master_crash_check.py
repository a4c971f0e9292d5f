# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: master_crash_check
short_description: Find the masters that are down and whose running replicas are ahead of their data file
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Takes the resolved instances of one host that are not running (output of
    P(redisops.redis.server_instances#filter)), the header of each one's data file (from
    M(redisops.redis.rdb_info)) and the live replication state of the play's instances (from
    M(redisops.redis.replication_info)), and returns one finding per master that must not be
    started because a running replica of it holds writes its data file lacks.
  - A replica counts when it runs as a replica of the master's port and has an offset above 0. It
    is ahead when the master has no data file, the file stores no replication id, stores another
    id than the one the replica follows, or a smaller offset.
  - Used by the C(redisops.redis.server) role before anything changes on a host.
positional: _input, inventory_host, data_files, live
options:
  _input:
    description: Resolved instances of O(inventory_host) that are not running; only masters are looked at.
    type: list
    elements: dict
    required: true
  inventory_host:
    description: The inventory host the instances belong to.
    type: str
    required: true
  data_files:
    description: The RV(redisops.redis.rdb_info#module:files) results, with the instance's name as C(name).
    type: list
    elements: dict
    required: true
  live:
    description: Inventory host to the RV(redisops.redis.replication_info#module:instances) results of its instances.
    type: dict
    required: true
seealso:
  - module: redisops.redis.rdb_info
  - plugin: redisops.redis.server_instances
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Refuse to start a master whose replicas are ahead of it
  ansible.builtin.assert:
    that: findings | length == 0
    fail_msg: "{{ findings | map(attribute='message') | join('\n') }}"
  vars:
    findings: >-
      {{ down_masters | redisops.redis.master_crash_check(inventory_hostname, data_files.files,
                                                          {'localhost': guard_info.instances}) }}
"""

RETURN = r"""
_value:
  description: One finding per master that must not be started; empty when all may start.
  type: list
  elements: dict
  contains:
    master:
      description: The master, C(HOST:INSTANCE).
      type: str
      sample: "localhost:master"
    replicas_ahead:
      description: The replicas ahead of it, each with C(label), C(address), C(offset), C(replid) and C(why).
      type: list
      elements: dict
    most_up_to_date:
      description: The replica with the largest offset, C(HOST:INSTANCE), the one to promote.
      type: str
      sample: "localhost:replica"
    message:
      description: What was found and the fix, for a failure message.
      type: str
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.master_crash import master_crash_check


class FilterModule:
    def filters(self):
        return {"master_crash_check": master_crash_check}
