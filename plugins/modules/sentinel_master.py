#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: sentinel_master
short_description: Ask the Sentinels of a replication group which instance is its master
version_added: 0.1.0
description:
  - Sends C(SENTINEL GET-MASTER-ADDR-BY-NAME) for O(group) to every Sentinel in O(instances) and
    returns each answer and the decision taken from them.
  - A majority of all the Sentinels given (not only of those that answer) must name the same master,
    otherwise the module fails naming each Sentinel and what it answered.
  - When no Sentinel accepts a connection at all (none runs yet, as on a first deploy), or every
    Sentinel that answers does not monitor O(group), the module succeeds with RV(master=null) and
    RV(state) saying which; the caller keeps its own topology.
  - Reads only; changes nothing.
author:
  - redisops contributors (!UNKNOWN)
extends_documentation_fragment:
  - redisops.redis.connection
  - redisops.redis.connection.members
  - ansible.builtin.action_common_attributes
attributes:
  check_mode:
    support: full
    details:
      - The module only reads, in check mode as otherwise.
  diff_mode:
    support: none
  platform:
    platforms: posix
options:
  group:
    description:
      - The name of the replication group the Sentinels monitor (C(SENTINEL MONITOR <group> ...)).
    type: str
    required: true
  instances:
    description:
      - The Sentinels of the group, one item each (O(login_port) their Sentinel port, O(login_password)
        Sentinel's own C(requirepass)); what an item leaves unset is the top-level option.
      - Without O(instances), the top-level options are the one Sentinel asked.
  previous_passwords:
    description:
      - Passwords a Sentinel may still require while its password changes (the role's
        C(redis_sentinel_previous_passwords)), tried in turn when O(login_password) is refused.
    type: list
    elements: str
    default: []
notes:
  - Whether a Sentinel runs is tested with a plain TCP connection first, so that the module answers
    RV(state=no_sentinel) on a host where redis-py is not installed yet (a first deploy).
seealso:
  - module: redisops.redis.replication_info
"""

EXAMPLES = r"""
- name: Ask the three Sentinels which instance is the master of group master
  redisops.redis.sentinel_master:
    group: master
    login_password: "{{ sentinel_password }}"
    instances:
      - {instance: sentinel-1, login_port: 26379}
      - {instance: sentinel-2, login_port: 26380}
      - {instance: sentinel-3, login_port: 26381}
  register: current

- name: Show it
  ansible.builtin.assert:
    that: current.master is none or current.master.port in [6379, 6479]
    success_msg: "{{ current.state }}: {{ current.master }}"
"""

RETURN = r"""
state:
  description:
    - V(agreed) when a majority named RV(master); V(no_sentinel) when no Sentinel accepted a
      connection; V(unmonitored) when the Sentinels that answered do not monitor O(group).
  returned: success
  type: str
  sample: agreed
master:
  description: The master the majority named, V(null) unless RV(state=agreed).
  returned: success
  type: dict
  contains:
    host:
      description: Its address as the Sentinels know it.
      type: str
      sample: 127.0.0.1
    port:
      description: Its port.
      type: int
      sample: 6479
votes:
  description: How many Sentinels named RV(master).
  returned: success
  type: int
  sample: 3
needed:
  description: The majority needed, of all the Sentinels given.
  returned: always
  type: int
  sample: 2
sentinels:
  description: What each Sentinel answered, in the order of O(instances).
  returned: always
  type: list
  elements: dict
  contains:
    sentinel:
      description: The Sentinel, its O(instance) name or its endpoint.
      type: str
      sample: sentinel-1
    master:
      description: The master it named, V(null) when it does not monitor O(group) or did not answer.
      type: dict
      sample: {host: 127.0.0.1, port: 6479}
    error:
      description: Why it did not answer (not running, a refused login), else V(null).
      type: str
      sample: "Cannot connect to 127.0.0.1:26381: Error 111 connecting to 127.0.0.1:26381. Connection refused."
    unreachable:
      description: Whether it accepted no connection.
      type: bool
      sample: false
"""


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.connection import (
    ensure_required_libs,
    members,
    module_argument_spec,
)
from ansible_collections.redisops.redis.plugins.module_utils.sentinel_master import (
    DecisionError,
    decide,
    needed,
)
from ansible_collections.redisops.redis.plugins.module_utils.sentinel_switch import Sentinels


def main():
    spec = module_argument_spec(group=dict(type="str", required=True),
                                previous_passwords=dict(type="list", elements="str", default=[], no_log=True))
    module = AnsibleModule(argument_spec=spec, supports_check_mode=True)
    group = module.params["group"]
    sentinels = Sentinels(group, members(module.params), module.params["previous_passwords"])
    if any(sentinels.probe()):
        ensure_required_libs(module)
    try:
        answers = sentinels.answers()
    finally:
        sentinels.close()
    try:
        decision = decide(group, answers)
    except DecisionError as exc:
        module.fail_json(msg=str(exc), sentinels=answers, needed=needed(len(answers)))
    module.exit_json(changed=False, sentinels=answers, **decision)


if __name__ == "__main__":
    main()
