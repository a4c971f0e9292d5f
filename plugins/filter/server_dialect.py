# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: server_dialect
short_description: Directive and command names and features of a Redis or Valkey server version
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Returns what differs between server flavors and versions, from the collection's one table
    (C(plugins/module_utils/dialect.py)) that its modules use too.
  - The input is the output of C(redis-server --version) or C(valkey-server --version), whose
    first word names the flavor, a version such as V(7.0.15), or a dict with C(name) and C(version)
    as the collection's modules return under C(server).
options:
  _input:
    description: The server's C(--version) output, its version, or C({name, version}).
    type: raw
    required: true
  flavor:
    description: The flavor when the input does not name it (a bare version, an unrecognised C(--version) output).
    type: str
    choices: [redis, valkey]
    default: redis
seealso:
  - module: redisops.redis.replication_info
"""

EXAMPLES = r"""
- name: Read the server version
  ansible.builtin.command:
    argv: [/usr/bin/redis-server, --version]
  register: server_version
  changed_when: false

- name: Write the replication source under the name the server knows
  ansible.builtin.debug:
    msg: "{{ (server_version.stdout | redisops.redis.server_dialect).directives.replicaof }} 10.0.0.1 6379"

- name: Use ACL users only where the server has them
  ansible.builtin.debug:
    msg: "{{ ('6.0.16' | redisops.redis.server_dialect).features.acl }}"
"""

RETURN = r"""
_value:
  description:
    - C(installed) false (and the features false, the names the current ones) when the input
      holds no version, as before the server is installed.
  type: dict
  contains:
    installed:
      description: Whether the input held a version.
      type: bool
    flavor:
      description: V(redis) or V(valkey).
      type: str
    version:
      description: The version, V(x.y.z); empty when not installed.
      type: str
    directives:
      description: The spelling of each directive whose name differs somewhere, by the collection's name.
      type: dict
      sample: {replicaof: replicaof, replica-read-only: replica-read-only, masterauth: primaryauth, masteruser: primaryuser}
    commands:
      description: The name of each command whose name differs somewhere, by the collection's name.
      type: dict
      sample: {REPLICAOF: REPLICAOF}
    features:
      description: Each feature of the table and whether the server has it.
      type: dict
      sample: {acl: true, acl_channels: true, diskless_sync_max_replicas: true, pause_write: true, tls: true}
"""

from ansible.errors import AnsibleFilterError
from ansible.module_utils.common.text.converters import to_text

from ansible_collections.redisops.redis.plugins.module_utils.dialect import (
    FEATURE_NAMES,
    Dialect,
    parse_version,
    parse_version_output,
)


def server_dialect(value, flavor="redis"):
    if isinstance(value, dict):
        server = {"name": value.get("name") or flavor, "version": value.get("version")}
    else:
        text = to_text(value if value is not None else "")
        server = parse_version_output(text, flavor) if "v=" in text else {"name": flavor, "version": text}
    try:
        if server is None or parse_version(server["version"]) is None:
            result = Dialect(server["name"] if server else flavor, "999.0").as_dict()
            result.update(installed=False, version="", features={feature: False for feature in FEATURE_NAMES})
            return result
        result = Dialect(server["name"], server["version"]).as_dict()
    except ValueError as exc:
        raise AnsibleFilterError("server_dialect: %s" % exc)
    result["installed"] = True
    return result


class FilterModule:
    def filters(self):
        return {"server_dialect": server_dialect}
