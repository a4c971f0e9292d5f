# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: server_live_defaults
short_description: The directives the role applies live to an instance by default
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Returns the directives, beyond auth and replication, that the role writes into an instance's
    live file and applies to the running instance without a restart, unless the instance's own
    configuration sets them.
  - On Redis and Valkey 7 and later, C(repl-diskless-sync-max-replicas) is the number of replicas the
    inventory gives the instance (V(0), the server's default, for none), so that a new group's first
    diskless sync starts as soon as every replica is connected instead of after C(repl-diskless-sync-delay).
options:
  _input:
    description: The server, as the C(redisops.redis.server_dialect) filter returns it.
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
- name: Show the live defaults of a master with two replicas on Redis 7
  ansible.builtin.debug:
    msg: "{{ '7.0.15' | redisops.redis.server_dialect | redisops.redis.server_live_defaults(2, {}) }}"
  # {"repl-diskless-sync-max-replicas": "2"}
"""

RETURN = r"""
_value:
  description: Directive name to value; empty when the server is not installed yet.
  type: dict
  sample: {repl-diskless-sync-max-replicas: "2"}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.module_utils.dialect import live_defaults


def server_live_defaults(server, replicas, config=None):
    if isinstance(server, dict) and server.get("installed") is False:
        return {}
    try:
        return live_defaults(server, int(replicas), config or {})
    except (TypeError, ValueError) as exc:
        raise AnsibleFilterError("server_live_defaults: %s" % exc)


class FilterModule:
    def filters(self):
        return {"server_live_defaults": server_live_defaults}
