#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: replication_info
short_description: Read the replication state of a Redis or Valkey instance
version_added: 0.1.0
description:
  - Returns the server's name and version and its C(INFO replication), normalised so that the same
    keys hold the same kind of value on Redis 4.0 to 8.x and Valkey 8.
  - Reads only; changes nothing.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.replication_info
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, in check mode as otherwise.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  directives:
    description:
      - Configuration directives to look up with C(CONFIG GET); those the server does not know are
        returned in RV(unknown_directives). The C(redisops.redis.server) role checks an instance's
        extra directives this way before it writes a file that the running server could not start from.
    type: list
    elements: str
    default: []
  previous_passwords:
    description:
      - Passwords tried in order when an instance refuses its login password, as
        M(redisops.redis.runtime_config) does while a password is being changed.
      - An instance that refuses its login password and all of these is returned with
        V(login_refused=true) in RV(instances) (or fails the module without O(instances)). The
        C(redisops.redis.server) role stops so before it writes a password that the running instance
        does not accept.
      - An empty string stands for no password.
    type: list
    elements: str
    default: []
  config_file:
    description:
      - The main configuration file of the instance, on the managed host. When set, its directives are
        compared with the running instance's (C(CONFIG GET)) and the differences a restart would
        apply are returned in RV(pending_restart). A restart that failed, or that a run stopped
        before, shows there until the instance runs its file.
      - Values are compared normalised (memory units, V(yes)/V(no), C(save) lines joined, C(bind)
        lists, quoting). A directive C(CONFIG GET) does not return is not compared, nor are those
        applied live (C(requirepass), C(replicaof)... ). Differences count only when the process
        started before the file was last written, so that a value changed live with C(CONFIG SET)
        is not taken for a pending restart.
    type: path
  binary_version:
    description:
      - What the server program installed on the managed host printed for C(--version), as
        M(redisops.redis.host_info) returns it in C(server.output).
      - When set, an instance that runs another flavor, version or build than that program (its
        C(INFO server) C(redis_version) and C(redis_build_id) against the output's C(v=) and
        C(build=)), as after a package upgrade made while it ran, gets an item with
        V(directive=binary) in RV(pending_restart); the C(redisops.redis.server) role restarts it
        and C(playbooks/verify.yml) reports it.
      - Empty, or an output without a version (the program is missing), compares nothing.
    type: str
  count_client_writes:
    description:
      - On a master that was a replica (promoted with C(REPLICAOF NO ONE) or a failover), read its
        replication stream since the promotion from its backlog, as a replica does (C(PSYNC) from
        C(second_repl_offset), over a connection of its own, closed after reading), and count the
        client writes in it, leaving out the C(PING)s it sends its own replicas, C(SELECT) and
        C(REPLCONF). The result is in RV(promotion).
      - The C(redisops.redis.server) role's guard uses it to tell a master that merely pings its
        replicas from one that took writes. When the backlog no longer holds the whole stream, the
        writes cannot be counted and the instance is taken to hold writes.
    type: bool
    default: false
  instances:
    description:
      - Several instances to read in one call, for example every instance of a host, so that one
        module run does what took one per instance. Each item takes the options of one instance
        (its connection, O(directives), O(config_file), O(count_client_writes)); what it leaves
        unset is the top-level option.
      - The results are in RV(instances). An instance that cannot be read (not running, a refused
        login) does not fail the module; its result has an V(error) instead.
      - Without O(instances), the top-level options are the one instance read (the
        single-instance form); the module runs the same way on a list of that one instance,
        returns its result at the top level, and fails with its V(error).
notes:
  - The connecting user needs the C(INFO) command, C(CONFIG) for O(directives), and C(PSYNC) for
    O(count_client_writes).
seealso:
  - module: redisops.redis.replication_check
"""

EXAMPLES = r"""
- name: Read the replication state of the replica
  redisops.redis.replication_info:
    login_port: 6479
    login_password: "{{ redis_password }}"
  register: replica_info

- name: Fail unless it replicates from the master with its link up
  ansible.builtin.assert:
    that:
      - replica_info.replication.role == 'replica'
      - replica_info.replication.master_port == 6379
      - replica_info.replication.master_link_status == 'up'

- name: List the replicas the master sees
  redisops.redis.replication_info:
    login_password: "{{ redis_password }}"
  register: master_info

- name: Show them
  ansible.builtin.debug:
    msg: "{{ master_info.replication.replicas | map(attribute='ip') | list }}"

- name: Read both instances in one call
  redisops.redis.replication_info:
    login_password: "{{ redis_password }}"
    instances:
      - {instance: master, login_port: 6379}
      - {instance: replica, login_port: 6479}
  register: both

