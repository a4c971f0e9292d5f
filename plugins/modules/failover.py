#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: failover
short_description: Promote a Redis replica to master without losing acknowledged writes
version_added: 0.1.0
description:
  - Makes the replica the module connects to (the target) the master of its replication group, in
    one call, so that no write the old master acknowledged is lost.
  - Stops writes on the old master (C(CLIENT PAUSE WRITE) on Redis 6.2 and later; before 6.2, where
    C(CLIENT PAUSE) would stop the module's own commands too, a fence that makes the master refuse
    writes, C(min-replicas-to-write) above any possible number of replicas), reads the old master's
    replication offset, waits until the target has processed the stream up to it, promotes the target
    (C(REPLICAOF NO ONE)), makes the old master a replica of the target, lets writes go again and
    points the other replicas at the target (C(REPLICAOF), C(SLAVEOF) before Redis 5).
  - Writes sent to the old master while they are stopped are never acknowledged by it. With the pause
    they wait and, once the old master is a replica, fail with C(READONLY); with the fence they fail
    at once with C(NOREPLICAS). Clients must retry them on the new master.
  - If the target does not catch up within O(pause_timeout), writes go again on the old master and
    the module fails, having changed nothing.
  - Before any change it connects to every instance and checks that the target is a replica of the
    master with its link up. It fails, changing nothing, otherwise.
  - Idempotent. When the target is already the master and the old master its replica, it only points
    the replicas that still follow another master at the target, and reports no change when all do.
  - With O(unplanned=true), for a master that is down (it refuses connections or does not answer), it
    promotes the target without stopping writes (there is no master to stop them on). First it checks
    that no replica is still linked to the master, that every replica listed in O(replicas) replicates
    from it with the same replication ID, and that the target holds at least as much of the master's
    replication stream (replication offset) as each of them; then it promotes the target and points
    the others at it. They hold at most what the target holds, in the same history, so they resync
    partially and nothing the target holds is lost. It fails, changing nothing, when the master
    answers (the planned mode is the right one then) or when a listed replica is further ahead than
    the target, naming it and both offsets. The old master is not touched.
  - The changes live in memory only. Write the new topology into each instance's configuration (the
    C(redisops.redis.failover) playbook updates the role's C(redis-NAME.live.conf) files) so that a
    restart keeps it.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.failover
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - Connects to and reads every instance, checks the group and returns the commands it would run.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  instance:
    description:
      - Name of the target in messages and in the results, such as V(host1:replica).
      - Defaults to the endpoint, V(HOST:PORT).
    type: str
  master:
    description:
      - The current master of the target, as the module reaches it, in the form of an item of the
        C(instances) option of the collection's other modules; its address (O(master.login_host)) is
        also what the target's C(master_host) must be (or resolve to).
    required: true
  replicas:
    description:
      - The master's other replicas, pointed at the target after its promotion, with the keys of O(master).
      - Replicas of the old master not listed here stay replicas of it (which becomes a replica of
        the target). Nothing is lost, but they replicate through it.
  advertise_address:
    description:
      - Address the old master and the other replicas use to reach the target (the role's
        C(advertise_address)).
      - Defaults to O(login_host).
      - The alias O(announce_host) is deprecated.
    aliases: [announce_host]
    type: str
  advertise_port:
    description:
      - Port the old master and the other replicas use to reach the target.
      - Defaults to O(login_port).
      - The alias O(announce_port) is deprecated.
    aliases: [announce_port]
    type: int
  masterauth:
    description:
      - Password the old master and the other replicas authenticate to the target with
        (C(masterauth)); set on each of them when it differs, before it replicates from the target.
      - Defaults to O(login_password). Set V("") for a target without a password.
    type: str
  masteruser:
    description:
      - ACL user the old master and the other replicas authenticate to the target as (C(masteruser),
        Redis 6 and later). Left as it is when unset.
    type: str
  unplanned:
    description:
      - Replace a master that is down instead of switching over from a running one (see the description).
      - O(master) must not answer; O(replicas) lists the running replicas of that master, which all
        must answer.
    type: bool
    default: false
  pause_timeout:
    description:
      - Seconds writes may stay stopped on the old master at most. The target must catch up with the
        old master within this time, less one second kept for the switch itself; otherwise writes
        go again and the module fails, having changed nothing.
    type: float
    default: 10
  sentinel:
    description:
      - The Sentinels that monitor the group of O(master). With this option the switchover goes through
        them. Writes stop on the old master, every replica Sentinel may promote must reach the old
        master's replication offset, one Sentinel is sent C(SENTINEL FAILOVER), the old master is made a
        replica of the replica Sentinel promoted as soon as it is one (what Sentinel does seconds later),
        and writes go again once a majority of the Sentinels name the new master, all within
        O(pause_timeout). Sentinel then points the other replicas at it; the module does as well.
      - Before anything changes, a majority of all the Sentinels given must name O(master), and the
        Sentinel asked must be sure to promote the target - a replica it does not flag down or
        disconnected, with C(replica-priority) above 0 and lower than that of every other replica it may
        promote (Sentinel promotes the lowest C(replica-priority) first, then the largest offset it read
        last, which may be seconds old). Otherwise the module fails naming the replicas and their
        priorities and changes nothing.
      - On a timeout before a replica was promoted, writes go again on the old master, which is still the
        master. After a promotion, the old master is a replica before writes go again. Either way no
        acknowledged write is lost, and the message says which.
      - The new master keeps C(masterauth) and C(masteruser), as Sentinel may make it a replica again.
      - Excludes O(unplanned), as Sentinels replace a master that is down by themselves.
    type: dict
    suboptions:
      group:
        description: The name of the group the Sentinels monitor (C(SENTINEL MONITOR <group> ...)).
        type: str
        required: true
      instances:
        description: The Sentinels of the group, each reached at its address.
        type: list
        elements: dict
        required: true
        suboptions:
          instance:
            description: Name of this Sentinel in messages. Defaults to its endpoint.
            type: str
          login_host:
            description: Address of this Sentinel. Defaults to V(127.0.0.1).
            type: str
          login_port:
            description: Port of this Sentinel.
            type: int
            required: true
          login_user:
            description: As O(sentinel.login_user), for this Sentinel.
            type: str
          login_password:
            description: As O(sentinel.login_password), for this Sentinel.
            type: str
      login_user:
        description: User to log in to the Sentinels as (Sentinel's own ACL); none by default.
        type: str
      login_password:
        description: Sentinel's own password (its C(requirepass)); none by default.
        type: str
notes:
  - By default the module makes a planned promotion (a switchover) and needs the old master running;
    O(unplanned=true) replaces a master that is down.
  - In the unplanned mode, whether the master is down is judged from the host the module runs on and
    by every listed replica's link to the master. A master that is only cut off from all of them by
    the network keeps running as a master. Stop it before it comes back, or make it a replica of the target.
  - The connecting user needs C(INFO), C(CONFIG), C(CLIENT) and C(REPLICAOF) (C(SLAVEOF) before Redis 5)
    on every instance.
  - The promoted instance's C(masterauth) and C(masteruser), used for its old master, are cleared.
  - The keys of O(master) and O(replicas) were C(name), C(host), C(port), C(user) and C(password) before;
    those names are deprecated aliases, to be removed in 1.0.0.
seealso:
  - module: redisops.redis.replication_check
  - module: redisops.redis.runtime_config
"""

EXAMPLES = r"""
- name: Promote the replica on 10.0.0.12 in place of the master on 10.0.0.11
  redisops.redis.failover:
    instance: redis-2
    login_host: 10.0.0.12
    login_port: 6379
    login_password: "{{ redis_password }}"
    master:
      instance: redis-1
      login_host: 10.0.0.11
      login_port: 6379
    replicas:
      - instance: redis-3
        login_host: 10.0.0.13
        login_port: 6379
  register: promotion

- name: Show what happened
  ansible.builtin.debug:
    msg: "{{ promotion.after }} (writes stopped for {{ promotion.writes_stopped.seconds | default(0) }}s)"

- name: Wait until the old master replicates from the new one
  redisops.redis.replication_check:
    login_host: 10.0.0.11
    login_password: "{{ redis_password }}"
    role: replica
    master_host: 10.0.0.12
    master_port: 6379

- name: Show, changing nothing, what a promotion would run
  redisops.redis.failover:
    login_host: 10.0.0.12
    login_password: "{{ redis_password }}"
    master:
      login_host: 10.0.0.11
      login_port: 6379
  check_mode: true
  register: plan

- name: Replace the master on 10.0.0.11, which is down, by its most up-to-date replica (here 10.0.0.12)
  redisops.redis.failover:
    unplanned: true
    instance: redis-2
    login_host: 10.0.0.12
    login_password: "{{ redis_password }}"
    master:
      instance: redis-1
      login_host: 10.0.0.11
      login_port: 6379
    replicas:
      - instance: redis-3
        login_host: 10.0.0.13
        login_port: 6379

- name: Report the plan
  ansible.builtin.assert:
    that: plan.action in ['promote', 'repoint', 'none']
    success_msg: "{{ plan.commands }}"
"""

RETURN = r"""
action:
  description:
    - V(promote) when the target was (or in check mode would be) promoted (with O(unplanned), in place of
      a master that is down), V(repoint) when it was the
      master already and only replicas were pointed at it, V(none) when the group was in the new
      topology already.
  returned: always
  type: str
  sample: promote
commands:
  description:
    - The commands run, or that would run in check mode, in order, each as V(NAME - COMMAND).
      Secret values are masked.
  returned: always
  type: list
  elements: str
  sample:
    - "redis-1 - CLIENT PAUSE 10000 WRITE"
    - "redis-2 - REPLICAOF NO ONE"
    - "redis-1 - REPLICAOF 10.0.0.12 6379"
    - "redis-1 - CLIENT UNPAUSE"
    - "redis-3 - REPLICAOF 10.0.0.12 6379"
before:
  description:
    - The replication role of each instance before, by name. With O(unplanned), a master that is down is
      V(down) with the reason.
  returned: always
  type: dict
  sample:
    redis-1: master
    redis-2: "replica of 10.0.0.11:6379 (link up)"
    redis-3: "replica of 10.0.0.11:6379 (link up)"
after:
  description:
    - The replication role of each instance after (in check mode, as it would be), by name. A master that
      is down is left as it is; its configuration must make it a replica of the target before it starts.
  returned: always
  type: dict
  sample:
    redis-1: "replica of 10.0.0.12:6379"
    redis-2: master
    redis-3: "replica of 10.0.0.12:6379"
offset:
  description:
    - The old master's replication offset when writes stopped, which the target had reached when promoted.
    - With O(unplanned), the offset up to which the target held the dead master's stream.
  returned: when the target was promoted
  type: int
  sample: 184467
sentinel:
  description:
    - With O(sentinel), the group, the Sentinel asked to fail over, and how many of the group's Sentinels
      named the new master when writes went again.
  returned: when the target was promoted through Sentinel
  type: dict
  sample: {group: master, asked: "sentinel-1:main", votes: 3, sentinels: 3}
writes_stopped:
  description:
    - How writes were stopped on the old master (V(pause) or V(fence)) and for how many seconds.
  returned: when the target was promoted
  type: dict
  sample: {method: pause, seconds: 0.012}
servers:
  description: The server software and version of each instance, by name.
  returned: always
  type: dict
  sample:
    redis-1: {name: redis, version: 7.0.15}
    redis-2: {name: redis, version: 7.0.15}
"""

import time


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    address_member_spec,
    advertise_spec,
    connect,
    connection_argument_spec,
    endpoint,
    ensure_required_libs,
    open_client,
    redis,
)
from ansible_collections.redisops.redis.plugins.module_utils.failover import (
    FailoverError,
    Node,
    assess,
    choose_unplanned,
    credential_directives,
    describe,
    fence_directives,
    follows,
    forget_master_commands,
    held_offset,
    promote_command,
    stop_writes_method,
)
from ansible_collections.redisops.redis.plugins.module_utils.replication import (
    parse_info,
    replication_state,
    server_identity,
)
from ansible_collections.redisops.redis.plugins.module_utils.sentinel_switch import (
    Sentinels,
    failover_step,
    prepare,
    repoint_after,
    sentinel_member_spec,
    sentinel_params,
    switch,
)
from ansible_collections.redisops.redis.plugins.module_utils.switchover import (
    SWITCH_RESERVE_SECONDS,
    Run,
    Steps,
    follow_target,
    repoint,
    resume_writes,
    run_all,
    shown,
    wait_caught_up,
)


class Member:
    """One instance of the group: its client, name, the address the others use, what was read from it."""

    def __init__(self, module, name, params, host, port):
        self.module = module
        self.params = params
        self.name = name or endpoint(params)
        self.host, self.port = host, port
        self.client = connect(module, params)
        self.server = None
        self.state = None
        self.config = {}

    def read(self, fence=False):
        """INFO server and replication, and CONFIG GET of the credentials (and the fence settings)."""
        try:
            self.server = server_identity(parse_info(self.client.info("server")))
            self.state = replication_state(parse_info(self.client.info("replication")))
            # Keyed by the collection's names (masterauth), read by the server's (primaryauth on Valkey 8).
            names = dict(credential_directives(self.server))
            names.update((name, name) for name in (fence_directives(self.server) if fence else ()))
            for name, directive in names.items():
                self.config[name] = self.client.config_get(directive).get(directive)
        except redis.RedisError as exc:
            self.module.fail_json(msg="Cannot read the state of %s (%s): %s. Nothing was changed."
                                  % (self.name, endpoint(self.params), exc))

    def refresh(self):
        self.state = replication_state(parse_info(self.client.info("replication")))
        return self.state

    @property
    def node(self):
        return Node(self.name, self.host, self.port, self.state)


def member_params(module, spec):
    """Connection options for one member: its address and login, the module's for the rest."""
    return dict(module.params, login_host=spec["login_host"], login_port=spec["login_port"], login_unix_socket=None,
                login_user=spec["login_user"] if spec["login_user"] is not None else module.params["login_user"],
                login_password=spec["login_password"] if spec["login_password"] is not None
                else module.params["login_password"])


def promote(module, run, target, master, steps):
    """Stop writes, wait for the offset, promote, demote, resume writes. Returns the result's extras."""
    timeout = module.params["pause_timeout"]
    method = stop_writes_method(master.server)
    started = time.monotonic()
    try:
        run_all(run, master, steps.stop)
    except redis.RedisError as exc:
        problem = resume_writes(run, master, steps.resume)
        module.fail_json(msg="%s refused to stop writes: %s. Nothing was changed%s."
                         % (master.name, exc, "; " + problem if problem else ""), commands=run.done)
    try:
        offset, reached = wait_caught_up(target, master, started + max(0.5, timeout - SWITCH_RESERVE_SECONDS))
    except redis.RedisError as exc:
        problem = resume_writes(run, master, steps.resume)
        module.fail_json(msg="Lost %s or %s while waiting for the target to catch up: %s. The target was not "
                             "promoted; writes on %s go again%s."
                             % (target.name, master.name, exc, master.name, "; " + problem if problem else ""),
                         commands=run.done)
    if not reached:
        problem = resume_writes(run, master, steps.resume)
        module.fail_json(msg="%s did not catch up with %s within %ss (offset %s of %s). The target was not "
                             "promoted and writes on %s go again: nothing was lost%s. Look for a slow link or "
                             "a busy replica, or raise pause_timeout."
                             % (target.name, master.name, timeout, target.state["replica_repl_offset"], offset,
                                master.name, "; " + problem if problem else ""),
                         commands=run.done)

    try:
        run_all(run, target, steps.promote)
    except redis.RedisError as exc:
        problem = resume_writes(run, master, steps.resume)
        module.fail_json(msg="%s refused to be promoted: %s. Nothing was promoted; writes on %s go again%s."
                         % (target.name, exc, master.name, "; " + problem if problem else ""), commands=run.done)
    try:
        run_all(run, master, steps.demote)
    except redis.RedisError as exc:
        module.fail_json(msg="%s is the master now, but %s refused to become its replica: %s. %s is still a "
                             "master and its writes stay stopped only until %s: make it a replica of %s:%s "
                             "(REPLICAOF) at once, or run the failover again."
                             % (target.name, master.name, exc, master.name,
                                "the pause ends" if method == "pause" else "its fence is lifted",
                                target.host, target.port),
                         commands=run.done)
    stopped_for = time.monotonic() - started
    problem = resume_writes(run, master, steps.resume)
    if problem:
        module.warn("%s is a replica of %s now, but %s. As a replica it refuses writes anyway."
                    % (master.name, target.name, problem))
    return dict(offset=offset, writes_stopped=dict(method=method, seconds=round(stopped_for, 3)))


def unreachable(module, params):
    """The reason the server of params cannot be reached (refused or timed out), or None when it answers.

    A refused login or any other answer means the server runs: only a connection that fails is down.
    """
    ensure_required_libs(module)
    client = open_client(params)
    try:
        client.ping()
    except (redis.ConnectionError, redis.TimeoutError) as exc:
        return str(exc) or exc.__class__.__name__
    except redis.RedisError:
        return None
    finally:
        client.close()
    return None


def promote_unplanned(module, run, target, others):
    """Promote the target in place of a master that is down, then point the others at it.

    There are no writes to stop: the master that took them is down. The target keeps everything it
    holds; the others, at most as far as it in the same history, resync partially from it.
    """
    try:
        run(target, promote_command(target.server))
    except redis.RedisError as exc:
        module.fail_json(msg="%s refused to be promoted: %s. Nothing was changed." % (target.name, exc),
                         commands=run.done)
    repoint(module, run, target, forget_master_commands(target.config, target.server),
            [(member, follow_target(module, member, target)) for member in others])


def main():
    argument_spec = connection_argument_spec()
    argument_spec.update(
        instance=dict(type="str"),
        master=dict(type="dict", required=True, options=address_member_spec()),
        replicas=dict(type="list", elements="dict", default=[], options=address_member_spec()),
        **advertise_spec(),
        masterauth=dict(type="str", no_log=True),
        masteruser=dict(type="str"),
        pause_timeout=dict(type="float", default=10),
        unplanned=dict(type="bool", default=False),
        sentinel=dict(type="dict", options=dict(
            group=dict(type="str", required=True),
            instances=dict(type="list", elements="dict", required=True, options=sentinel_member_spec()),
            login_user=dict(type="str"),
            login_password=dict(type="str", no_log=True),
        )),
    )
    module = AnsibleModule(argument_spec=argument_spec, supports_check_mode=True)
    params = module.params
    if params["pause_timeout"] <= 0:
        module.fail_json(msg="pause_timeout must be a positive number of seconds, not %s." % params["pause_timeout"])
    if params["sentinel"] and params["unplanned"]:
        module.fail_json(msg="unplanned and sentinel exclude each other: the Sentinels of group '%s' replace a master "
                             "that is down by themselves. Nothing was changed." % params["sentinel"]["group"])

    # Connect to and read every instance before anything changes. In the unplanned mode the
    # master may be down: that is the one failure to connect that is expected.
    target = Member(module, params["instance"], params, params["advertise_address"] or params["login_host"],
                    params["advertise_port"] or params["login_port"])
    master_params = member_params(module, params["master"])
    down = unreachable(module, master_params) if params["unplanned"] else None
    master = None if down else Member(module, params["master"]["instance"], master_params,
                                      params["master"]["login_host"], params["master"]["login_port"])
    master_node = Node(params["master"]["instance"] or endpoint(master_params), params["master"]["login_host"],
                       params["master"]["login_port"], None)
    others = [Member(module, spec["instance"], member_params(module, spec), spec["login_host"], spec["login_port"])
              for spec in params["replicas"]]
    running = [member for member in [target, master] + others if member is not None]
    for member in running:
        member.read(fence=member is master and not params["unplanned"])

    result = dict(changed=False, commands=[], before={member.name: describe(member.state) for member in running},
                  servers={member.name: member.server for member in running})
    if down:
        result["before"][master_node.name] = "down (%s)" % down
    pending, steps, sentinels, candidates = [], None, None, []
    try:
        if down:
            # Raises unless the target holds at least as much of the dead master's stream as any other replica.
            choose_unplanned(master_node, [member.node for member in [target] + others], target.name)
            assessment = None if target.state["role"] == "master" else "unplanned"
            pending = [(member, follow_target(module, member, target)) for member in others]
            if assessment:
                pending.insert(0, (target, [promote_command(target.server)] + forget_master_commands(target.config, target.server)))
        else:
            if params["unplanned"] and not (target.state["role"] == "master"
                                            and follows(master.state, target.host, target.port)):
                raise FailoverError(
                    "%s (%s) answers, as a %s: the unplanned failover is for a master that is down. Nothing was "
                    "changed. Use the planned failover (without unplanned), which stops writes on %s before it "
                    "promotes %s, so that no acknowledged write is lost."
                    % (master.name, endpoint(master_params), describe(master.state), master.name, target.name))
            assessment = assess(target.node, master.node, [member.node for member in others]).action
            if assessment == "promote":
                steps = Steps(module, target, master, others)
                if params["sentinel"]:
                    sentinels = Sentinels(params["sentinel"]["group"], sentinel_params(params, params["sentinel"]))
                    candidates = prepare(sentinels, target, master, others)
                    steps.failover = failover_step(sentinels)
            else:
                assessment = None
                pending = [(member, follow_target(module, member, target)) for member in [master] + others]
        pending = [(member, commands) for member, commands in pending if commands]
    except FailoverError as exc:
        module.fail_json(msg=str(exc), **result)
    result["after"] = {member.name: "master" if member is target else "replica of %s:%s" % (target.host, target.port)
                       for member in running}
    if down:
        result["after"][master_node.name] = "down; must start as a replica of %s:%s" % (target.host, target.port)

    run = Run()
    if assessment == "promote":
        result["action"] = "promote"
        if module.check_mode:
            result["commands"] = steps.listed(target, master)
        elif sentinels:
            result.update(switch(module, run, target, master, candidates, steps, sentinels))
            repoint_after(module, run, target, others)
        else:
            result.update(promote(module, run, target, master, steps))
            repoint(module, run, target, steps.forget, steps.repoint)
    else:
        # unplanned: promote the target, then point the others at it (the master is down, there
        # are no writes to stop). Otherwise the target is the master already: point
        # the replicas that still follow another master at it (and fix credentials).
        result["action"] = "promote" if assessment == "unplanned" else ("repoint" if pending else "none")
        if assessment == "unplanned":
            result["offset"] = held_offset(target.state)
        if module.check_mode:
            result["commands"] = [shown(member, command) for member, commands in pending for command in commands]
        elif assessment == "unplanned":
            promote_unplanned(module, run, target, others)
        else:
            repoint(module, run, target, [], pending)
    if not module.check_mode:
        result["commands"] = run.done
    result["changed"] = bool(result["commands"])
    module.exit_json(**result)


if __name__ == "__main__":
    main()
