# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Sentinel replies, the live changes a Sentinel needs, and the check of a monitored group.

Pure functions, no I/O: the modules sentinel_config and sentinel_check read the Sentinels and
pass the replies here. A Sentinel owns its sentinel.conf and, after a failover, the address of the
master it monitors: a plan never re-monitors a group that is monitored already (that would undo a
failover and drop what the Sentinel learnt), it only brings the group's settings in line.
"""

from __future__ import annotations

MASK = "********"
# The per-group settings, as the module's options name them, and as SENTINEL SET / MASTER name them.
GROUP_SETTINGS = (
    ("down_after_milliseconds", "down-after-milliseconds"),
    ("failover_timeout", "failover-timeout"),
    ("parallel_syncs", "parallel-syncs"),
)
# Settings of the Sentinel itself, SENTINEL CONFIG SET (Redis/Valkey >= 6.2).
SENTINEL_SETTINGS = ("resolve-hostnames", "announce-hostnames", "announce-ip", "announce-port")
DOWN_FLAGS = ("s_down", "o_down")


def pairs(reply):
    """A flat [key, value, key, value, ...] reply of Sentinel as a dict (values as text)."""
    if isinstance(reply, dict):
        return {str(key): value for key, value in reply.items()}
    reply = list(reply or [])
    return {str(reply[index]): reply[index + 1] for index in range(0, len(reply) - 1, 2)}


def entries(reply):
    """SENTINEL MASTERS / REPLICAS / SENTINELS: a list of flat replies, as a list of dicts."""
    return [pairs(item) for item in reply or []]


def flags(entry):
    """The flags of a Sentinel entry (master, slave, sentinel, s_down, o_down, disconnected, ...)."""
    return [flag for flag in str(entry.get("flags", "")).split(",") if flag]


def address(entry):
    return "%s:%s" % (entry.get("ip"), entry.get("port"))


def split_conf_line(line):
    """The arguments of one config line as Redis writes it (sdscatrepr quoting), like sdssplitargs."""
    args, index, size = [], 0, len(line)
    escapes = {"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}
    while True:
        while index < size and line[index].isspace():
            index += 1
        if index >= size:
            return args
        current, quote = "", None
        if line[index] in "\"'":
            quote = line[index]
            index += 1
        while index < size:
            char = line[index]
            if quote is None and char.isspace():
                break
            if quote == '"' and char == "\\" and index + 1 < size:
                nxt = line[index + 1]
                if nxt == "x" and index + 3 < size:
                    try:
                        current += chr(int(line[index + 2:index + 4], 16))
                        index += 4
                        continue
                    except ValueError:
                        pass
                current += escapes.get(nxt, nxt)
                index += 2
                continue
            if quote == "'" and char == "\\" and index + 1 < size and line[index + 1] == "'":
                current += "'"
                index += 2
                continue
            if quote is not None and char == quote:
                index += 1
                quote = None
                break
            current += char
            index += 1
        args.append(current)


def conf_auth(text):
    """{group: {"auth_pass": ..., "auth_user": ...}} from a sentinel.conf text (what the Sentinel uses).

    Redis 7.0 rewrites auth-pass and auth-user verbatim, without quoting (so that a value with a blank
    or a quote does not even load again: the role's preflight refuses those); later versions quote.
    """
    found = {}
    for line in (text or "").splitlines():
        args = split_conf_line(line)
        if len(args) >= 4 and args[0].lower() == "sentinel" and args[1].lower() in ("auth-pass", "auth-user"):
            value = args[3]
            if len(args) > 4:
                # Redis 7.0 writes the value as it is, unquoted: the rest of the line is the value.
                value = line.strip().split(None, 3)[3]
            found.setdefault(args[2], {})[args[1].lower().replace("-", "_")] = value
    return found


def _command(args, secret=None):
    """A planned command: the arguments to send, and what output shows (the secret masked)."""
    args = [str(arg) for arg in args]
    shown = [MASK if secret is not None and arg == str(secret) and index == len(args) - 1 else arg
             for index, arg in enumerate(args)]
    return {"args": args, "shown": " ".join(shown)}


def plan_monitors(current, wanted, auth=None):
    """The commands that bring a Sentinel's monitors in line with wanted.

    current: {group name: SENTINEL MASTERS entry} of the Sentinel.
    wanted: list of {name, host, port, quorum, down_after_milliseconds, failover_timeout,
        parallel_syncs, auth_user, auth_pass, state}; None for a setting = leave it.
    auth: {group: {auth_pass, auth_user}} the Sentinel uses now (its config file), or None when
        unknown: then the credentials of a monitored group are set again on every run.
    A monitored group keeps its master address: after a failover it is the Sentinel's truth.
    """
    commands = []
    for item in wanted:
        name = item["name"]
        entry = current.get(name)
        if item.get("state", "present") == "absent":
            if entry is not None:
                commands.append(_command(["SENTINEL", "REMOVE", name]))
            continue
        if entry is None:
            commands.append(_command(["SENTINEL", "MONITOR", name, item["host"], item["port"], item["quorum"]]))
            entry = {}
        elif item.get("quorum") is not None and str(entry.get("quorum")) != str(item["quorum"]):
            commands.append(_command(["SENTINEL", "SET", name, "quorum", item["quorum"]]))
        for option, setting in GROUP_SETTINGS:
            value = item.get(option)
            if value is not None and str(entry.get(setting)) != str(value):
                commands.append(_command(["SENTINEL", "SET", name, setting, value]))
        known = None if auth is None else auth.get(name, {})
        for option, setting in (("auth_user", "auth-user"), ("auth_pass", "auth-pass")):
            value = item.get(option) or ""
            have = None if known is None or not current.get(name) else known.get(option, "")
            if value != have and (value or have):
                commands.append(_command(["SENTINEL", "SET", name, setting, value],
                                         secret=value if option == "auth_pass" and value else None))
    return commands


def plan_settings(current, wanted):
    """SENTINEL CONFIG SET commands for the Sentinel's own settings that differ from wanted.

    current: SENTINEL CONFIG GET * as a dict; wanted: {setting: value}, None = leave it."""
    commands = []
    for setting in SENTINEL_SETTINGS:
        value = wanted.get(setting)
        if value is None:
            continue
        value = ("yes" if value else "no") if isinstance(value, bool) else str(value)
        if str(current.get(setting, "")) != value:
            commands.append(_command(["SENTINEL", "CONFIG", "SET", setting, value]))
    return commands


def monitor_view(current, auth=None):
    """What a diff shows of a Sentinel's monitors: address, quorum and settings, never a password."""
    view = {}
    for name, entry in sorted(current.items()):
        item = {"master": address(entry), "quorum": int(entry.get("quorum", 0))}
        for option, setting in GROUP_SETTINGS:
            if setting in entry:
                item[option] = int(entry[setting])
        if auth is not None:
            item["auth_pass"] = "(set)" if auth.get(name, {}).get("auth_pass") else "(none)"
            item["auth_user"] = auth.get(name, {}).get("auth_user", "")
        view[name] = item
    return view


def predicted_view(view, wanted):
    """monitor_view after the plan for wanted (for the diff's after)."""
    after = {name: dict(item) for name, item in view.items()}
    for item in wanted:
        name = item["name"]
        if item.get("state", "present") == "absent":
            after.pop(name, None)
            continue
        entry = after.setdefault(name, {"master": "%s:%s" % (item["host"], item["port"])})
        if item.get("quorum") is not None:
            entry["quorum"] = int(item["quorum"])
        for option, _setting in GROUP_SETTINGS:
            if item.get(option) is not None:
                entry[option] = int(item[option])
        if "auth_pass" in entry or item.get("auth_pass"):
            entry["auth_pass"] = "(set)" if item.get("auth_pass") else "(none)"
        if "auth_user" in entry or item.get("auth_user"):
            entry["auth_user"] = item.get("auth_user") or ""
    return after


# ---------------------------------------------------------------------------------------------
# the check of a monitored group
# ---------------------------------------------------------------------------------------------

def majority_master(answers):
    """The master address that more than half of answers (address or None per Sentinel) give, or None."""
    counts = {}
    for answer in answers:
        if answer:
            counts[answer] = counts.get(answer, 0) + 1
    for answer, count in counts.items():
        if count * 2 > len(answers):
            return answer
    return None


def check_sentinel(name, group, state, members, sentinels, expected_master=None):
    """The mismatches of one Sentinel for one group, each naming the Sentinel, expected and actual.

    state: what was read from the Sentinel: {"error": text} when it could not be read, else
        {"master": SENTINEL MASTER entry or None, "replicas": [entries], "sentinels": [entries],
         "ckquorum": text or error text, "ckquorum_ok": bool, "auth_errors": [text]}.
    members: the addresses HOST:PORT of the group's data instances (its master and replicas).
    sentinels: how many Sentinels monitor the group in all.
    expected_master: the address the Sentinels agree on (the majority), or None.
    """
    where = "Sentinel %s, group '%s'" % (name, group)
    if state.get("error"):
        return ["%s: expected up, found %s" % (where, state["error"])]
    master = state.get("master")
    if master is None:
        return ["%s: expected monitored, found not monitored (SENTINEL MASTER: no such master)" % where]
    problems = []
    actual = address(master)
    if expected_master and actual != expected_master:
        problems.append("%s: master expected %s (what the majority of the Sentinels answers), found %s"
                        % (where, expected_master, actual))
    if members and actual not in members:
        problems.append("%s: master expected one of the group's instances (%s), found %s"
                        % (where, ", ".join(sorted(members)), actual))
    down = [flag for flag in flags(master) if flag in DOWN_FLAGS]
    if down:
        problems.append("%s: master %s expected up, found %s" % (where, actual, ",".join(down)))
    if not state.get("ckquorum_ok"):
        problems.append("%s: SENTINEL CKQUORUM expected OK, found %s" % (where, state.get("ckquorum")))
    known = sorted(address(entry) for entry in state.get("replicas") or [])
    missing = sorted(set(members or ()) - set(known) - {actual})
    if missing:
        problems.append("%s: replicas expected %s, found %s (missing %s)" % (
            where, ", ".join(sorted(set(members) - {actual})) or "none", ", ".join(known) or "none",
            ", ".join(missing)))
    others = sorted(address(entry) for entry in state.get("sentinels") or [])
    if sentinels is not None and len(others) != sentinels - 1:
        problems.append("%s: other Sentinels expected %d, found %d (%s)" % (
            where, sentinels - 1, len(others), ", ".join(others) or "none"))
    for error in state.get("auth_errors") or ():
        problems.append("%s: %s" % (where, error))
    return problems


def check_group(group, states, members, sentinels):
    """The mismatches of every Sentinel of the group (states: {sentinel name: state}), and the master
    the majority answers. Every Sentinel must agree on that master."""
    answers = [address(state["master"]) if not state.get("error") and state.get("master") else None
               for state in states.values()]
    agreed = majority_master(answers)
    problems = []
    if agreed is None and answers:
        problems.append("Group '%s': expected a master a majority of the %d Sentinels agree on, found %s" % (
            group, len(answers), ", ".join("%s -> %s" % (name, answer or "none")
                                           for name, answer in zip(states, answers))))
    for name, state in states.items():
        problems += check_sentinel(name, group, state, members, sentinels, agreed)
    return agreed, problems


# ---------------------------------------------------------------------------------------------
# Sentinel's own password, changed live
# ---------------------------------------------------------------------------------------------

def password_hash(password):
    """The form ACL GETUSER shows a password in (SHA-256, hex)."""
    import hashlib

    return hashlib.sha256(password.encode("utf-8")).hexdigest()


def plan_password(current, wanted, previous=(), acl=True):
    """The commands that make a running Sentinel require wanted (its own requirepass), live.

    current: the Sentinel's default user as ACL GETUSER shows it, {"passwords": [sha256 hex],
        "nopass": bool}, or None when the Sentinel has no ACL (before 6.2).
    wanted: the password ("" = none); previous: passwords that stay accepted beside it while
        listed, when the Sentinel still accepts them (a rotation across several Sentinels).
    A change sets the default user's passwords (ACL SETUSER), the password this Sentinel sends the
    other Sentinels (SENTINEL CONFIG SET sentinel-pass, which also rewrites its file) and writes the
    user into its file (SENTINEL FLUSHCONFIG): a restart keeps it. Secrets are masked in "shown".
    Raises ValueError when the Sentinel cannot take it live.
    """
    previous = [password for password in previous or () if password and password != wanted]
    if current is None:
        if acl:
            raise ValueError("cannot read the Sentinel's default user (ACL GETUSER default)")
        return None  # unknown: nothing to compare with (the caller says a restart is needed)
    have = set(current.get("passwords") or ())
    if wanted:
        keep = [password for password in previous if password_hash(password) in have]
        want = {password_hash(password) for password in [wanted] + keep}
        if not current.get("nopass") and have == want:
            return []
        args = ["ACL", "SETUSER", "default", "on", "resetpass"] + [">" + password for password in [wanted] + keep]
        shown = "ACL SETUSER default on resetpass " + " ".join([">" + MASK] * (1 + len(keep)))
        commands = [{"args": args, "shown": shown},
                    {"args": ["SENTINEL", "CONFIG", "SET", "sentinel-pass", wanted],
                     "shown": "SENTINEL CONFIG SET sentinel-pass " + MASK}]
    else:
        if current.get("nopass") and not have:
            return []
        commands = [{"args": ["ACL", "SETUSER", "default", "on", "resetpass", "nopass"],
                     "shown": "ACL SETUSER default on resetpass nopass"},
                    {"args": ["SENTINEL", "CONFIG", "SET", "sentinel-pass", ""],
                     "shown": 'SENTINEL CONFIG SET sentinel-pass ""'}]
    commands.append({"args": ["SENTINEL", "FLUSHCONFIG"], "shown": "SENTINEL FLUSHCONFIG"})
    return commands
