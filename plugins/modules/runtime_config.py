#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: runtime_config
short_description: Apply replication and auth settings to a running Redis instance without a restart
version_added: 0.1.0
description:
  - Makes the live replication and auth settings of a running Redis or Valkey instance match the
    desired ones, with C(CONFIG SET) and C(REPLICAOF) (C(SLAVEOF) before Redis 5). The instance is
    not restarted, so a replica can be pointed at a new master, or promoted, without downtime.
  - The changes live in memory only. Write the same settings into the instance's configuration
    (the C(redisops.redis.server) role keeps them in C(redis-NAME.live.conf)) so that a restart keeps them.
  - Current values are read with C(CONFIG GET) and C(INFO replication) and compared with the desired
    ones; only the settings that differ are changed. C(yes)/C(no) and booleans compare
    case-insensitively, numbers as their digits, and an empty string or null means unset. Other
    values compare as the server reports them, so give sizes in bytes (V(1048576), not V(1mb)).
  - Changes are applied in a safe order. Every C(CONFIG SET) but C(requirepass) comes first, so a
    replica already holds C(masterauth) and C(masteruser) for its new master when C(REPLICAOF)
    makes it connect; C(requirepass) comes last.
  - On servers older than 5 the C(replica-*) directive names are translated to their C(slave-*)
    names, for example C(replica-read-only) to C(slave-read-only).
  - A directive the server does not know (C(CONFIG GET) returns nothing for it) fails the module
    before anything changes.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.runtime_config
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
  diff_mode:
    support: full
    details:
      - Secret values are never shown; the diff says whether each one changes.
  platform:
    platforms: posix
options:
  role:
    description:
      - V(master) makes the instance a master (C(REPLICAOF NO ONE)) if it is a replica.
      - V(replica) makes it a replica of O(master_host):O(master_port) if it is not already.
      - Turning a master that holds keys into a replica replaces its data with the new master's;
        the module does it and returns a warning. Deciding whether that is safe is up to the caller.
      - Required unless O(instances) is given.
    type: str
    choices: [master, replica]
  master_host:
    description:
      - Address of the master to replicate from, as the replica reaches it.
      - Required when O(role=replica); ignored when O(role=master).
    type: str
  master_port:
    description:
      - Port of the master to replicate from.
      - Required when O(role=replica); ignored when O(role=master).
    type: int
  config:
    description:
      - Non-secret directives to set, directive name to value, such as C(replica-read-only) and C(masteruser).
      - Values are shown in RV(commands) and in the diff; put C(masterauth) and C(requirepass)
        in O(secret_config) (they are refused here).
      - C(replicaof) and C(slaveof) are refused, use O(role), O(master_host) and O(master_port).
    type: dict
    default: {}
  secret_config:
    description:
      - Secret directives to set, such as C(masterauth) and C(requirepass).
      - Their values are never returned; RV(commands) and the diff show V(********) instead.
      - Set C(requirepass) to V("") to remove the password.
    type: dict
    default: {}
  previous_passwords:
    description:
      - Passwords tried in order when the server rejects O(login_password), so that C(requirepass)
        can be changed live. Give the new password as O(login_password) and as C(requirepass) in
        O(secret_config), and the one the server still has here; once changed, the new one is accepted directly.
      - An empty string stands for no password.
    type: list
    elements: str
    default: []
  keep_previous_passwords:
    description:
      - On Redis 6 or later, the default user accepts the O(previous_passwords) too, beside
        C(requirepass) from O(secret_config), for a password rotation without downtime, during which
        clients move to the new password at their own pace. Drop a password from
        O(previous_passwords) to stop accepting it.
      - When V(false), or when O(previous_passwords) is empty, the default user is left with
        C(requirepass) as its only password (another password it still accepts is removed).
      - Applied with C(ACL SETUSER default resetpass), the passwords given as SHA-256 hashes, right
        after C(requirepass). Redis 4 and 5 accept a single password, so the module warns that clients
        using a previous one are refused once C(requirepass) changes.
      - Only used when O(secret_config) sets C(requirepass).
    type: bool
    default: false
  acl_users:
    description:
      - ACL users the instance must have exactly (Redis 6 or later), such as the user its replicas
        log in as. A user that is missing or differs is reset and defined again with
        C(ACL SETUSER), its password given as a SHA-256 hash, before any other change. Its
        password is never shown.
    type: list
    elements: dict
    default: []
    suboptions:
      name:
        description: Name of the user.
        type: str
        required: true
      password:
        description: Its password.
        type: str
        required: true
      previous_passwords:
        description:
          - Passwords it keeps accepting beside O(acl_users[].password), in this order (a rotation without
            a refused login); empty by default, its only password then being O(acl_users[].password).
        type: list
        elements: str
        default: []
      rules:
        description: Its command rules; it has no key patterns.
        type: list
        elements: str
        default: [+psync, +replconf, +ping]
  instances:
    description:
      - Several instances to bring to their settings in one call, for example every instance of a
        host, so that one module run does what took one per instance. Each item takes the options
        of one instance (its connection, O(role) and its settings); what it leaves unset is the
        top-level option (O(previous_passwords) and O(keep_previous_passwords) are always the
        top-level ones).
      - An instance that fails (not running, a refused login or command) does not stop the others.
        The module fails at the end, naming each instance that failed and, in RV(instances), what
        was already applied to it.
      - Without O(instances), the top-level options are the one instance configured (the
        single-instance form); the module runs the same way on a list of that one instance and
        returns its result at the top level.
      - Mutually exclusive with O(role).
