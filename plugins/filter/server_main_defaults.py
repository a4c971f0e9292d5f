# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: server_main_defaults
short_description: The default directives of one instance's main configuration file
version_added: 0.1.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Returns the role's default directives for one instance, without those its own configuration sets.
  - On Redis and Valkey 7 and later, a master with replicas also gets C(repl-diskless-sync-max-replicas)
    set to their number, so that a new group's first diskless sync starts as soon as every replica is
    connected instead of after C(repl-diskless-sync-delay).
options:
  _input:
    description: The role's default directives, directive name to value.
    type: dict
    required: true
  server:
    description: The server, as the C(redisops.redis.server_dialect) filter returns it (C(flavor) and C(version)).
    type: dict
    required: true
  replicas:
    description: How many instances replicate from this one.
    type: int
    required: true
  config:
    description: The instance's directives (its configuration merged over the role's); their names win.
    type: dict
    default: {}
seealso:
  - plugin: redisops.redis.server_dialect
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Show the defaults of a master with two replicas on Redis 7
  ansible.builtin.debug:
    msg: "{{ {'appendonly': 'yes'} | redisops.redis.server_main_defaults('7.0.15' | redisops.redis.server_dialect, 2, {}) }}"
  # {"appendonly": "yes", "repl-diskless-sync-max-replicas": "2"}
"""

RETURN = r"""
_value:
  description: Directive name to value (a string, or a list of strings for a directive written once per item).
  type: dict
  sample: {appendonly: "yes", repl-diskless-sync-max-replicas: "2"}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.module_utils.dialect import main_file_defaults


def server_main_defaults(defaults, server, replicas, config=None):
    try:
        return main_file_defaults(server, defaults, int(replicas), config or {})
    except ValueError as exc:
        raise AnsibleFilterError("server_main_defaults: %s" % exc)


class FilterModule:
    def filters(self):
        return {"server_main_defaults": server_main_defaults}
