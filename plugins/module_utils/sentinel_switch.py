# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The Sentinels of a replication group on the wire, and the planned switchover through them.

Sentinels.answers() is the one place the collection asks a group's Sentinels for its master
(SENTINEL GET-MASTER-ADDR-BY-NAME): the sentinel_master module and the failover module's option
sentinel both use it. prepare(), switch() and repoint_after() are that option's steps: the checks
before anything changes, then stop writes, SENTINEL FAILOVER, demote, resume. The decisions taken
from what the Sentinels answer are the pure functions of module_utils/sentinel_master.py; the
steps shared with the plain switchover are module_utils/switchover.py's.
"""

from __future__ import annotations

import socket
import time

from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    LoginError,
    endpoint,
    login,
    member_spec,
    redis,
)
from ansible_collections.redisops.redis.plugins.module_utils.failover import FailoverError, stop_writes_method
from ansible_collections.redisops.redis.plugins.module_utils.replication import resolve_host
from ansible_collections.redisops.redis.plugins.module_utils.runtime_config import Command
from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import (
    DecisionError,
    agreed_on,
    answers_text,
    decide,
    entry_dict,
    parse_reply,
    switch_candidates,
)
from ansible_collections.redisops.redis.plugins.module_utils.switchover import (
    SWITCH_RESERVE_SECONDS,
    follow_target,
    repoint,
    resume_writes,
    run_all,
    wait_caught_up,
)


def sentinel_member_spec():
    """One Sentinel of the failover module's O(sentinel.instances): the member spec, reached by
    address (no unix socket)."""
    spec = member_spec(required=("login_port",))
    del spec["login_unix_socket"]
    return spec


def sentinel_params(defaults, spec):
    """The connection options of each Sentinel of the failover module's O(sentinel) option: the
    item's address and login, else O(sentinel)'s login, the module's options for the rest."""
    found = []
    for item in spec["instances"]:
        params = dict(defaults, login_unix_socket=None, login_host=item["login_host"] or "127.0.0.1",
                      login_port=item["login_port"],
                      login_user=item["login_user"] if item["login_user"] is not None else spec["login_user"],
                      login_password=item["login_password"] if item["login_password"] is not None
                      else spec["login_password"])
        params["instance"] = item["instance"] or endpoint(params)
        found.append(params)
    return found


def listening(params):
    """Whether the Sentinel of params accepts a TCP connection (needs no redis-py)."""
    if params.get("login_unix_socket"):
        return True
    try:
        connection = socket.create_connection((params["login_host"], params["login_port"]),
                                              timeout=params["connect_timeout"])
    except OSError:
        return False
    connection.close()
    return True


class Sentinels:
    """The Sentinels of a group: each one's answer to GET-MASTER-ADDR-BY-NAME, the failover request.

    params: the connection options of each Sentinel, with its name in "instance"; previous: the
    passwords tried when login_password is refused. One client per Sentinel, kept until close().
    """

    def __init__(self, group, params, previous=()):
        self.group = group
        self.params = list(params)
        self.previous = tuple(previous)
        self.clients = {}
        self.silent = set()
        self.asked = None

    def probe(self):
        """Whether each Sentinel accepts a TCP connection (needs no redis-py); the ones that do not
        are answered for without asking them. Returns one boolean per Sentinel."""
        found = [listening(params) for params in self.params]
        self.silent = {index for index, up in enumerate(found) if not up}
        return found

    def client(self, params):
        key = id(params)
        if key not in self.clients:
            self.clients[key] = login(params, self.previous)
        return self.clients[key]

    def forget(self, params):
        client = self.clients.pop(id(params), None)
        if client is not None:
            client.close()

    def close(self):
        for client in self.clients.values():
            client.close()
        self.clients = {}

    def answers(self):
        """One answer per Sentinel, in order, as sentinel_master.decide() takes them:
        {"sentinel": name, "master": {"host", "port"} or None, "error": text or None, "unreachable": bool}."""
        found = []
        for index, params in enumerate(self.params):
            answer = {"sentinel": params["instance"], "master": None, "error": None, "unreachable": False}
            try:
                if index in self.silent:
                    raise LoginError("Cannot connect to %s: no connection accepted" % endpoint(params),
                                     unreachable=True)
                answer["master"] = parse_reply(self.client(params).execute_command(
                    "SENTINEL", "GET-MASTER-ADDR-BY-NAME", self.group))
            except LoginError as exc:
                answer.update(error=str(exc), unreachable=exc.unreachable)
            except (redis.RedisError, ValueError) as exc:
                self.forget(params)
                answer["error"] = "%s: %s" % (endpoint(params), exc)
            found.append(answer)
        return found

    def first(self, answers):
        """The params of the first Sentinel that answered (the one asked to fail over)."""
        for params, answer in zip(self.params, answers):
            if not answer["error"]:
                return params
        return None

    def replicas(self, params):
        return [entry_dict(entry) for entry in
                self.client(params).execute_command("SENTINEL", "REPLICAS", self.group) or []]