notes:
  - The connecting user needs the C(INFO), C(CONFIG) and C(REPLICAOF) commands (C(SLAVEOF) before Redis 5),
    and C(ACL) for O(acl_users) and, on Redis 6 or later, when O(secret_config) sets C(requirepass).
seealso:
  - module: redisops.redis.replication_check
  - module: redisops.redis.replication_info
"""

EXAMPLES = r"""
- name: Point the replica at the new master without restarting it
  redisops.redis.runtime_config:
    login_port: 6479
    login_password: "{{ redis_password }}"
    role: replica
    master_host: 10.0.0.12
    master_port: 6379
    config:
      replica-read-only: true
    secret_config:
      masterauth: "{{ redis_password }}"
  register: replica_config

- name: Show what was changed (secrets masked)
  ansible.builtin.debug:
    var: replica_config.commands

- name: Promote the replica to master
  redisops.redis.runtime_config:
    login_port: 6479
    login_password: "{{ redis_password }}"
    role: master

- name: Change requirepass live, logging in with the old password until it is changed
  redisops.redis.runtime_config:
    login_password: "{{ redis_new_password }}"
    previous_passwords:
      - "{{ redis_old_password }}"
    role: master
    secret_config:
      requirepass: "{{ redis_new_password }}"

- name: Rotate the password without downtime (Redis 6+), the old one accepted until dropped from the list
  redisops.redis.runtime_config:
    login_password: "{{ redis_new_password }}"
    previous_passwords:
      - "{{ redis_old_password }}"
    keep_previous_passwords: true
    role: master
    secret_config:
      requirepass: "{{ redis_new_password }}"

- name: Bring both instances of the host to their settings in one call
  redisops.redis.runtime_config:
    login_password: "{{ redis_password }}"
    secret_config:
      requirepass: "{{ redis_password }}"
    instances:
      - {instance: master, login_port: 6379, role: master}
      - instance: replica
        login_port: 6479
        role: replica
        master_host: 127.0.0.1
        master_port: 6379
        config:
          replica-read-only: "yes"
        secret_config:
          requirepass: "{{ redis_password }}"
          masterauth: "{{ redis_password }}"

- name: Check, changing nothing, that the live settings are as desired
  redisops.redis.runtime_config:
    login_password: "{{ redis_password }}"
    role: master
    config:
      masteruser: repl
  check_mode: true
  register: drift

- name: Fail when the running instance differs
  ansible.builtin.assert:
    that: not drift.changed
    fail_msg: "Live settings differ: {{ drift.commands }}"
"""

RETURN = r"""
instances:
  description:
    - With O(instances), one result per instance, in order, with its V(instance) name, V(changed),
      RV(commands) and, in diff mode, RV(diff) as described here; one that failed also has
      V(failed) and V(msg).
  returned: when O(instances) is given
  type: list
  elements: dict
  sample:
    - {instance: master, changed: false, commands: []}
    - {instance: replica, changed: true, commands: ["REPLICAOF 10.0.0.12 6379"]}
instance:
  description: The name of the instance configured, O(instance) or its endpoint.
  returned: unless O(instances) is given
  type: str
  sample: replica
commands:
  description:
    - The commands run, in order, or that would be run in check mode. Secret values are masked.
    - Empty when the instance already has the desired settings.
  returned: unless O(instances) is given
  type: list
  elements: str
  sample:
    - CONFIG SET masteruser repl
    - CONFIG SET masterauth ********
    - REPLICAOF 10.0.0.12 6379
