# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The steps of a planned switchover on live instances, shared by the failover module's two paths
(the module promotes the target itself, or Sentinel does: module_utils/sentinel_switch.py).

Steps plans every command before the first one runs and lists them, in the order they run, for
check mode, for either path (PLAIN_ORDER, SENTINEL_ORDER). Run runs them and remembers what ran.
A member is the module's: an object with name, host, port, client (redis-py), server, state,
config and refresh(). What to run is decided by the pure functions of module_utils/failover.py.
"""

from __future__ import annotations

import time

from ansible_collections.redisops.redis.plugins.module_utils.connection import redis
from ansible_collections.redisops.redis.plugins.module_utils.failover import (
    caught_up,
    credential_commands,
    fence_directives,
    follow_command,
    follows,
    forget_master_commands,
    pause_commands,
    promote_command,
)

# Polling interval while waiting for the target to reach the old master's offset.
POLL_SECONDS = 0.005
# Of pause_timeout, kept for promoting, demoting and resuming writes after the target caught up.
SWITCH_RESERVE_SECONDS = 1.0

# The order the steps of a promotion run in, and are listed in check mode. Plain: the module
# promotes the target, then clears its old-master credentials. Through Sentinel: one Sentinel is
# sent SENTINEL FAILOVER, and the new master keeps its credentials (Sentinel may make it a replica again).
PLAIN_ORDER = ("stop", "promote", "demote", "resume", "forget", "repoint")
SENTINEL_ORDER = ("stop", "failover", "demote", "resume", "repoint")


class Run:
    """Runs commands on members, remembering what ran for the result and for failure messages."""

    def __init__(self):
        self.done = []

    def __call__(self, member, command):
        member.client.execute_command(*command.args)
        self.done.append(shown(member, command))


def shown(member, command):
    return "%s - %s" % (member.name, command.text)


def follow_target(module, member, target):
    """The commands that make member a replica of the target, with the credentials for it."""
    masterauth = module.params["masterauth"]
    if masterauth is None:
        masterauth = module.params["login_password"] or ""
    commands = credential_commands(member.config, masterauth, module.params["masteruser"], member.server)
    if not follows(member.state, target.host, target.port):
        commands.append(follow_command(member.server, target.host, target.port))
    return commands


class Steps:
    """Every command of a promotion, planned before the first one runs."""

    def __init__(self, module, target, master, others):
        self.fence_current = {name: master.config.get(name) for name in fence_directives(master.server)}
        self.stop, self.resume = pause_commands(master.server, module.params["pause_timeout"] * 1000,
                                                self.fence_current)
        self.promote = [promote_command(target.server)]
        self.demote = follow_target(module, master, target)
        self.forget = forget_master_commands(target.config, target.server)
        self.repoint = [(member, follow_target(module, member, target)) for member in others]
        # Through Sentinel: (who, command) of SENTINEL FAILOVER (sentinel_switch.failover_step); None: plain.
        self.failover = None

    def order(self):
        return SENTINEL_ORDER if self.failover else PLAIN_ORDER

    def listed(self, target, master):
        """The commands in the order they run, as shown."""
        where = {"stop": master, "promote": target, "demote": master, "resume": master, "forget": target}
        listed = []
        for step in self.order():
            if step == "failover":
                listed.append("%s - %s" % (self.failover[0], self.failover[1].text))
            elif step == "repoint":
                listed.extend(shown(member, command) for member, commands in self.repoint for command in commands)
            else:
                listed.extend(shown(where[step], command) for command in getattr(self, step))
        return listed


def run_all(run, member, commands):
    for command in commands:
        run(member, command)


def resume_writes(run, master, resume):
    """Let writes go again; returns the error text when the old master refused, else None."""
    try:
        run_all(run, master, resume)
    except redis.RedisError as exc:
        return "%s refused to resume writes: %s" % (master.name, exc)
    return None


def wait_caught_up(target, master, deadline):
    """Poll until the target processed the master's stream up to the master's current offset.

    Returns (offset, reached). The master's offset is read again after each catch-up: a PING it
    sends its replicas while writes are stopped moves it on by a few bytes.
    """
    offset = master.refresh()["master_repl_offset"]
    while True:
        if caught_up(offset, target.refresh()):
            latest = master.refresh()["master_repl_offset"]
            if latest == offset:
                return offset, True
            offset = latest
            continue
        if time.monotonic() >= deadline:
            return offset, False
        time.sleep(POLL_SECONDS)


def repoint(module, run, target, forget, pending):
    """Clear the promoted instance's old-master credentials, then point the other replicas at it."""
    member = target
    try:
        run_all(run, target, forget)
        for member, commands in pending:
            run_all(run, member, commands)
    except redis.RedisError as exc:
        module.fail_json(msg="%s is the master now, but %s refused a command: %s. Run the failover again to "
                             "point the remaining replicas at it." % (target.name, member.name, exc),
                         commands=run.done)
