# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Pure logic of the pending-restart check: does a running instance run what its main file says?

A directive changed in the main file takes effect when the instance restarts. When that restart
never happened (it failed, or the run stopped before it), the file and the running instance
disagree, and only a comparison of the two shows it: the file's directives, read the way Redis
reads them, against C(CONFIG GET), both normalised (memory units, yes/no, C(save) lines joined,
C(bind) lists, quoting). Two guards keep a false difference from restarting an instance on every
run: a directive C(CONFIG GET) does not return is not compared, and a difference counts only when
the process started before the file was last written (after the restart that applies it, the
process is the newer of the two).
"""

from __future__ import annotations

import os
import re

from ansible_collections.redisops.redis.plugins.module_utils.dialect import spellings

# Applied live by runtime_config from the live file (CONFIG REWRITE may copy them into the main
# file), never a reason to restart; the secrets among them are never read back either. Under every
# server's spelling (the dialect table: slaveof, Valkey 8's primaryauth...).
LIVE_DIRECTIVES = frozenset(spellings((
    "requirepass", "masterauth", "masteruser", "replicaof", "replica-read-only", "user", "include",
)))
# Secret values: never compared, so never returned.
SECRET_DIRECTIVES = frozenset(("tls-key-file-pass", "tls-client-key-file-pass"))
# CONFIG GET returns these in another form than the file's (notify-keyspace-events reorders and
# expands its flags): a comparison would find a false difference.
NOT_COMPARABLE = frozenset(("notify-keyspace-events",))
# Directives whose lines add up instead of the last one winning.
CUMULATIVE = frozenset(("save", "client-output-buffer-limit"))

MEMORY = re.compile(r"^(-?[0-9]+)(k|kb|m|mb|g|gb)?$", re.IGNORECASE)
MEMORY_UNITS = {None: 1, "k": 1000, "kb": 1024, "m": 1000 ** 2, "mb": 1024 ** 2, "g": 1000 ** 3, "gb": 1024 ** 3}
# Redis's old names of the client classes, which CONFIG GET still returns.
CLASS_NAMES = {"replica": "slave"}


class ConfigSyntaxError(ValueError):
    """A line Redis itself would refuse (an unbalanced quote)."""


def split_args(line):
    """The words of one config line as Redis splits them (sdssplitargs): quotes, backslash escapes."""
    words = []
    index = 0
    length = len(line)
    while True:
        while index < length and line[index].isspace():
            index += 1
        if index >= length:
            return words
        word = []
        quote = None
        while index < length:
            char = line[index]
            if quote == '"':
                if char == "\\" and index + 3 < length and line[index + 1] == "x" \
                        and re.match(r"[0-9a-fA-F]{2}", line[index + 2:index + 4]):
                    word.append(chr(int(line[index + 2:index + 4], 16)))
                    index += 3
                elif char == "\\" and index + 1 < length:
                    index += 1
                    word.append({"n": "\n", "r": "\r", "t": "\t", "b": "\b", "a": "\a"}.get(line[index], line[index]))
                elif char == '"':
                    quote = None
                    index += 1
                    break
                else:
                    word.append(char)
            elif quote == "'":
                if char == "\\" and index + 1 < length and line[index + 1] == "'":
                    index += 1
                    word.append("'")
                elif char == "'":
                    quote = None
                    index += 1
                    break
                else:
                    word.append(char)
            elif char.isspace():
                break
            elif char in "\"'" and not word:
                quote = char
            else:
                word.append(char)
            index += 1
        if quote is not None:
            raise ConfigSyntaxError("unbalanced quotes in: %s" % line)
        words.append("".join(word))


def file_directives(text):
    """{directive: [words]} of a redis.conf text, as Redis applies it.

    Names are lowercased; a repeated directive's last line wins, except the cumulative ones
    (save, client-output-buffer-limit), whose lines are joined in order. Lines that only CONFIG
    REWRITE or the live file own are left out (LIVE_DIRECTIVES), and so are secrets.
    """
    directives = {}
    for line in text.splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        words = split_args(stripped)
        name = words[0].lower()
        if name in LIVE_DIRECTIVES or name in SECRET_DIRECTIVES or name in NOT_COMPARABLE:
            continue
        if name in CUMULATIVE and name in directives:
            directives[name] = directives[name] + words[1:]
        else:
            directives[name] = words[1:]
    return directives


def normalise_word(word):
    """A word of a value in a form both sides share: memory sizes in bytes, everything lowercase."""
    match = MEMORY.match(word)
    if match:
        unit = match.group(2).lower() if match.group(2) else None
        return str(int(match.group(1)) * MEMORY_UNITS[unit])
    lowered = word.lower()
    return CLASS_NAMES.get(lowered, lowered)


def normalise(name, words):
    """The comparable form of a directive's value, from the file's words or CONFIG GET's (split) value."""
    if name == "save" and words in ([], [""]):
        return []  # `save ""` disables saving; CONFIG GET then answers ""
    if name == "bind":
        return sorted(normalise_word(word) for word in words)
    if name == "client-output-buffer-limit":
        # class hard soft seconds, per class: CONFIG GET lists every class, the file those it sets.
        return {normalise_word(words[i]): [normalise_word(w) for w in words[i + 1:i + 4]]
                for i in range(0, len(words) - len(words) % 4, 4)}
    if name == "dir":
        # The server reports its working directory, symlinks resolved.
        return [os.path.realpath(word) for word in words]
    return [normalise_word(word) for word in words]


def differences(file_text, running):
    """[{directive, file, running}] where the main file and the running instance disagree.

    running: {directive: value} from CONFIG GET, one entry per directive of the file; a directive
    CONFIG GET returned nothing for (unknown to the server, or not readable such as
    rename-command) is missing or None there and is not compared.
    """
    found = []
    for name, words in sorted(file_directives(file_text).items()):
        value = running.get(name)
        if value is None:
            continue
        in_file = normalise(name, words)
        # CONFIG GET answers one unquoted string: a one-word value (a path with spaces) is compared
        # whole, a list (save, bind) word by word.
        in_server = normalise(name, [value] if len(words) == 1 and name not in CUMULATIVE else value.split())
        if name == "client-output-buffer-limit":
            in_server = {key: in_server.get(key) for key in in_file}
        if in_file != in_server:
            found.append(dict(directive=name, file=" ".join(words), running=value))
    return found


def started_before(uptime_seconds, now, mtime):
    """True when a process up for uptime_seconds (INFO's whole seconds) at time now started before mtime.

    INFO rounds the uptime down, so the start is known to a second: a file written within that
    second is taken as written after the start (no restart) rather than risk one on every run.
    """
    return now - uptime_seconds < mtime


def pending_restart(file_text, running, uptime_seconds, now, mtime):
    """The differences that a restart would apply: none when the process is newer than the file."""
    if not started_before(uptime_seconds, now, mtime):
        return []
    return differences(file_text, running)