diff:
  description:
    - Every managed setting before and after, by the name the server knows it (C(replicaof) or
      C(slaveof) for the replication source, V(no one) for a master). Secrets are shown as
      V(********), with V((changed)) or V((unchanged)) after.
  returned: in diff mode, unless O(instances) is given
  type: dict
  sample:
    before:
      masteruser: ""
      masterauth: "********"
      replicaof: "10.0.0.11 6379"
    after:
      masteruser: repl
      masterauth: "******** (changed)"
      replicaof: "10.0.0.12 6379"
"""


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
from ansible_collections.redisops.redis.plugins.module_utils.dialect import for_server
from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    REPLICA_NEEDS_MASTER,
    parse_info,
    role_rules,
    server_identity,
)
from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import (
    PlanError,
    check_options,
    desired_settings,
    member_options,
    plan,
)


class InstanceError(Exception):
    """One instance could not be brought to its settings; done lists the commands already run on it."""

    def __init__(self, msg, done=()):
        super().__init__(msg)
        self.done = list(done)


def read_current(params, client):
    """Server name and version, parsed INFO replication and keyspace, CONFIG GET of each desired
    directive, and ACL GETUSER of the users the plan compares."""
    try:
        server = server_identity(parse_info(client.info("server")))
        current_config = {}
        for setting in desired_settings(params, server["version"], server["name"]):
            current_config[setting.name] = client.config_get(setting.name).get(setting.name)
        replication = parse_info(client.info("replication"))
        keyspace = parse_info(client.info("keyspace"))
        acl_users = {}
        if for_server(server).has("acl"):
            for user in params["acl_users"]:
                acl_users[user["name"]] = client.acl_getuser(user["name"])
            if params["secret_config"].get("requirepass"):
                acl_users["default"] = client.acl_getuser("default")
    except redis.RedisError as exc:
        raise InstanceError("Cannot read the current settings of %s: %s" % (endpoint(params), exc))
    return server, replication, keyspace, current_config, acl_users


def apply(params, client, commands):
    """Run the planned commands in order; on a refusal, raise InstanceError saying which ones already ran."""
    done = []
    for command in commands:
        try:
            client.execute_command(*command.args)
        except redis.RedisError as exc:
            raise InstanceError("%s refused %s: %s. Applied before it: %s."
                                % (endpoint(params), command.text, exc, "; ".join(done) or "nothing"), done)
        done.append(command.text)


def configure(params, check_mode, diff_mode):
    """Bring the instance of params to its settings (or only plan it in check mode): the result of that
    instance, with warnings. Raises InstanceError."""
    try:
        check_options(params["config"], params["secret_config"])
    except PlanError as exc:
        raise InstanceError(str(exc))
    # While requirepass is being changed the server still has an old password: login() tries
    # previous_passwords on their own connections and keeps the client of the one accepted.
    try:
        client = login(params, params["previous_passwords"])
    except LoginError as exc:
        raise InstanceError(str(exc))
    try:
        server, replication, keyspace, current_config, acl_users = read_current(params, client)
        try:
            changes = plan(server, replication, keyspace, current_config, params, acl_users)
        except PlanError as exc:
            raise InstanceError("%s: %s" % (endpoint(params), exc))
        if not check_mode:
            apply(params, client, changes.commands)
    finally:
        client.close()
    result = dict(changed=bool(changes.commands), commands=[command.text for command in changes.commands],
                  warnings=changes.warnings)
    if diff_mode:
        result["diff"] = changes.diff
    return result


def main():
    argument_spec = module_argument_spec(
        member_options(), required=("role",),
        item_required_if=REPLICA_NEEDS_MASTER,
        previous_passwords=dict(type="list", elements="str", default=[], no_log=True),
        keep_previous_passwords=dict(type="bool", default=False),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **role_rules())
    ensure_required_libs(module)
    single = module.params["instances"] is None
    # Each instance in turn, going on after one fails; the module fails at the end naming them.
    results = []
    for params in members(module.params):
        try:
            result = configure(params, module.check_mode, module._diff)
        except InstanceError as exc:
            result = dict(changed=bool(exc.done), commands=exc.done, failed=True, msg=str(exc), warnings=[])
        for warning in result.pop("warnings"):
            module.warn(warning if single else "%s: %s" % (params["instance"], warning))
        results.append(dict(result, instance=params["instance"]))
    if single:
        # The single-instance form: its one result at the top level.
        [result] = results
        if result.pop("failed", False):
            module.fail_json(**result)
        module.exit_json(**result)
    changed = any(result["changed"] for result in results)
    failed = ["%s: %s" % (result["instance"], result["msg"]) for result in results if result.get("failed")]
    if failed:
        module.fail_json(msg=" | ".join(failed), changed=changed, instances=results)
    module.exit_json(changed=changed, instances=results)


if __name__ == "__main__":
    main()
