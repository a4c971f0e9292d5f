# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""Whether an AOF turned on live is complete. Pure, no I/O.

CONFIG SET appendonly yes makes the server write its whole data set into a new AOF in the
background; until that rewrite has ended the file does not hold the data, and a restart from it
would start empty. Redis 7.0 also starts empty when appendonly is switched on in the file and no
AOF exists yet: the AOF must be complete before the file says appendonly yes.
"""

from __future__ import annotations


def aof_progress(info):
    """(done, error) from parsed INFO persistence after CONFIG SET appendonly yes.

    done: the AOF is on and its first rewrite has ended well; error: why it failed, or None.
    """
    if str(info.get("aof_last_bgrewrite_status", "ok")) != "ok" and not _rewriting(info):
        return False, "the AOF rewrite failed (aof_last_bgrewrite_status: %s); see the server's log" % (
            info.get("aof_last_bgrewrite_status"))
    if str(info.get("aof_last_write_status", "ok")) != "ok":
        return False, "writing the AOF failed (aof_last_write_status: %s); see the server's log" % (
            info.get("aof_last_write_status"))
    return str(info.get("aof_enabled")) == "1" and not _rewriting(info), None


def _rewriting(info):
    return str(info.get("aof_rewrite_in_progress")) == "1" or str(info.get("aof_rewrite_scheduled")) == "1"
