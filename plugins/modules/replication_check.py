#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: replication_check
short_description: Wait until a Redis or Valkey instance is in the expected replication state
version_added: 0.1.0
description:
  - Reads C(INFO replication) of the instance until it matches the expected state, or
    O(timeout) seconds have passed.
  - "Fails listing every mismatch, each with the expected and the found value, for example
    C(master_link_status: expected up, found down (down for 12s))."
  - "When a replica's link to its master is down and O(log_file) is set, the message ends with the
    last replication error in the instance's log, such as
    C(Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair), and what to check."
  - Works the same on Redis 4.0 to 8.x and Valkey 8.
  - Reads only; changes nothing.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.replication_check
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, in check mode as otherwise, and waits in check mode too.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  role:
    description:
      - The role the instance must have. A role mismatch is reported alone, as the other checks
        assume the expected role.
      - Required unless O(instances) is given.
    type: str
    choices: [master, replica]
  master_host:
    description:
      - The master the replica must replicate from. Matches the replica's C(master_host) when it is
        that address or resolves to it.
      - Required when O(role=replica); ignored when O(role=master).
    type: str
  master_port:
    description:
      - Port of the master the replica must replicate from.
      - Required when O(role=replica); ignored when O(role=master).
    type: int
  link_up:
    description:
      - Whether the replica's link to its master must be up (C(master_link_status:up)).
      - Ignored when O(role=master).
    type: bool
    default: true
  read_only:
    description:
      - Whether the replica must refuse writes (C(replica-read-only)). Not checked when unset.
      - Ignored when O(role=master).
    type: bool
  replicas:
    description:
      - Replicas that must be connected to this instance and C(online).
      - A replica matches when its port is O(replicas[].port) and its address, as the instance sees
        it, is O(replicas[].host) or one of the addresses O(replicas[].host) resolves to.
      - Other replicas may be connected too; use O(min_replicas) to require a number.
    type: list
    elements: dict
    suboptions:
      host:
        description: Address of the replica, as this instance sees it (or as the replica announces it).
        type: str
        required: true
      port:
        description: Port the replica listens on.
        type: int
        required: true
  min_replicas:
    description:
      - Minimum number of C(online) replicas connected to this instance.
    type: int
  max_lag:
    description:
      - Maximum seconds since each connected replica's last acknowledgement (C(lag)).
    type: int
  max_offset_gap:
    description:
      - Maximum bytes each connected replica's acknowledged offset may be behind this instance's
        C(master_repl_offset).
    type: int
  timeout:
    description:
      - Seconds to wait for the expected state. V(0) checks once.
    type: float
    default: 30
  interval:
    description:
      - Seconds between two reads of the state. A read is two C(INFO) sections, well under a
        millisecond of server time, so a short interval costs the server nothing and lets the
        module return as soon as the state is reached.
    type: float
    default: 0.05
  log_file:
    description:
      - The instance's log file. When a replica's link is down at the end, the last replication
        error logged since the last successful sync and the last start is added to the message.
      - Must be readable by the user the module runs as; if it is not, the module warns and goes on.
    type: path
  instances:
    description:
      - Several instances to check in one call, for example every instance of a host, so that
        one module run does what took one per instance. Their states are read in rounds, every O(interval), until
        all match or O(timeout) has passed; the module fails listing every instance that does not
        match, each with its mismatches.
      - Each item takes the options of one instance; an option an item leaves unset (its
        connection, O(log_file), ...) is the top-level one.
      - Without O(instances), the top-level options are the one instance checked (the
        single-instance form); the module runs the same way on a list of that one instance and
        returns its result at the top level.
      - Mutually exclusive with O(role).
notes:
  - An instance that does not accept connections, for example while it restarts, counts as a mismatch and is
    read again until O(timeout); one that refuses the login or the C(INFO) command is reported at once.
  - The connecting user needs the C(INFO) command.
seealso:
  - module: redisops.redis.replication_info
  - module: redisops.redis.runtime_config
"""

EXAMPLES = r"""
- name: Wait until the replica replicates from the master, read-only
  redisops.redis.replication_check:
    instance: replica
    login_port: 6479
    login_password: "{{ redis_password }}"
    role: replica
    master_host: 127.0.0.1
    master_port: 6379
    read_only: true
    log_file: /var/log/redis/redis-replica.log
  register: replica_check

- name: Show how long the link took to come up
  ansible.builtin.assert:
    that: replica_check.state.master_link_status == 'up'
    success_msg: "In sync after {{ replica_check.elapsed }}s"

