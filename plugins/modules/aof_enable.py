#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: aof_enable
short_description: Turn on the append-only file of running Redis instances without losing their data
version_added: 0.1.0
description:
  - For each instance whose C(appendonly) is C(no), runs C(CONFIG SET appendonly yes) and waits until
    the server has written its whole data set into the new AOF (C(aof_enabled:1), no rewrite in
    progress or scheduled, the last rewrite C(ok)).
  - A server restarted with C(appendonly yes) in its file and no AOF yet starts empty on Redis 7.0
    (and 6.0), although its RDB file holds the data, and its replicas then resync from it and empty too.
    Turned on live first, the AOF holds the data before any restart reads it.
  - The C(redisops.redis.server) role runs it on the running instances before it writes
    C(appendonly yes) into their files.
  - An instance whose AOF is already on is left alone (idempotent). One that does not accept connections
    (not running) is reported with RV(instances[].running=false); a refused login fails the module.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.members
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Reads C(CONFIG GET appendonly) and reports which instances would change; changes nothing.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  instances:
    description:
      - The instances, each with the options of one instance (its connection); what an item leaves
        unset is the top-level option.
      - Without O(instances), the top-level options are the one instance (the single-instance
        form); the module runs the same way on a list of that one instance, and RV(instances)
        holds its result.
  previous_passwords:
    description:
      - Passwords tried, in order, when an instance refuses its C(login_password) (during a password
        rotation the running instances still have an old one).
    type: list
    elements: str
    default: []
  timeout:
    description: Seconds to wait for each instance's AOF rewrite (it writes the whole data set).
    type: float
    default: 600
  interval:
    description: Seconds between two readings of C(INFO persistence).
    type: float
    default: 0.05
notes:
  - The connecting user needs C(CONFIG) and C(INFO).
seealso:
  - module: redisops.redis.runtime_config
"""

EXAMPLES = r"""
- name: Turn the AOF on live before the config file says appendonly yes
  redisops.redis.aof_enable:
    login_password: "{{ redis_password }}"
    instances:
      - {instance: master, login_port: 6379}
      - {instance: replica, login_port: 6479}
  register: aof

- name: Show which instances it turned on
  ansible.builtin.debug:
    msg: "{{ aof.instances | selectattr('changed') | map(attribute='instance') | list }}"
"""

RETURN = r"""
instances:
  description: One result per item of O(instances), in order (one, for the single-instance form).
  returned: always
  type: list
  elements: dict
  contains:
    instance:
      description: The instance's name.
      type: str
      sample: master
    running:
      description: Whether the instance accepted a connection; an instance not running is left alone.
      type: bool
      sample: true
    changed:
      description: Whether its AOF was turned on (would be, in check mode).
      type: bool
      sample: true
  sample:
    - {instance: master, running: true, changed: true}
    - {instance: replica, running: false, changed: false}
"""

import time


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    LoginError,
    endpoint,
    ensure_required_libs,
    login,
    members,
    module_argument_spec,
    redis,
)
from ansible_collections.redisops.redis.plugins.module_utils.persistence import aof_progress
from ansible_collections.redisops.redis.plugins.module_utils.replication import parse_info


def enable(module, client, params):
    """Turn the AOF on and wait for its first rewrite; True when it was off."""
    if client.config_get("appendonly").get("appendonly") == "yes":
        return False
    if module.check_mode:
        return True
    client.config_set("appendonly", "yes")
    deadline = time.monotonic() + module.params["timeout"]
    while True:
        done, error = aof_progress(parse_info(client.info("persistence")))
        if error:
            module.fail_json(msg="Instance '%s' (%s): %s. Its file was not changed." % (
                params["instance"], endpoint(params), error))
        if done:
            return True
        if time.monotonic() > deadline:
            module.fail_json(msg="Instance '%s' (%s): the AOF rewrite did not end within %s s; its file was not "
                                 "changed. Raise timeout, or wait for the rewrite and run again."
                                 % (params["instance"], endpoint(params), module.params["timeout"]))
        time.sleep(module.params["interval"])


def enable_instance(module, params):
    """The result of one instance: running=false when it does not accept connections; a refused
    login or command fails the module."""
    try:
        client = login(params, params["previous_passwords"])
    except LoginError as exc:
        if exc.unreachable:
            return dict(instance=params["instance"], running=False, changed=False)
        module.fail_json(msg="Instance '%s': %s" % (params["instance"], exc), login_refused=exc.refused)
    try:
        return dict(instance=params["instance"], running=True, changed=enable(module, client, params))
    except redis.RedisError as exc:
        module.fail_json(msg="Instance '%s' (%s): cannot turn the AOF on: %s" % (params["instance"], endpoint(params), exc))
    finally:
        client.close()


def main():
    argument_spec = module_argument_spec(
        previous_passwords=dict(type="list", elements="str", default=[], no_log=True),
        timeout=dict(type="float", default=600),
        interval=dict(type="float", default=0.05),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    ensure_required_libs(module)
    results = [enable_instance(module, params) for params in members(module.params)]
    module.exit_json(changed=any(item["changed"] for item in results), instances=results)


if __name__ == "__main__":
    main()
