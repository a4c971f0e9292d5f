"""When an AOF turned on live is complete (plugins/module_utils/persistence.py), over INFO
persistence lines as Redis 7.0 prints them during and after CONFIG SET appendonly yes."""

from __future__ import annotations

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.persistence import aof_progress
from ansible_collections.redisops.redis.plugins.module_utils.replication import parse_info

BASE = ("# Persistence\r\nloading:0\r\nrdb_last_bgsave_status:ok\r\naof_last_write_status:ok\r\n"
        "aof_last_cow_size:0\r\n")


def info(**fields):
    return parse_info(BASE + "".join("%s:%s\r\n" % item for item in fields.items()))


@pytest.mark.parametrize("fields, expected", [
    (dict(aof_enabled=0, aof_rewrite_in_progress=0, aof_rewrite_scheduled=0, aof_last_bgrewrite_status="ok"), (False, None)),
    (dict(aof_enabled=1, aof_rewrite_in_progress=1, aof_rewrite_scheduled=0, aof_last_bgrewrite_status="ok"), (False, None)),
    (dict(aof_enabled=1, aof_rewrite_in_progress=0, aof_rewrite_scheduled=1, aof_last_bgrewrite_status="ok"), (False, None)),
    (dict(aof_enabled=1, aof_rewrite_in_progress=0, aof_rewrite_scheduled=0, aof_last_bgrewrite_status="ok"), (True, None)),
    # a failed earlier rewrite does not count while the new one runs
    (dict(aof_enabled=1, aof_rewrite_in_progress=1, aof_rewrite_scheduled=0, aof_last_bgrewrite_status="err"), (False, None)),
])
def test_progress(fields, expected):
    assert aof_progress(info(**fields)) == expected


def test_a_failed_rewrite_is_an_error():
    done, error = aof_progress(info(aof_enabled=0, aof_rewrite_in_progress=0, aof_rewrite_scheduled=0,
                                    aof_last_bgrewrite_status="err"))
    assert not done and "aof_last_bgrewrite_status: err" in error


def test_a_failed_write_is_an_error():
    parsed = info(aof_enabled=1, aof_rewrite_in_progress=0, aof_rewrite_scheduled=0, aof_last_bgrewrite_status="ok")
    parsed["aof_last_write_status"] = "err"
    assert aof_progress(parsed) == (False, "writing the AOF failed (aof_last_write_status: err); see the server's log")