- name: Read whether the replica still runs an older configuration than its file
  redisops.redis.replication_info:
    login_port: 6479
    login_password: "{{ redis_password }}"
    config_file: /etc/redis/redis-replica.conf
  register: replica_config

- name: Fail when a restart is pending
  ansible.builtin.assert:
    that: replica_config.pending_restart | length == 0
    fail_msg: "{{ replica_config.pending_restart }}"

- name: Show the role of each, or why it could not be read
  ansible.builtin.debug:
    msg: "{{ both.instances | map(attribute='replication.role', default='unreadable') | list }}"
"""

RETURN = r"""
instances:
  description:
    - With O(instances), one result per instance, in order, with its V(instance) name and either
      RV(server), RV(replication), RV(unknown_directives) (and RV(pending_restart), RV(promotion)) as
      described here, or V(error), why it could not be read, and V(login_refused=true) when that is
      because it refused the login password (and every one of O(previous_passwords)).
  returned: when O(instances) is given
  type: list
  elements: dict
  sample:
    - {instance: master, server: {name: redis, version: 7.0.15}, replication: {role: master}, aof_enabled: true, unknown_directives: []}
    - {instance: replica, error: "Cannot connect to 127.0.0.1:6479: Error 111 connecting to 127.0.0.1:6479. Connection refused."}
    - instance: cache
      login_refused: true
      error: >-
        127.0.0.1:6380 refused the login of user 'default' with login_password and the 1 previous_passwords:
        invalid username-password pair or user is disabled. Fix: give login_password the password the instance has,
        or list it in previous_passwords (server role: redis_server_password or the instance's password, and
        redis_server_previous_passwords).
login_refused:
  description: On failure, whether the instance refused the login password and every one of O(previous_passwords).
  returned: failure, unless O(instances) is given
  type: bool
  sample: true
instance:
  description: The name of the instance read, O(instance) or its endpoint.
  returned: success, unless O(instances) is given
  type: str
  sample: replica
pending_restart:
  description:
    - With O(config_file), each directive whose value in the file differs from the running
      instance's, the process having started before the file was written; empty when the instance
      runs its file, or when the file cannot be read (a missing file is not a pending restart).
  returned: success, when O(config_file) is given
  type: list
  elements: dict
  contains:
    directive:
      description: The directive, lowercase.
      type: str
      sample: port
    file:
      description: Its value in the file, as written there (unquoted).
      type: str
      sample: "7001"
    running:
      description: Its value in the running instance, as C(CONFIG GET) returns it.
      type: str
      sample: "7000"
    msg:
      description: For V(directive=binary), what runs and what is installed, in a sentence.
      type: str
      sample: >-
        runs redis-server 7.0.15 build e08dbad3e06f3fb (/usr/bin/redis-server), the installed binary is
        redis-server 7.0.15 build ae4d7c971a948f0: a restart runs the installed one
  sample:
    - {directive: maxmemory, file: 256mb, running: "104857600"}
promotion:
  description:
    - With O(count_client_writes), whether the instance, a master, holds writes that making it a
      replica again would throw away. V(null) without O(count_client_writes).
  returned: success, unless O(instances) is given
  type: dict
  contains:
    holds_writes:
      description:
        - V(true) when the instance took client writes since its promotion, when they could not be
          counted, or when it has replicas and no record of its promotion; V(false) on a replica.
      type: bool
      sample: false
    client_writes:
      description: Number of client writes since its promotion; V(null) when unknown or not promoted.
      type: int
      sample: 0
    summary:
      description: The replicas and writes of the instance, in words, for messages.
      type: str
      sample: 1 replica(s) and no client write since its promotion (only pings to its replicas)
aof_enabled:
  description: Whether the instance runs with its AOF on (C(aof_enabled) of C(INFO persistence)).
  returned: success, unless O(instances) is given
  type: bool
  sample: true
unknown_directives:
  description: The directives of O(directives) the server does not know (C(CONFIG GET) returns nothing for them).
  returned: success, unless O(instances) is given
  type: list
  elements: str
  sample: [no-such-directive]
server:
  description: The server software and its version.
  returned: success, unless O(instances) is given
  type: dict
  contains:
    name:
      description: V(redis) or V(valkey).
      type: str
      sample: redis
    version:
      description: The server's own version (C(valkey_version) on Valkey, not its compatibility C(redis_version)).
      type: str
      sample: 7.0.15
    build_id:
      description: The build id of the program the server runs (C(redis_build_id)); V(null) when not reported.
      type: str
      sample: ae4d7c971a948f0
    executable:
      description: The path the server was started from (C(executable), Redis 5 and later); V(null) when not reported.
      type: str
      sample: /usr/bin/redis-server
    run_id:
      description: The server's run id, new at every start (C(run_id)).
      type: str
      sample: f7856e9f873cc6bb5a11ce3f9f3d2fb9c1db8e13
    process_id:
      description: The server's process id (C(process_id)).
      type: int
      sample: 4242
