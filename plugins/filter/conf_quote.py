# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: conf_quote
short_description: Write a value as one redis.conf argument
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Returns the value as Redis reads it back as exactly one argument of a C(redis.conf) line.
  - A string made only of letters, digits and C(_.,:/@%+=-) is returned as it is. Any other string
    (spaces, quotes, C(#), backslashes, non-ASCII, empty) is put in double quotes, with C(\) and
    C(") escaped by a backslash and control characters written as C(\xHH).
  - Booleans become V(yes) or V(no), numbers their digits.
  - A value with a line break cannot be written on one C(redis.conf) line safely by every
    server version; the C(redisops.redis.server_instances) filter rejects such passwords.
options:
  _input:
    description: The value to quote.
    type: raw
    required: true
seealso:
  - plugin: redisops.redis.server_instances
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Write a password into an instance's configuration
  ansible.builtin.copy:
    dest: /etc/redis/redis-main.live.conf
    content: "requirepass {{ redis_password | redisops.redis.conf_quote }}\n"
    owner: root
    group: redis
    mode: "0640"
  no_log: true

# "s3cret pass#1" | redisops.redis.conf_quote  ->  "s3cret pass#1"  (with the double quotes)
# 'back\slash"quote' | redisops.redis.conf_quote  ->  "back\\slash\"quote"
# true | redisops.redis.conf_quote  ->  yes
"""

RETURN = r"""
_value:
  description: The argument as it goes into C(redis.conf).
  type: str
  sample: '"s3cret pass#1"'
"""

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import quote


class FilterModule:
    def filters(self):
        return {"conf_quote": quote}
