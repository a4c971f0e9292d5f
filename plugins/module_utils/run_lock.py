# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The lock file of the run_lock module: one run at a time changes a host.

The lock must outlive the module's process (each task is a new process), so it is a file, not
an flock: created atomically with link(2), which fails when the file exists, after its content
is complete, so that a reader never sees half a record. It holds who took it and when, for the
message of the run that waits, and a random token, so that a run removes only its own lock.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
import uuid

POLL_INTERVAL = 0.2


class LockHeld(Exception):
    """The lock stayed taken by another run for the whole timeout."""

    def __init__(self, path, holder, waited):
        super().__init__(path)
        self.path = path
        self.holder = holder
        self.waited = waited


def utc_text(timestamp):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(timestamp))


def new_record(holder, now):
    """What a lock file holds: a token only its taker knows, who took it, and when."""
    return {"token": uuid.uuid4().hex, "holder": holder, "since": utc_text(now), "since_epoch": now}


def read_record(path):
    """The record in the lock file, None when there is no lock. A file that is not a record (a hand
    edit) is a lock all the same: it is reported with what it holds."""
    try:
        with open(path) as handle:
            text = handle.read()
    except FileNotFoundError:
        return None
    try:
        record = json.loads(text)
    except ValueError:
        record = None
    if not isinstance(record, dict):
        return {"token": None, "holder": "unknown (the file holds %r)" % text[:80], "since": "unknown",
                "since_epoch": None}
    return record


def try_create(path, record):
    """Create the lock file holding record; False when it exists already."""
    directory = os.path.dirname(path) or "."
    if not os.path.isdir(directory):
        os.makedirs(directory, mode=0o755)
    fd, temporary = tempfile.mkstemp(prefix=".lock-", dir=directory)
    try:
        with os.fdopen(fd, "w") as handle:
            json.dump(record, handle)
        os.chmod(temporary, 0o644)
        try:
            os.link(temporary, path)
        except FileExistsError:
            return False
        return True
    finally:
        os.unlink(temporary)


def wait(path, timeout, take, holder="", clock=time.time, sleep=time.sleep):
    """Wait until the lock at path is free, then take it when take is true.

    Returns (record, waited seconds): the new record, or None when only waiting (check mode).
    Raises LockHeld when another run holds it for timeout seconds.
    """
    started = clock()
    while True:
        if take:
            record = new_record(holder, clock())
            if try_create(path, record):
                return record, clock() - started
        current = read_record(path)
        if current is None and not take:
            return None, clock() - started
        waited = clock() - started
        if current is not None and waited >= timeout:
            raise LockHeld(path, current, waited)
        sleep(POLL_INTERVAL)


def release(path, token):
    """Remove the lock at path when token took it, or whatever lock it is when token is None.

    Returns the record removed, or None (no lock, or another run's).
    """
    current = read_record(path)
    if current is None or (token is not None and current.get("token") != token):
        return None
    try:
        os.unlink(path)
    except FileNotFoundError:
        return None
    return current


def held_message(error, now):
    """Why a run could not take the lock, who holds it, and how to clear it when its run is dead."""
    holder = error.holder
    since_epoch = holder.get("since_epoch")
    age = " (%ds ago)" % (now - since_epoch) if isinstance(since_epoch, (int, float)) else ""
    return ("Another run holds the lock %s: %s, since %s%s. Waited %ds for it; nothing was changed. "
            "Run again when that run has ended. If it is no longer running (it was killed, or the "
            "controller lost the host), the lock is stale: remove the file %s on this host."
            % (error.path, holder.get("holder", "unknown"), holder.get("since", "unknown"), age,
               error.waited, error.path))
