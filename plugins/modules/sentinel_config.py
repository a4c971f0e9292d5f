#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sentinel_config
short_description: Apply monitored groups and settings to a running Redis or Valkey Sentinel, live
version_added: 0.1.0
description:
  - Brings the groups a running Sentinel monitors, and its own settings, in line with O(monitors) and
    O(settings), with C(SENTINEL MONITOR), C(SENTINEL SET), C(SENTINEL REMOVE) and
    C(SENTINEL CONFIG SET). The Sentinel writes every change into its own config file itself. This
    module never writes that file, so the state Sentinel keeps there (known replicas and Sentinels,
    epochs, the current master) is never lost.
  - A group the Sentinel monitors already keeps its master address. After a failover the Sentinel's
    master is the truth, and a new C(SENTINEL MONITOR) would undo it. Only its quorum, settings and
    credentials are changed.
  - The credentials a Sentinel uses (C(auth-pass), C(auth-user)) cannot be read back over the
    network; with O(config_file) they are read from the Sentinel's config file, so a run sets them
    only when they differ. Without it they are set again on every run (a change each time).
  - With O(known_sentinels), a Sentinel that knows more other Sentinels of a group than there are (one
    was removed) is reset for that group (C(SENTINEL RESET)), and the module waits up to O(timeout)
    until it has found the remaining ones again.
author:
  - redisops contributors (!UNKNOWN)
extends_documentation_fragment:
  - redisops.redis.connection
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
  platform:
    platforms: posix
options:
  monitors:
    description:
      - The groups the Sentinel monitors. Groups the Sentinel monitors that are not listed are left alone.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the group (the master's name in Sentinel).
        type: str
        required: true
      host:
        description: Address of the group's master, used only when the group is not monitored yet.
        type: str
      port:
        description: Port of the group's master, used only when the group is not monitored yet.
        type: int
      quorum:
        description: Sentinels that must agree that the master is down.
        type: int
        default: 2
      down_after_milliseconds:
        description: C(down-after-milliseconds); unset leaves the Sentinel's value.
        type: int
      failover_timeout:
        description: C(failover-timeout); unset leaves the Sentinel's value.
        type: int
      parallel_syncs:
        description: C(parallel-syncs); unset leaves the Sentinel's value.
        type: int
      auth_user:
        description: C(auth-user), the ACL user the Sentinel logs in to the group's instances as (Redis 6.2+).
        type: str
        default: ""
      auth_pass:
        description: C(auth-pass), the password the Sentinel logs in to the group's instances with.
        type: str
        default: ""
      state:
        description: V(absent) stops monitoring the group (C(SENTINEL REMOVE)).
        type: str
        choices: [present, absent]
        default: present
  settings:
    description:
      - The Sentinel's own settings applied with C(SENTINEL CONFIG SET) (Redis/Valkey 6.2 and later).
      - C(resolve-hostnames), C(announce-hostnames) (booleans), C(announce-ip), C(announce-port).
        Unset keys are left alone.
    type: dict
    default: {}
  config_file:
    description:
      - The Sentinel's config file, read (never written) for the credentials it uses.
    type: path
  known_sentinels:
    description:
      - How many other Sentinels each group of O(monitors) has. When the Sentinel knows more, it is reset
        for that group. Unset, nothing is reset.
    type: int
  timeout:
    description:
      - Seconds to wait for a reset Sentinel to find the others again.
    type: float
    default: 30
  password:
    description:
      - The password the Sentinel itself requires (its C(requirepass)), applied live when it differs, without
        a restart (Sentinel 6.2 and later); V("") for none. Unset, the Sentinel's password is left alone.
      - A change sets the passwords of the Sentinel's default user (C(ACL SETUSER default resetpass)), the
        password it sends the other Sentinels (C(SENTINEL CONFIG SET sentinel-pass)) and writes both into
        its file (C(SENTINEL FLUSHCONFIG)), so that a restart keeps them. The C(requirepass) line the file was
        created with stays; the C(user default) line Sentinel writes after it wins when it starts.
      - The module logs in with O(login_password), else with the first of O(previous_passwords) accepted.
    type: str
  previous_passwords:
    description:
      - Passwords the Sentinel may still require (during a change of O(password)). Those it accepts now stay
        accepted beside O(password) while they are listed, so that the other Sentinels, changed one after
        the other, keep reaching it; drop them from the list once every Sentinel has the new password.
    type: list
    elements: str
    default: []
seealso:
  - module: redisops.redis.sentinel_check
"""

EXAMPLES = r"""
- name: Monitor group main with three Sentinels' quorum
  redisops.redis.sentinel_config:
    login_port: 26379
    login_password: "{{ redis_sentinel_password }}"
    config_file: /etc/redis/sentinel/sentinel-main.conf
    monitors:
      - name: main
        host: 10.0.0.11
        port: 6379
        quorum: 2
        down_after_milliseconds: 5000
        auth_pass: "{{ redis_sentinel_auth_password }}"
  register: sentinel_result

- name: Show the commands sent
  ansible.builtin.debug:
    msg: "{{ sentinel_result.commands }}"
"""

RETURN = r"""
commands:
  description: The commands sent (in check mode, that would be sent), passwords masked.
  returned: always
  type: list
  elements: str
  sample: ["SENTINEL MONITOR main 10.0.0.11 6379 2", "SENTINEL SET main auth-pass ********"]
monitors:
  description: The groups the Sentinel monitors after the task, by name, without passwords.
  returned: always
  type: dict
  sample: {main: {master: "10.0.0.11:6379", quorum: 2, down_after_milliseconds: 5000}}
reset:
  description: The groups the Sentinel was reset for, because it knew a removed Sentinel.
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
    connection_argument_spec,
    endpoint,
    ensure_required_libs,
    login,
    redis,
)


