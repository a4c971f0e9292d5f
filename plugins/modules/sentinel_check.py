#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sentinel_check
short_description: Wait until the Sentinels of a group agree on its master and know its members
version_added: 0.1.0
description:
  - Reads every Sentinel of O(instances) for group O(group) until each is up, monitors the group, agrees
    with the majority on its master, passes C(SENTINEL CKQUORUM), knows every other instance of
    O(members) as a replica and O(sentinels) - 1 other Sentinels, and does not see the master in
    C(s_down) or C(o_down); or until O(timeout) seconds have passed.
  - "Fails listing every mismatch, each naming the Sentinel, the group, the expected and the found
    value, for example C(Sentinel main (127.0.0.1:26379), group 'master': SENTINEL CKQUORUM expected OK,
    found NOQUORUM 1 usable Sentinels)."
  - With O(config_files), also logs in to the group's master and replicas with the credentials each
    Sentinel uses (its C(sentinel auth-pass) and C(auth-user) lines), and names the instance and its
    error when one refuses them.
  - The master is the one the Sentinels answer, not necessarily the one an inventory names; after a
    failover the promoted replica is the master.
  - Reads only; changes nothing.
author:
  - redisops contributors (!UNKNOWN)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.members
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  instances:
    description:
      - The Sentinels to read, each with its connection options; an option an item leaves unset is the
        top-level one. Without O(instances), the top-level options are the one Sentinel.
  group:
    description: Name of the monitored group.
    type: str
    required: true
  members:
    description:
      - The addresses C(HOST:PORT) of the group's data instances, its master and its replicas. The
        master must be one of them and every other one a known replica. Empty, neither is checked.
    type: list
    elements: str
    default: []
  sentinels:
    description:
      - How many Sentinels monitor the group in all; each must know the others. Unset, not checked.
    type: int
  config_files:
    description:
      - The config file of each Sentinel, by its O(instances[].instance) name, read for the credentials it
        uses on the group's instances.
    type: dict
    default: {}
  timeout:
    description: Seconds to wait for the expected state; V(0) reads once.
    type: float
    default: 30
  interval:
    description: Seconds between two readings.
    type: float
    default: 0.5
"""

EXAMPLES = r"""
- name: Check the three Sentinels of group main
  redisops.redis.sentinel_check:
    group: main
    members: [10.0.0.11:6379, 10.0.0.12:6379]
    sentinels: 3
    login_password: "{{ redis_sentinel_password }}"
    instances:
      - {instance: s1, login_host: 10.0.0.11, login_port: 26379}
      - {instance: s2, login_host: 10.0.0.12, login_port: 26379}
      - {instance: s3, login_host: 10.0.0.13, login_port: 26379}
  register: sentinel_state

- name: Show the master the Sentinels agree on
  ansible.builtin.assert:
    that: sentinel_state.master == '10.0.0.11:6379'
"""

RETURN = r"""
master:
  description: The address of the master the majority of the Sentinels answers, null without a majority.
  returned: always
  type: str
  sample: "127.0.0.1:6379"
sentinels:
  description: Per Sentinel, by name, what it answers for the group.
  returned: always
  type: dict
  sample:
    main: {master: "127.0.0.1:6379", flags: [master], replicas: ["127.0.0.1:6479"], sentinels: 2, ckquorum: "OK 3 usable Sentinels."}
mismatches:
  description: Every mismatch of the last reading, expected and found.
  returned: always
  type: list
  elements: str
  sample: []
"""

import time


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils import sentinel
from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    LoginError,
    ensure_required_libs,
    login,
    members,
    module_argument_spec,
    redis,
)


def auth_errors(params, master, replicas, config_file, group):
    """Log in to the master and the replicas with what the Sentinel uses; an error per refusal."""
    try:
        with open(config_file) as handle:
            used = sentinel.conf_auth(handle.read()).get(group, {})
    except OSError as exc:
        return ["cannot read its config file %s: %s" % (config_file, exc)]
    errors = []
    for entry in [master] + list(replicas):
        target = dict(params, login_host=entry.get("ip"), login_port=int(entry.get("port")), login_unix_socket=None,
                      login_user=used.get("auth_user") or None, login_password=used.get("auth_pass") or None,
                      tls=params["tls"])
        try:
            login(target).close()
        except LoginError as exc:
            if exc.refused:
                errors.append("instance %s refuses the credentials the Sentinel uses (sentinel auth-pass/auth-user of "
                              "group '%s' in %s): %s" % (sentinel.address(entry), group, config_file, exc))
    return errors


def read_state(params, group, config_file):
    try:
        client = login(params)
    except LoginError as exc:
        return {"error": str(exc)}
    try:
        try:
            master = sentinel.pairs(client.execute_command("SENTINEL", "MASTER", group))
        except redis.ResponseError as exc:
            if "no such master" in str(exc).lower():
                return {"master": None}
            raise
        state = {"master": master,
                 "replicas": sentinel.entries(client.execute_command("SENTINEL", "REPLICAS", group)),
                 "sentinels": sentinel.entries(client.execute_command("SENTINEL", "SENTINELS", group))}
        try:
            state["ckquorum"] = str(client.execute_command("SENTINEL", "CKQUORUM", group))
            state["ckquorum_ok"] = state["ckquorum"].startswith("OK")
        except redis.ResponseError as exc:
            state["ckquorum"], state["ckquorum_ok"] = str(exc), False
        if config_file:
            state["auth_errors"] = auth_errors(params, master, state["replicas"], config_file, group)
        return state
    except redis.RedisError as exc:
        return {"error": "%s while reading it" % exc}
    finally:
        client.close()


def summary(state):
    if state.get("error") or not state.get("master"):
        return {"error": state.get("error") or "not monitored"}
    return {"master": sentinel.address(state["master"]), "flags": sentinel.flags(state["master"]),
            "replicas": sorted(sentinel.address(entry) for entry in state["replicas"]),
            "sentinels": len(state["sentinels"]), "ckquorum": state["ckquorum"]}


def main():
    spec = module_argument_spec(
        group=dict(type="str", required=True),
        members=dict(type="list", elements="str", default=[]),
        sentinels=dict(type="int"),
        config_files=dict(type="dict", default={}),
        timeout=dict(type="float", default=30.0),
        interval=dict(type="float", default=0.5),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    ensure_required_libs(module)
    params = module.params
    items = members(params)
    deadline = time.monotonic() + params["timeout"]
    while True:
        states = {item["instance"]: read_state(item, params["group"], params["config_files"].get(item["instance"]))
                  for item in items}
        agreed, problems = sentinel.check_group(params["group"], states, params["members"], params["sentinels"])
        if not problems or time.monotonic() >= deadline:
            break
        time.sleep(params["interval"])
    result = dict(changed=False, master=agreed, mismatches=problems,
                  sentinels={name: summary(state) for name, state in states.items()})
    if problems:
        module.fail_json(msg="The Sentinels of group '%s' are not as expected after %gs:\n- %s" % (
            params["group"], params["timeout"], "\n- ".join(problems)), **result)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
