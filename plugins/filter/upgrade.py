# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

# The filters of an upgrade (plugins/plugin_utils/upgrade.py). Each is documented in its own file
# beside this one (upgrade_switchover_masters.yml, upgrade_switchover.yml, upgrade_summary.yml,
# refused_replication_pairs.yml).

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils import upgrade


def upgrade_switchover(instances, reads):
    try:
        return upgrade.switchover_target(instances, reads)
    except upgrade.UpgradeError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {
            "upgrade_switchover_masters": upgrade.switchover_masters,
            "upgrade_switchover": upgrade_switchover,
            "upgrade_summary": upgrade.summary,
            "refused_replication_pairs": upgrade.refused_pairs,
        }