- name: Require the master to see its replica online, at most 1 MB behind
  redisops.redis.replication_check:
    instance: master
    login_port: 6379
    login_password: "{{ redis_password }}"
    role: master
    replicas:
      - host: 127.0.0.1
        port: 6479
    max_offset_gap: 1048576
    timeout: 60

- name: Check once, without waiting, and go on when the state differs
  redisops.redis.replication_check:
    login_port: 6479
    login_password: "{{ redis_password }}"
    role: replica
    master_host: 10.0.0.11
    master_port: 6379
    timeout: 0
  register: drift
  failed_when: false

- name: Report the differences, if any
  ansible.builtin.debug:
    msg: "{{ drift.mismatches | join('; ') }}"
  when: drift.mismatches | default([]) | length > 0

- name: Check every instance of the host in one call
  redisops.redis.replication_check:
    login_password: "{{ redis_password }}"
    timeout: 60
    instances:
      - {instance: master, login_port: 6379, role: master, min_replicas: 1}
      - {instance: replica, login_port: 6479, role: replica, master_host: 127.0.0.1, master_port: 6379}
"""

RETURN = r"""
state:
  description:
    - The last normalised replication state read, as RV(redisops.redis.replication_info#module:replication)
      of M(redisops.redis.replication_info).
    - V(null) when the last attempt could not connect.
  returned: unless O(instances) is given
  type: dict
  sample:
    role: replica
    master_host: 127.0.0.1
    master_port: 6379
    master_link_status: up
    master_last_io_seconds_ago: 1
    master_link_down_since_seconds: null
    master_sync_in_progress: false
    master_sync_total_bytes: null
    master_sync_read_bytes: null
    master_sync_left_bytes: null
    master_sync_percent: null
    replica_repl_offset: 14
    replica_read_only: true
    replica_priority: 100
    connected_replicas: 0
    replicas: []
    master_replid: 8773a13d4a5fa6fe872630be925cf638cae816ef
    master_replid2: "0000000000000000000000000000000000000000"
    master_repl_offset: 14
    second_repl_offset: -1
    repl_backlog_active: true
    repl_backlog_size: 1048576
    repl_backlog_first_byte_offset: 1
    repl_backlog_histlen: 14
server:
  description: The server software and its version, as read last; V(null) if never read.
  returned: unless O(instances) is given
  type: dict
  sample: {name: redis, version: 7.0.15}
mismatches:
  description:
    - Every difference from the expected state at the last attempt; empty on success.
    - With O(instances), each is prefixed with the instance's name.
  returned: always
  type: list
  elements: str
  sample:
    - "master_link_status: expected up, found down (down for 12s)"
    - "read_only: expected true, found false"
elapsed:
  description: Seconds spent waiting.
  returned: always
  type: float
  sample: 1.21
attempts:
  description: Number of times the state was read (of all instances, with O(instances)).
  returned: always
  type: int
  sample: 7
progress:
  description:
    - The advance of a replica's full sync while the module waited for it, at most one sample a
      second; empty when no sync was in progress. Each has V(elapsed) (seconds since the module
      started), V(read_bytes), V(total_bytes) (V(-1) while the master streams a diskless sync of
      unknown size) and V(percent) (V(null) when the size is unknown), from C(master_sync_read_bytes)
      and C(master_sync_total_bytes) (Redis 6.2 and later).
    - With O(instances), in each instance's result.
  returned: unless O(instances) is given
  type: list
  elements: dict
  sample:
    - {elapsed: 0.2, read_bytes: 104857600, total_bytes: 1073741824, percent: 9.77}
    - {elapsed: 1.2, read_bytes: 629145600, total_bytes: 1073741824, percent: 58.59}
link_down_reason:
  description: The last replication error in O(log_file), when a replica's link is down at the end.
  returned: when a replica's link is down and O(log_file) names a log with a replication error
  type: str
  sample: "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled."
instance:
  description: The name of the instance checked, O(instance) or its endpoint.
  returned: unless O(instances) is given
  type: str
  sample: replica
instances:
  description:
    - With O(instances), one result per instance, in order. Each has RV(state), RV(server),
      RV(mismatches), RV(elapsed), RV(attempts), RV(progress) and RV(link_down_reason) as above for that
      instance, its V(instance) name and, when it does not match, its V(msg).
  returned: when O(instances) is given
  type: list
  elements: dict
  sample:
    - instance: master
      state: {role: master, connected_replicas: 1}
      server: {name: redis, version: 7.0.15}
      mismatches: []
      elapsed: 0.01
      attempts: 1
"""

import os


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    endpoint,
    ensure_required_libs,
    is_refused_login,
    members,
    module_argument_spec,
    open_client,
    redis,
    refused_login_message,
)
from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    REPLICA_NEEDS_MASTER,
    CheckRefused,
    ConnectionFailed,
    check_member_options,
    link_down_hint,
    link_down_reason,
    parse_info,
    replication_state,
    role_rules,
    server_identity,
    wait_for_states,
)

# A replica logs one failed attempt a second, or thousands when it retries at once: the last
# 64 KiB always hold the latest ones.
LOG_TAIL_BYTES = 64 * 1024
EXPECTED_KEYS = ("role", "master_host", "master_port", "link_up", "read_only", "replicas", "min_replicas",
                 "max_lag", "max_offset_gap")


def expected_state(params):
    """The options that describe the expected state, as compare() takes them."""
    return {key: params[key] for key in EXPECTED_KEYS if params[key] is not None}


def state_reader(client, params, last_server):
    """fetch() for wait_for_states: the normalised state; the server identity goes into last_server.

    Connection failures (refused, timeout, loading the data set after a restart) raise
    ConnectionFailed, to be retried; a refused login or command raises CheckRefused, which waiting
    does not fix.
    """
    def fetch():
        try:
            server_text = client.info("server")
            replication_text = client.info("replication")
        except redis.RedisError as exc:
            if is_refused_login(exc):
                raise CheckRefused(refused_login_message(params, exc))
            if isinstance(exc, (redis.ConnectionError, redis.TimeoutError)):
                raise ConnectionFailed(str(exc))
            raise CheckRefused("cannot read INFO from %s: %s" % (endpoint(params), exc))
        last_server.update(server_identity(parse_info(server_text)))
        return replication_state(parse_info(replication_text))
    return fetch


def read_log_tail(path):
    """The last LOG_TAIL_BYTES of the file at path, from its first whole line."""
    with open(path, "rb") as handle:
        handle.seek(0, os.SEEK_END)
        start = max(0, handle.tell() - LOG_TAIL_BYTES)
        handle.seek(start)
        text = handle.read().decode("utf-8", errors="replace")
    return text.split("\n", 1)[-1] if start else text


def explain_link_down(module, path, state):
    """The last replication error in the log at path when state is a replica whose link is down, or None."""
    if not path or state is None or state["role"] != "replica" or state["master_link_status"] == "up":
        return None
    try:
        return link_down_reason(read_log_tail(path))
    except OSError as exc:
        module.warn("Cannot read log_file %s for the reason the link is down: %s" % (path, exc))
        return None


def outcome(module, params, reading):
    """The result of one instance's check: a dict with msg (and link_down_reason) when it failed."""
    state, mismatches, elapsed, attempts, progress = reading
    result = dict(state=state, mismatches=mismatches, elapsed=round(elapsed, 2), attempts=attempts,
                  progress=progress)
    if not mismatches:
        return result
    msg = "%s: %s (after %.1fs, %d attempt%s)" % (
        params["instance"], "; ".join(mismatches), elapsed, attempts, "" if attempts == 1 else "s")
    reason = explain_link_down(module, params["log_file"], state)
    if reason:
        result["link_down_reason"] = reason
        msg += ". Last replication error in %s: %s" % (params["log_file"], reason)
        hint = link_down_hint(reason)
        if hint:
            msg += " " + hint
    result["msg"] = msg
    return result


def main():
    argument_spec = module_argument_spec(
        check_member_options(), required=("role",),
        item_required_if=REPLICA_NEEDS_MASTER,
        timeout=dict(type="float", default=30),
        interval=dict(type="float", default=0.05),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True, **role_rules())
    ensure_required_libs(module)
    # Every instance is read in rounds until all match: one call for a host's instances.
    instances, checks = [], []
    for params in members(module.params):
        server = {}
        instances.append((params, server))
        checks.append((state_reader(open_client(params), params, server), expected_state(params)))
    readings = wait_for_states(checks, module.params["timeout"], module.params["interval"])
    results = [dict(outcome(module, params, reading), instance=params["instance"], server=server or None)
               for (params, server), reading in zip(instances, readings)]
    if module.params["instances"] is None:
        # The single-instance form: its one result at the top level.
        [result] = results
        if "msg" in result:
            module.fail_json(changed=False, **result)
        module.exit_json(changed=False, **result)
    failed = [result["msg"] for result in results if "msg" in result]
    summary = dict(changed=False, instances=results,
                   mismatches=["%s: %s" % (result["instance"], mismatch)
                               for result in results for mismatch in result["mismatches"]],
                   elapsed=max([result["elapsed"] for result in results] or [0.0]),
                   attempts=sum(result["attempts"] for result in results))
    if failed:
        module.fail_json(msg=" | ".join(failed), **summary)
    module.exit_json(**summary)


if __name__ == "__main__":
    main()