def read(client, config_file):
    masters = {entry["name"]: entry for entry in sentinel.entries(client.execute_command("SENTINEL", "MASTERS"))}
    auth = None
    if config_file:
        try:
            with open(config_file) as handle:
                auth = sentinel.conf_auth(handle.read())
        except OSError:
            auth = None
    return masters, auth


def resets(client, monitors, known):
    """The present groups whose Sentinel knows more other Sentinels than there are."""
    names = []
    for item in monitors:
        if item["state"] == "present" and known is not None:
            others = client.execute_command("SENTINEL", "SENTINELS", item["name"])
            if len(others) > known:
                names.append(item["name"])
    return names


def default_user(client):
    """The Sentinel's default user as plan_password takes it, or None without ACL (before 6.2)."""
    try:
        user = client.acl_getuser("default")
    except redis.ResponseError:
        return None
    return {"passwords": list(user.get("passwords") or []), "nopass": "nopass" in (user.get("flags") or [])}


def main():
    spec = connection_argument_spec()
    spec.update(
        monitors=dict(type="list", elements="dict", default=[], options=dict(
            name=dict(type="str", required=True),
            host=dict(type="str"),
            port=dict(type="int"),
            quorum=dict(type="int", default=2),
            down_after_milliseconds=dict(type="int"),
            failover_timeout=dict(type="int"),
            parallel_syncs=dict(type="int"),
            auth_user=dict(type="str", default=""),
            auth_pass=dict(type="str", default="", no_log=True),
            state=dict(type="str", default="present", choices=["present", "absent"]),
        )),
        settings=dict(type="dict", default={}),
        config_file=dict(type="path"),
        known_sentinels=dict(type="int"),
        timeout=dict(type="float", default=30.0),
        password=dict(type="str", no_log=True),
        previous_passwords=dict(type="list", elements="str", default=[], no_log=True),
    )
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    params = module.params
    unknown = sorted(set(params["settings"]) - set(sentinel.SENTINEL_SETTINGS))
    if unknown:
        module.fail_json(msg="settings: unknown Sentinel setting(s) %s; use %s" % (
            ", ".join(unknown), ", ".join(sentinel.SENTINEL_SETTINGS)))
    ensure_required_libs(module)
    where = "Sentinel %s" % (params.get("instance") or endpoint(params))
    with_previous = False
    try:
        try:
            client = login(params)
        except LoginError as exc:
            if not (exc.refused and params["previous_passwords"]):
                raise
            client, with_previous = login(params, params["previous_passwords"]), True
    except LoginError as exc:
        module.fail_json(msg=str(exc), login_refused=exc.refused)
    try:
        password_commands = []
        if params["password"] is not None:
            current = default_user(client)
            if current is None:
                # No ACL (Sentinel before 6.2): only a restart changes its password.
                if with_previous:
                    module.fail_json(msg="%s requires a previous password and has no ACL (Sentinel before 6.2): its "
                                     "password changes only with a restart. Nothing was changed. Fix: set "
                                     "requirepass in its file and restart it, or keep the old password." % where)
            else:
                password_commands = sentinel.plan_password(current, params["password"], params["previous_passwords"])
        masters, auth = read(client, params["config_file"])
        for item in params["monitors"]:
            if item["state"] == "present" and item["name"] not in masters and not (item["host"] and item["port"]):
                module.fail_json(msg="%s does not monitor group '%s' yet: give monitors[].host and port of its "
                                 "master" % (where, item["name"]))
        config = sentinel.pairs(client.execute_command("SENTINEL", "CONFIG", "GET", "*")) if params["settings"] else {}
        commands = password_commands + sentinel.plan_settings(config, params["settings"]) + sentinel.plan_monitors(
            masters, params["monitors"], auth)
        before = sentinel.monitor_view(masters, auth)
        after = sentinel.predicted_view(before, params["monitors"])
        reset = resets(client, params["monitors"], params["known_sentinels"]) if module.check_mode else []
        if not module.check_mode:
            for command in commands:
                try:
                    client.execute_command(*command["args"])
                except redis.ResponseError as exc:
                    module.fail_json(msg="%s refused %s: %s" % (where, command["shown"], exc),
                                     commands=[c["shown"] for c in commands])
            reset = resets(client, params["monitors"], params["known_sentinels"])
            for name in reset:
                client.execute_command("SENTINEL", "RESET", name)
                deadline = time.monotonic() + params["timeout"]
                while len(client.execute_command("SENTINEL", "SENTINELS", name)) < params["known_sentinels"]:
                    if time.monotonic() > deadline:
                        module.fail_json(msg="%s, reset for group '%s', found fewer than %d other Sentinels within "
                                         "%gs" % (where, name, params["known_sentinels"], params["timeout"]))
                    time.sleep(0.2)
            masters, auth = read(client, params["config_file"])
            after = sentinel.monitor_view(masters, auth)
    except redis.RedisError as exc:
        module.fail_json(msg="%s: %s" % (where, exc))
    shown = [command["shown"] for command in commands] + ["SENTINEL RESET %s" % name for name in reset]
    result = dict(changed=bool(shown), commands=shown, monitors=after, reset=reset)
    if module._diff:
        result["diff"] = dict(before=before, after=after)
    module.exit_json(**result)


if __name__ == "__main__":
    main()