replication:
  description:
    - The normalised C(INFO replication). Every key is always present, V(null) where the server
      does not report the field (for example C(master_host) on a master, C(master_sync_total_bytes)
      before Redis 6.2).
    - C(slave_*) fields are returned under C(replica_*) names, the role V(slave) as V(replica).
  returned: success, unless O(instances) is given
  type: dict
  contains:
    role:
      description: V(master) or V(replica).
      type: str
      sample: replica
    master_host:
      description: The master this replica replicates from, as configured.
      type: str
      sample: 127.0.0.1
    master_port:
      description: Port of the master.
      type: int
      sample: 6379
    master_link_status:
      description: V(up) or V(down).
      type: str
      sample: up
    master_last_io_seconds_ago:
      description: Seconds since the last interaction with the master; V(-1) when the link is down.
      type: int
      sample: 1
    master_link_down_since_seconds:
      description:
        - Seconds the link has been down; V(null) while it is up.
        - V(-1) when the link has not been up since the replica started or got this master (Redis
          before 6.2 report the Unix time then; it is returned as V(-1) too).
      type: int
      sample: 12
    master_sync_in_progress:
      description: Whether a full sync from the master is in progress.
      type: bool
      sample: false
    master_sync_total_bytes:
      description: Size of the sync payload; V(-1) when unknown (a streamed payload). Redis 6.2 and later.
      type: int
      sample: 1048576
    master_sync_read_bytes:
      description: Bytes of the sync payload received so far. Redis 6.2 and later.
      type: int
      sample: 524288
    master_sync_left_bytes:
      description: Bytes of the sync payload still to receive; V(-1) when unknown.
      type: int
      sample: 524288
    master_sync_percent:
      description: Percentage of the sync payload received, when its size is known.
      type: float
      sample: 50.0
    replica_repl_offset:
      description: Replication offset this replica has processed (C(slave_repl_offset)).
      type: int
      sample: 14
    replica_read_only:
      description: Whether this replica refuses writes (C(slave_read_only)); V(null) on a master.
      type: bool
      sample: true
    replica_priority:
      description: Priority of this replica for promotion by Sentinel (C(slave_priority)).
      type: int
      sample: 100
    connected_replicas:
      description: Number of replicas connected to this instance (C(connected_slaves)).
      type: int
      sample: 1
    replicas:
      description: The replicas connected to this instance, as it sees them.
      type: list
      elements: dict
      contains:
        ip:
          description: Address of the replica, as seen by this instance or announced by the replica.
          type: str
          sample: 127.0.0.1
        port:
          description: Port the replica listens on.
          type: int
          sample: 6479
        state:
          description: V(online) once in sync; V(wait_bgsave), V(send_bulk) and others while syncing.
          type: str
          sample: online
        offset:
          description: Replication offset the replica has acknowledged.
          type: int
          sample: 14
        lag:
          description: Seconds since the replica's last acknowledgement.
          type: int
          sample: 0
      sample:
        - {ip: 127.0.0.1, port: 6479, state: online, offset: 14, lag: 0}
    master_replid:
      description: Replication ID of the data set.
      type: str
      sample: 8773a13d4a5fa6fe872630be925cf638cae816ef
    master_replid2:
      description: Previous replication ID, after a promotion.
      type: str
      sample: "0000000000000000000000000000000000000000"
    master_repl_offset:
      description: Replication offset of this instance's data set.
      type: int
      sample: 14
    second_repl_offset:
      description: Offset up to which C(master_replid2) is valid; V(-1) when none.
      type: int
      sample: -1
    writes_since_promotion:
      description:
        - On a master that was a replica before (promoted with C(REPLICAOF NO ONE)), the bytes of
          replication stream it produced since; V(0) means it took no write. V(null) on a master that
          never was a replica, and on a replica.
      type: int
      sample: 0
    repl_backlog_active:
      description: Whether the replication backlog exists.
      type: bool
      sample: true
    repl_backlog_size:
      description: Size of the replication backlog in bytes.
      type: int
      sample: 1048576
    repl_backlog_first_byte_offset:
      description: Offset of the first byte in the backlog.
      type: int
      sample: 1
    repl_backlog_histlen:
      description: Bytes of data in the backlog.
      type: int
      sample: 14
