# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""The run lock on real files: taken atomically by one of many, waited for, released only by its
taker (or by hand, for a stale lock), and the message of a run that waited in vain."""

from __future__ import annotations

import json
import os
import threading

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.run_lock import (
    LockHeld,
    held_message,
    read_record,
    release,
    try_create,
    wait,
)


class Clock:
    """A clock that advances by the sleeps asked of it; on_sleep runs at each one."""

    def __init__(self, on_sleep=None):
        self.now = 1000.0
        self.sleeps = 0
        self.on_sleep = on_sleep

    def time(self):
        return self.now

    def sleep(self, seconds):
        self.sleeps += 1
        self.now += seconds
        if self.on_sleep:
            self.on_sleep(self)


def test_a_free_lock_is_taken_with_its_holder_time_and_a_token(tmp_path):
    path = str(tmp_path / "sub" / "host.lock")
    record, waited = wait(path, 10, True, "site.yml by root@ctl")
    assert waited == pytest.approx(0, abs=1)
    assert read_record(path) == record
    assert record["holder"] == "site.yml by root@ctl"
    assert len(record["token"]) == 32
    assert record["since"].endswith("Z")
    assert os.listdir(str(tmp_path / "sub")) == ["host.lock"]


def test_a_taken_lock_makes_the_second_run_wait_and_fail_naming_the_holder(tmp_path):
    path = str(tmp_path / "host.lock")
    first = wait(path, 10, True, "first run")[0]
    clock = Clock()
    with pytest.raises(LockHeld) as raised:
        wait(path, 5, True, "second run", clock=clock.time, sleep=clock.sleep)
    assert raised.value.holder["holder"] == "first run"
    assert raised.value.waited >= 5
    assert clock.sleeps == 25
    assert read_record(path) == first


def test_a_waiting_run_takes_the_lock_once_the_holder_releases_it(tmp_path):
    path = str(tmp_path / "host.lock")
    first = wait(path, 10, True, "first run")[0]

    def release_after_three(clock):
        if clock.sleeps == 3:
            assert release(path, first["token"]) is not None

    clock = Clock(release_after_three)
    second, waited = wait(path, 60, True, "second run", clock=clock.time, sleep=clock.sleep)
    assert second["holder"] == "second run" and second["token"] != first["token"]
    assert waited == pytest.approx(0.6)
    assert read_record(path) == second


def test_check_mode_waits_for_the_lock_but_does_not_take_it(tmp_path):
    path = str(tmp_path / "host.lock")
    assert wait(path, 10, False)[0] is None
    assert not os.path.exists(path)
    wait(path, 10, True, "first run")
    with pytest.raises(LockHeld):
        wait(path, 0, False)


def test_of_many_runs_at_once_exactly_one_takes_the_lock(tmp_path):
    path = str(tmp_path / "host.lock")
    results = []
    barrier = threading.Barrier(16)

    def contend(number):
        barrier.wait()
        results.append(try_create(path, {"token": str(number), "holder": "run %d" % number}))

    threads = [threading.Thread(target=contend, args=(number,)) for number in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 15 + [True]
    assert os.listdir(str(tmp_path)) == ["host.lock"]


def test_a_run_releases_only_its_own_lock(tmp_path):
    path = str(tmp_path / "host.lock")
    record = wait(path, 10, True, "first run")[0]
    assert release(path, "another-token") is None
    assert read_record(path) == record
    assert release(path, record["token"]) == record
    assert not os.path.exists(path)
    assert release(path, record["token"]) is None


def test_a_stale_lock_is_cleared_without_a_token(tmp_path):
    path = str(tmp_path / "host.lock")
    record = wait(path, 10, True, "killed run")[0]
    assert release(path, None) == record
    assert not os.path.exists(path)


def test_a_lock_file_that_is_not_a_record_is_a_lock_all_the_same(tmp_path):
    path = str(tmp_path / "host.lock")
    with open(path, "w") as handle:
        handle.write("held by hand\n")
    record = read_record(path)
    assert record["token"] is None and "held by hand" in record["holder"]
    with pytest.raises(LockHeld):
        wait(path, 0, True, "a run")


def test_the_message_names_the_holder_since_when_and_how_to_clear_a_stale_lock(tmp_path):
    path = str(tmp_path / "host.lock")
    with open(path, "w") as handle:
        json.dump({"token": "t", "holder": "the play 'X' run by root on the controller ctl",
                   "since": "2026-12-02T13:00:00Z", "since_epoch": 1000.0}, handle)
    with pytest.raises(LockHeld) as raised:
        wait(path, 0, True, "a run")
    message = held_message(raised.value, 1090.0)
    assert "Another run holds the lock %s: the play 'X' run by root on the controller ctl" % path in message
    assert "since 2026-12-02T13:00:00Z (90s ago)" in message
    assert "nothing was changed" in message
    assert "remove the file %s on this host" % path in message
