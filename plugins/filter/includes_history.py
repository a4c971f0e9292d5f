# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: includes_history
short_description: Whether a master holds all that a promoted instance held at its promotion
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Compares two normalised replication states (the C(replication) result of
    M(redisops.redis.replication_info)) as C(PSYNC) does, to tell whether the first, running as a
    master, holds the history of the second up to its promotion (same replication ID up to
    C(second_repl_offset - 1)).
  - Returns V(false) when the first runs as a replica (after a failover it may replicate from the
    promoted instance itself), or when the second's replication ID was shifted by a restart rather than
    by a promotion from the first; V(null) when the first is unknown (empty) or the second has no record
    of a promotion (C(second_repl_offset) V(-1)).
  - The C(redisops.redis.server) role's guard repairs an instance that runs as a master against the
    inventory only when this is true and it took no client write since its promotion.
options:
  _input:
    description: The replication state of the inventory master.
    type: dict
    required: true
  promoted:
    description: The replication state of the instance that runs as a master.
    type: dict
    required: true
"""

EXAMPLES = r"""
- name: Tell whether the inventory master holds what the promoted instance had
  ansible.builtin.debug:
    msg: "{{ master_info.replication | redisops.redis.includes_history(promoted_info.replication) }}"
"""

RETURN = r"""
_value:
  description: V(true), V(false), or V(null) when the master's state is unknown.
  type: bool
"""

from ansible_collections.redisops.redis.plugins.module_utils.replication import includes_history


def includes_history_filter(master, promoted):
    return includes_history(master or {}, promoted or {})


class FilterModule:
    def filters(self):
        return {"includes_history": includes_history_filter}