def prepare(sentinels, target, master, others, resolve=resolve_host):
    """Before anything changes: the Sentinels agree on the old master and will promote the target.
    Sets sentinels.asked (the Sentinel to ask) and returns the members Sentinel may promote.
    Raises FailoverError."""
    answers = sentinels.answers()
    group = sentinels.group
    if not agreed_on(group, answers, master.host, master.port, resolve(master.host)):
        raise FailoverError(
            "The Sentinels of group '%s' do not agree that %s (%s:%s) is its master: %s. Nothing was changed. "
            "Fix: start the Sentinels that do not answer, or wait until a failover in progress ends (then "
            "site.yml follows the master they name)."
            % (group, master.name, master.host, master.port, answers_text(answers)))
    asked = sentinels.first(answers)
    try:
        addresses = switch_candidates(group, asked["instance"], sentinels.replicas(asked), (target.host, target.port),
                                      resolve(target.host))
    except DecisionError as exc:
        raise FailoverError(str(exc))
    except redis.RedisError as exc:
        raise FailoverError("Cannot read the replicas Sentinel %s knows of group '%s': %s. Nothing was changed."
                            % (asked["instance"], group, exc))
    members = []
    for text in addresses:
        host, port = text.rsplit(":", 1)
        found = [member for member in [target] + others if str(member.port) == port
                 and (member.host == host or host in resolve(member.host))]
        if not found:
            raise FailoverError(
                "Sentinel %s may promote %s in group '%s', which is not an instance of this failover: its "
                "replication offset cannot be checked before the failover. Nothing was changed. Fix: add it to "
                "the replicas of the group in the inventory, or give it replica-priority 0."
                % (asked["instance"], text, group))
        members.append(found[0])
    sentinels.asked = asked
    return members


def failover_step(sentinels):
    """The step that promotes through Sentinel, for switchover.Steps.failover: (who, command)."""
    return ("Sentinel %s" % sentinels.asked["instance"],
            Command(("SENTINEL", "FAILOVER", sentinels.group), "SENTINEL FAILOVER %s" % sentinels.group))


def promoted_member(candidates):
    """The member of candidates that reports role master now, or None."""
    for member in candidates:
        try:
            if member.refresh()["role"] == "master":
                return member
        except redis.ConnectionError:
            continue  # Sentinel's CLIENT KILL TYPE normal on the promoted replica: read again next time
    return None


