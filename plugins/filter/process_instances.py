# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: process_instances
short_description: The items of server_process's instances option for resolved instances
version_added: 0.3.0
author:
  - redisops contributors (!UNKNOWN)
description:
  - Turns resolved instances (the C(redisops.redis.server_instances) filter's output) into the
    items of the O(redisops.redis.server_process#module:instances) option, with the paths the
    C(redisops.redis.server) role gives each instance C(NAME) -
    C(CONF_DIR/redis-NAME.conf), C(RUN_DIR/redis-NAME.pid), C(LOG_DIR/redis-NAME.log).
  - The instances named in O(skip) are left out.
options:
  _input:
    description: Resolved instances, each with C(name), C(port) and C(login_host).
    type: list
    elements: dict
    required: true
  conf_dir:
    description: The directory of the instances' configuration files.
    type: path
    required: true
  run_dir:
    description: The directory of their pid files.
    type: path
    required: true
  log_dir:
    description: The directory of their log files.
    type: path
    required: true
  skip:
    description: Names of instances to leave out.
    type: list
    elements: str
    default: []
seealso:
  - module: redisops.redis.server_process
"""

EXAMPLES = r"""
- name: Start every instance of the host that is not running, in one module run
  redisops.redis.server_process:
    instances: >-
      {{ instances | redisops.redis.process_instances('/etc/redis', '/run/redis', '/var/log/redis') }}
"""

RETURN = r"""
_value:
  description: One item per instance, in their order.
  type: list
  elements: dict
  sample:
    - {name: main, config_file: /etc/redis/redis-main.conf, pid_file: /run/redis/redis-main.pid,
       log_file: /var/log/redis/redis-main.log, address: 127.0.0.1, port: 6379}
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.process_instances import process_instances


class FilterModule:
    def filters(self):
        return {"process_instances": process_instances}
