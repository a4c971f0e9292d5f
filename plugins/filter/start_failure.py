# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: start_failure
short_description: Why a Redis or Valkey server did not start, from its log
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Returns the warnings the last start in a server's log wrote about what stopped it (a port
    taken, an address the host does not have, a directory it cannot write), joined with V(; ).
  - Returns an empty string when that start logged no such warning (a configuration error goes to
    the server's standard error, not to its log).
options:
  _input:
    description: The end of the server's log file.
    type: str
    required: true
seealso:
  - module: redisops.redis.server_process
"""

EXAMPLES = r"""
- name: Read the end of the instance's log
  ansible.builtin.command:
    argv: [tail, -n, "50", /var/log/redis/redis-main.log]
  register: main_log
  changed_when: false

- name: Show why it did not start
  ansible.builtin.debug:
    msg: "{{ main_log.stdout | redisops.redis.start_failure }}"
"""

RETURN = r"""
_value:
  description: The warnings, joined with V(; ); empty when there are none.
  type: str
  sample: "Warning: Could not create server TCP listening socket *:7001: bind: Address already in use; Failed listening on port 7001 (TCP), aborting."
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.restart import start_failure


class FilterModule:
    def filters(self):
        return {"start_failure": start_failure}