"""

import os
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
from ansible_collections.redisops.redis.plugins.module_utils.binary import (
    installed_build,
    replaced_binary,
    running_build,
)
from ansible_collections.redisops.redis.plugins.module_utils.running_config import (
    ConfigSyntaxError,
    file_directives,
    pending_restart,
)
from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    client_writes,
    info_member_options,
    parse_info,
    promotion_writes,
    replication_state,
    stream_command_length,
    stream_window,
)


def read_pending_restart(client, config_file, uptime_seconds):
    """The directives of config_file that the running instance does not run yet (pending_restart)."""
    try:
        with open(config_file, "rb") as handle:
            text = handle.read().decode("utf-8", "replace")
        mtime = os.stat(config_file).st_mtime
        names = list(file_directives(text))
    except (OSError, ConfigSyntaxError):
        return []  # a missing or unreadable file is reported by the file comparison, not as a restart
    running = {name: client.config_get(name).get(name) for name in names}
    return pending_restart(text, running, uptime_seconds, time.time(), mtime)


def stream_since_promotion(client, state):
    """The commands of the replication stream the master of client produced since its promotion.

    A connection of its own (same server, same login), with bytes (a value need not be text),
    asks for the stream as a replica would (PSYNC), reads exactly the bytes INFO counted, and is
    closed: the master drops it from its replicas. Raises ValueError or redis.RedisError with the reason.
    """
    replid, offset, length = stream_window(state)
    pool = client.connection_pool
    connection = pool.connection_class(**dict(pool.connection_kwargs, decode_responses=False))
    try:
        connection.send_command("PSYNC", replid, offset)
        answer = connection.read_response()
        answer = answer.decode("utf-8", "replace") if isinstance(answer, bytes) else str(answer)
        if not answer.startswith("CONTINUE"):
            # FULLRESYNC: the backlog moved on since INFO; the master's BGSAVE for it is abandoned.
            raise ValueError("the master answered PSYNC with %s instead of the backlog" % answer.split()[0])
        commands, read = [], 0
        while read < length:
            args = connection.read_response()
            if not isinstance(args, list) or not args:
                raise ValueError("unexpected %r in the replication stream" % (args,))
            commands.append(args)
            read += stream_command_length(args)
        if read != length:
            raise ValueError("the replication stream does not end at offset %d" % state["master_repl_offset"])
        return commands
    finally:
        connection.disconnect()


def read(client, directives, config_file=None, count_writes=False, binary_version=None):
    """server, replication, aof_enabled, unknown_directives, and pending_restart (with config_file or
    binary_version) and promotion (with count_writes) of the instance client talks to."""
    server_info = parse_info(client.info("server"))
    replication_text = client.info("replication")
    unknown = [name for name in directives if not client.config_get(name)]
    state = replication_state(parse_info(replication_text))
    running = running_build(server_info)
    aof_enabled = parse_info(client.info("persistence")).get("aof_enabled") == "1"
    result = dict(server=running, replication=state, unknown_directives=unknown, promotion=None,
                  aof_enabled=aof_enabled)
    if config_file:
        result["pending_restart"] = read_pending_restart(client, config_file,
                                                         int(server_info.get("uptime_in_seconds", 0)))
    if binary_version:
        replaced = replaced_binary(running, installed_build(binary_version, running["name"]))
        result["pending_restart"] = result.get("pending_restart", []) + ([replaced] if replaced else [])
    if count_writes:
        writes, error = None, None
        if state["role"] == "master" and state["writes_since_promotion"]:
            try:
                writes = client_writes(stream_since_promotion(client, state))
            except (ValueError, redis.RedisError) as exc:
                error = str(exc)
        result["promotion"] = promotion_writes(state, writes, error)
    return result


def read_instance(params):
    """The result of the instance of params: read(), with its name, or why it could not be read
    (error, and login_refused=true when it refused the login password and every previous one)."""
    try:
        client = login(params, params["previous_passwords"])
    except LoginError as exc:
        return dict(instance=params["instance"], error=str(exc), **({"login_refused": True} if exc.refused else {}))
    try:
        return dict(read(client, params["directives"], params["config_file"], params["count_client_writes"],
                         params["binary_version"]),
                    instance=params["instance"])
    except redis.RedisError as exc:
        return dict(instance=params["instance"], error="Cannot read INFO from %s: %s" % (endpoint(params), exc))
    finally:
        client.close()


def main():
    argument_spec = module_argument_spec(
        info_member_options(),
        previous_passwords=dict(type="list", elements="str", default=[], no_log=True),
        binary_version=dict(type="str"),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    ensure_required_libs(module)
    results = [read_instance(params) for params in members(module.params)]
    if module.params["instances"] is not None:
        module.exit_json(changed=False, instances=results)
    # The single-instance form: its one result at the top level, or the module fails with its error.
    [result] = results
    if "error" in result:
        module.fail_json(msg=result["error"], instance=result["instance"],
                         login_refused=result.get("login_refused", False))
    module.exit_json(changed=False, **result)


if __name__ == "__main__":
    main()
