# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: sentinel_groups
short_description: The replication groups of the play that Sentinels monitor, and the Sentinels to ask
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Takes the play's resolved topology (P(redisops.redis.server_model#filter)), C(hostvars) and the hosts
    of the Sentinel group, reads each one's C(redis_sentinel_instances), C(redis_sentinel_monitors) and
    C(ansible_host), and returns
    each monitored group whose master is an instance of the play - its name, inventory master
    (C(HOST:INSTANCE)), members (every instance whose C(replicaof) chain leads to that master) and its
    Sentinels as items of the C(instances) option of M(redisops.redis.sentinel_master).
  - A Sentinel's address is its C(advertise_address), else its C(bind) when that is not a wildcard,
    else the address given for its host (C(ansible_host), else the host name).
  - Fails naming the variable and the host when the monitors or instances are not lists of mappings,
    or two hosts give one group different masters.
positional: hostvars, hosts
options:
  _input:
    description: The play's topology, the output of P(redisops.redis.server_model#filter).
    type: dict
    required: true
  hostvars:
    description: Ansible's C(hostvars).
    type: dict
    required: true
  hosts:
    description: The hosts of the Sentinel group, such as C(groups['redis_sentinel']).
    type: list
    elements: str
    required: true
seealso:
  - plugin: redisops.redis.sentinel_replicaof
    plugin_type: filter
  - module: redisops.redis.sentinel_master
"""

EXAMPLES = r"""
- name: List the groups to ask about
  ansible.builtin.set_fact:
    groups_to_ask: "{{ play | redisops.redis.sentinel_groups(hostvars, groups['redis_sentinel'] | default([])) }}"
"""

RETURN = r"""
_value:
  description: One item per monitored group of the play, sorted by name.
  type: list
  elements: dict
  sample:
    - group: master
      master: "localhost:master"
      members: ["localhost:master", "localhost:replica"]
      sentinels: [{instance: "localhost:s1", login_host: 127.0.0.1, login_port: 26379}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.sentinel_follow import SentinelError, sentinel_groups


def _groups(play, hostvars, hosts):
    try:
        return sentinel_groups(play, hostvars, hosts)
    except SentinelError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"sentinel_groups": _groups}
