# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: unmanaged_instances
short_description: The instances found on a host that the inventory does not run
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Takes the traces of instances found on a host (main configuration files C(redis-NAME.conf) with
    the role's header, pid files C(redis-NAME.pid), active units C(redis-instance@NAME.service)) and
    returns those whose name is not one of the host's instances.
  - An instance the inventory does not know is reported with V(retired=false); one with
    C(state=absent) that still has traces, not retired yet, with V(retired=true).
  - The pid file C(redis-server.pid) is the packaged service's, not an instance's, and is ignored.
options:
  _input:
    description: Paths of the main configuration files found (live files C(*.live.conf) are ignored).
    type: list
    elements: str
    required: true
  pid_files:
    description: Paths of the pid files found in the run directory.
    type: list
    elements: str
    default: []
  units:
    description: Names of the active systemd units found.
    type: list
    elements: str
    default: []
  present:
    description: Names of the host's instances (C(state=present)).
    type: list
    elements: str
    default: []
  retired:
    description: Names of the host's instances with C(state=absent).
    type: list
    elements: str
    default: []
seealso:
  - plugin: redisops.redis.server_instances
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Report instances that run on this host but are not in the inventory
  ansible.builtin.debug:
    msg: >-
      {{ ['/etc/redis/redis-main.conf', '/etc/redis/redis-old.conf'] | redisops.redis.unmanaged_instances(present=['main'])
         | map(attribute='msg') | list }}
# -> ["instance old runs but is not in the inventory (configuration file /etc/redis/redis-old.conf);
#      set state: absent to retire it"]
"""

RETURN = r"""
_value:
  description: One item per instance found that the inventory does not run, in name order.
  type: list
  elements: dict
  contains:
    name:
      description: The instance's name.
      type: str
    retired:
      description: Whether the inventory has it with C(state=absent).
      type: bool
    evidence:
      description: What was found of it.
      type: list
      elements: str
    msg:
      description: A sentence naming the instance, what was found and what to do.
      type: str
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.host_instances import found_instances, unmanaged_instances


def unmanaged_instances_filter(conf_files, pid_files=(), units=(), present=(), retired=()):
    return unmanaged_instances(found_instances(conf_files, pid_files, units), present, retired)


class FilterModule:
    def filters(self):
        return {"unmanaged_instances": unmanaged_instances_filter}
