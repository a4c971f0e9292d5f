# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: server_settings
short_description: Validate and normalise the list, boolean and number variables of the server role
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Returns the C(redisops.redis.server) role's list, boolean and number variables of a host as
    lists, booleans and integers, keyed by their name without the C(redis_server_) prefix, or fails
    naming every invalid variable, the host and the fix. The role's tasks and templates read the
    result, never the raw variables.
  - "A string where a list belongs is refused (C(redis_server_previous_passwords: oldpw) would
    otherwise be iterated by character) or, for a single package name, wrapped in a list. Booleans
    given as strings (C(-e redis_server_verify=false)) become booleans; anything else is refused."
  - "Variables: C(redis_server_packages), C(redis_server_python_packages),
    C(redis_server_previous_passwords), C(redis_server_tls), C(redis_server_disable_packaged_service),
    C(redis_server_unit_hardening), C(redis_server_secure_logging), C(redis_server_force_topology),
    C(redis_server_verify), C(redis_server_verify_timeout). The topology variables are normalised by
    P(redisops.redis.server_instances#filter)."
positional: host
options:
  _input:
    description: The variables, name to value, as the role sees them; other names are ignored.
    type: dict
    required: true
  host:
    description: The host they belong to (named in the messages), normally C(inventory_hostname).
    type: str
    required: true
  secrets:
    description:
      - V(true) includes C(previous_passwords) in the result; V(false) validates it but leaves it
        out, so that the result can be shown.
    type: bool
    default: false
seealso:
  - plugin: redisops.redis.server_instances
    plugin_type: filter
"""

EXAMPLES = r"""
# -e redis_server_verify=false arrives as a string; the filter makes it a boolean.
- name: Check and normalise two of the role's variables
  ansible.builtin.assert:
    that:
      - not settings.verify
      - settings.verify_timeout == 30
  vars:
    settings: >-
      {{ {'redis_server_verify': redis_server_verify, 'redis_server_verify_timeout': redis_server_verify_timeout}
         | redisops.redis.server_settings(inventory_hostname) }}
"""

RETURN = r"""
_value:
  description: The normalised values, keyed by the variable name without C(redis_server_).
  type: dict
  sample: {packages: [], python_packages: [], tls: false, verify: true, verify_timeout: 30}
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.settings import SettingsError, settings


def server_settings_filter(values, host, secrets=False):
    try:
        return settings(values, host, secrets=secrets)
    except SettingsError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"server_settings": server_settings_filter}
