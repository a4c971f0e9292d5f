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
  - redisops contributors (!UNKNOWN)
extends_documentation_fragment:
  - redisops.redis.connection
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
  instance:
    description:
      - Name of the instance in messages, such as V(replica) or V(host1/replica).
      - Defaults to the endpoint, V(HOST:PORT) or V(unix:PATH).
    type: str
  role:
    description:
      - The role the instance must have. A role mismatch is reported alone, as the other checks
        assume the expected role.
    type: str
    required: true
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
      - Seconds between two reads of the state.
    type: float
    default: 0.2
  log_file:
    description:
      - The instance's log file. When a replica's link is down at the end, the last replication
        error logged since the last successful sync and the last start is added to the message.
      - Must be readable by the user the module runs as; if it is not, the module warns and goes on.
    type: path
notes:
  - The instance must accept connections and the login when the module starts. After that, a
    connection that fails, for example while the instance restarts, counts as a mismatch and is
    retried until O(timeout).
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
  ignore_errors: true

- name: Report the differences
  ansible.builtin.assert:
    that: drift is succeeded
    fail_msg: "{{ drift.mismatches | join('; ') }}"
"""

RETURN = r"""
state:
  description:
    - The last normalised replication state read, as RV(redisops.redis.replication_info#module:replication)
      of M(redisops.redis.replication_info).
    - V(null) when the last attempt could not connect.
  returned: always
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
  returned: always
  type: dict
  sample: {name: redis, version: 7.0.15}
mismatches:
  description: Every difference from the expected state at the last attempt; empty on success.
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
  description: Number of times the state was read.
  returned: always
  type: int
  sample: 7
link_down_reason:
  description: The last replication error in O(log_file), when a replica's link is down at the end.
  returned: when a replica's link is down and O(log_file) names a log with a replication error
  type: str
  sample: "Unable to AUTH to MASTER: -WRONGPASS invalid username-password pair or user is disabled."
"""

import os

from ansible.module_utils.basic import AnsibleModule

from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    connect,
    connection_argument_spec,
    endpoint,
    redis,
)
from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    ConnectionFailed,
    link_down_hint,
    link_down_reason,
    parse_info,
    replication_state,
    server_identity,
    wait_for_state,
)

# A replica logs one failed attempt a second, or thousands when it retries at once: the last
# 64 KiB always hold the latest ones.
LOG_TAIL_BYTES = 64 * 1024
EXPECTED_KEYS = ("role", "master_host", "master_port", "link_up", "read_only", "replicas", "min_replicas",
                 "max_lag", "max_offset_gap")


def expected_state(params):
    """The options that describe the expected state, as compare() takes them."""
    return {key: params[key] for key in EXPECTED_KEYS if params[key] is not None}


def state_reader(client, last_server):
    """fetch() for wait_for_state: the normalised state; the server identity goes into last_server.

    Connection failures (refused, timeout, loading the data set after a restart) raise
    ConnectionFailed, to be retried; a refused login or command is final and raises as it is.
    """
    def fetch():
        try:
            server_text = client.info("server")
            replication_text = client.info("replication")
        except redis.AuthenticationError:
            raise
        except (redis.ConnectionError, redis.TimeoutError) as exc:
            raise ConnectionFailed(str(exc))
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


def explain_link_down(module, state):
    """The last replication error in log_file when state is a replica whose link is down, or None."""
    path = module.params["log_file"]
    if not path or state is None or state["role"] != "replica" or state["master_link_status"] == "up":
        return None
    try:
        return link_down_reason(read_log_tail(path))
    except OSError as exc:
        module.warn("Cannot read log_file %s for the reason the link is down: %s" % (path, exc))
        return None


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        instance=dict(type="str"),
        role=dict(type="str", required=True, choices=["master", "replica"]),
        master_host=dict(type="str"),
        master_port=dict(type="int"),
        link_up=dict(type="bool", default=True),
        read_only=dict(type="bool"),
        replicas=dict(type="list", elements="dict", options=dict(
            host=dict(type="str", required=True),
            port=dict(type="int", required=True),
        )),
        min_replicas=dict(type="int"),
        max_lag=dict(type="int"),
        max_offset_gap=dict(type="int"),
        timeout=dict(type="float", default=30),
        interval=dict(type="float", default=0.2),
        log_file=dict(type="path"),
    )
    module = AnsibleModule(
        argument_spec=argument_spec,
        required_if=[("role", "replica", ("master_host", "master_port"))],
        supports_check_mode=True,
    )
    instance = module.params["instance"] or endpoint(module.params)

    client = connect(module)
    server = {}
    try:
        state, mismatches, elapsed, attempts = wait_for_state(
            state_reader(client, server), expected_state(module.params),
            module.params["timeout"], module.params["interval"])
    except redis.RedisError as exc:
        module.fail_json(msg="%s: cannot read INFO from %s: %s" % (instance, endpoint(module.params), exc))

    result = dict(changed=False, state=state, server=server or None, mismatches=mismatches,
                  elapsed=round(elapsed, 2), attempts=attempts)
    if not mismatches:
        module.exit_json(**result)

    msg = "%s: %s (after %.1fs, %d attempt%s)" % (
        instance, "; ".join(mismatches), elapsed, attempts, "" if attempts == 1 else "s")
    reason = explain_link_down(module, state)
    if reason:
        result["link_down_reason"] = reason
        msg += ". Last replication error in %s: %s" % (module.params["log_file"], reason)
        hint = link_down_hint(reason)
        if hint:
            msg += " " + hint
    module.fail_json(msg=msg, **result)


if __name__ == "__main__":
    main()