def switch(module, run, target, master, candidates, steps, sentinels):
    """Stop writes; wait until every replica Sentinel may promote holds the master's stream; SENTINEL
    FAILOVER; when a replica is master, make the old master its replica; wait until a majority of the
    Sentinels name it; resume writes. On a timeout writes go again only where they cannot be lost.
    steps: the switchover.Steps of the promotion, with steps.failover set (failover_step)."""
    timeout = module.params["pause_timeout"]
    method = stop_writes_method(master.server)
    started = time.monotonic()
    deadline = started + max(0.5, timeout - SWITCH_RESERVE_SECONDS)
    group = sentinels.group

    def give_up(text):
        problem = resume_writes(run, master, steps.resume)
        module.fail_json(msg=text + ("; " + problem if problem else ""), commands=run.done)

    try:
        run_all(run, master, steps.stop)
    except redis.RedisError as exc:
        give_up("%s refused to stop writes: %s. Nothing was changed" % (master.name, exc))
    offset = None
    for member in candidates:
        try:
            offset, reached = wait_caught_up(member, master, deadline)
        except redis.RedisError as exc:
            give_up("Lost %s or %s while waiting for the replicas to catch up: %s. No failover was asked for; "
                    "writes on %s go again, nothing was lost" % (member.name, master.name, exc, master.name))
        if not reached:
            give_up("%s did not catch up with %s within %ss (offset %s of %s): Sentinel might promote it. No "
                    "failover was asked for; writes on %s go again: nothing was lost. Look for a slow link or a "
                    "busy replica, or raise pause_timeout"
                    % (member.name, master.name, timeout, member.state["replica_repl_offset"], offset, master.name))
    who, command = steps.failover
    try:
        sentinels.client(sentinels.asked).execute_command(*command.args)
        run.done.append("%s - %s" % (who, command.text))
    except (redis.RedisError, LoginError) as exc:
        give_up("Sentinel %s refused SENTINEL FAILOVER %s: %s. Nothing was promoted; %s is still the master and its "
                "writes go again: nothing was lost" % (sentinels.asked["instance"], group, exc, master.name))
    promoted = promoted_member(candidates)
    while promoted is None and time.monotonic() < deadline:
        time.sleep(0.05)
        promoted = promoted_member(candidates)
    if promoted is None:
        give_up("Sentinel %s did not promote a replica of group '%s' within %ss. %s is still the master and its "
                "writes go again: nothing was lost. The Sentinels answer: %s. Look at the Sentinels' logs "
                "(-failover-abort-*); if they promote a replica later, run site.yml: the role follows them"
                % (sentinels.asked["instance"], group, timeout, master.name, answers_text(sentinels.answers())))
    try:
        run_all(run, master, steps.demote if promoted is target else follow_target(module, master, promoted))
    except redis.RedisError as exc:
        module.fail_json(msg="Sentinel promoted %s, but %s refused to become its replica: %s. Its writes stay "
                             "stopped only until the pause ends: make it a replica of %s:%s (REPLICAOF) at once; "
                             "Sentinel does as well within seconds." % (promoted.name, master.name, exc,
                                                                        promoted.host, promoted.port),
                         commands=run.done)
    answers = []
    while time.monotonic() < started + timeout - 0.2:
        answers = sentinels.answers()
        if agreed_on(group, answers, promoted.host, promoted.port, resolve_host(promoted.host)):
            break
        time.sleep(0.1)
    else:
        answers = None
    stopped_for = time.monotonic() - started
    problem = resume_writes(run, master, steps.resume)
    if problem:
        module.warn("%s is a replica of %s now, but %s. As a replica it refuses writes anyway."
                    % (master.name, promoted.name, problem))
    if promoted is not target:
        module.fail_json(msg="Sentinel promoted %s, not the target %s (its view of the replicas changed). Nothing "
                             "was lost: %s is a replica of %s. Run site.yml: the role follows the Sentinels."
                             % (promoted.name, target.name, master.name, promoted.name), commands=run.done)
    if answers is None:
        module.fail_json(msg="%s is the master and %s its replica, but a majority of the Sentinels of group '%s' "
                             "did not name it within %ss: %s. Nothing was lost. Wait until they agree "
                             "(playbooks/verify.yml checks it)."
                             % (target.name, master.name, group, timeout, answers_text(sentinels.answers())),
                         commands=run.done)
    votes = decide(group, answers)["votes"]
    return dict(offset=offset, writes_stopped=dict(method=method, seconds=round(stopped_for, 3)),
                sentinel=dict(group=group, asked=sentinels.asked["instance"], votes=votes, sentinels=len(answers)))


def repoint_after(module, run, target, others):
    """Point the replicas Sentinel has not reconfigured yet at the new master (read again: Sentinel's
    CLIENT KILL may have closed the connections)."""
    pending = []
    for member in others:
        for attempt in (1, 2):
            try:
                member.refresh()
                break
            except redis.ConnectionError:
                if attempt == 2:
                    raise
        pending.append((member, follow_target(module, member, target)))
    repoint(module, run, target, [], pending)
