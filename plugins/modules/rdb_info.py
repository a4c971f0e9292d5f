#!/usr/bin/python
# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
module: rdb_info
short_description: Read the replication id and offset stored in Redis RDB files
version_added: 0.1.0
description:
  - Reads the header of each RDB file (the format version and the auxiliary fields written before
    the data) without loading the data, and returns the replication id and offset the file's data
    corresponds to.
  - A master saving while it has or had replicas (C(BGSAVE), a save point, the save of a clean
    C(SHUTDOWN)) stores them in the C(repl-id) and C(repl-offset) fields; a master that never had
    a replica, and the RDB base file of an AOF, store none (RV(files[].repl_id) is null).
  - The C(redisops.redis.server) role compares them with the replicas' offsets before it starts a
    master that is down, so that a master restarted after a crash never wipes its replicas.
  - Reads only; changes nothing. Needs no server running and no Python library besides Ansible's.
author:
  - redisops maintainers (@redisops)
extends_documentation_fragment:
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
  files:
    description:
      - The RDB files to read. A file that does not exist is reported with RV(files[].exists=false);
        one that cannot be read or is not an RDB file with RV(files[].error). Neither fails the module.
    type: list
    elements: dict
    required: true
    suboptions:
      path:
        description: Path of the RDB file, for example C(/var/lib/redis/main/dump.rdb).
        type: path
        required: true
      name:
        description: A name returned with the file's result, for example the instance's. Defaults to O(files[].path).
        type: str
notes:
  - Understands the RDB format of Redis 2.6 and later and Valkey (version 1 to 12 and later; the aux
    fields have not changed since Redis 3.2).
seealso:
  - module: redisops.redis.replication_info
"""

EXAMPLES = r"""
- name: Read the replication offset the master's data file holds
  redisops.redis.rdb_info:
    files:
      - {name: main, path: /var/lib/redis/main/dump.rdb}
  register: data_file

- name: Fail unless the data file is at least as recent as the replica
  ansible.builtin.assert:
    that:
      - data_file.files[0].exists
      - data_file.files[0].repl_id == replica_info.replication.master_replid
      - data_file.files[0].repl_offset >= replica_info.replication.replica_repl_offset
"""

RETURN = r"""
files:
  description: One result per item of O(files), in order.
  returned: always
  type: list
  elements: dict
  contains:
    name:
      description: O(files[].name), or the path.
      type: str
      sample: main
    path:
      description: The file read.
      type: str
      sample: /var/lib/redis/main/dump.rdb
    exists:
      description: Whether the file exists.
      type: bool
      sample: true
    error:
      description: Why an existing file could not be read (permissions, not an RDB file, truncated); absent otherwise.
      type: str
      sample: "not an RDB file: it does not start with REDIS and a 4-digit version"
    rdb_version:
      description: The RDB format version (10 for Redis 7.0, 11 for 7.2, 12 for 7.4 and 8.0).
      type: int
      sample: 10
    redis_version:
      description: The C(redis-ver) field, the version of the server that wrote the file.
      type: str
      sample: 7.0.15
    repl_id:
      description: The replication id the data corresponds to (C(repl-id)); null when the file stores none.
      type: str
      sample: ce381269f4e74d906ca55d667ceea4dca07072e2
    repl_offset:
      description: The replication offset the data corresponds to (C(repl-offset)); null when the file stores none.
      type: int
      sample: 270
    aof_base:
      description: Whether the file is the RDB base of an AOF (C(aof-base)).
      type: bool
      sample: false
    aux:
      description: Every auxiliary field of the header, as text.
      type: dict
      sample: {redis-ver: 7.0.15, redis-bits: "64", ctime: "1796215931", repl-id: ce381269f4e74d906ca55d667ceea4dca07072e2, repl-offset: "270"}
"""

import os


from ansible_collections.redisops.redis.plugins.module_utils.ansible_module import AnsibleModule
from ansible_collections.redisops.redis.plugins.module_utils.rdb import HEADER_BYTES, RdbError, parse_header


def read_file(path, name):
    """The result for one file: its header, or exists=false, or an error."""
    result = dict(name=name or path, path=path, exists=os.path.exists(path))
    if not result["exists"]:
        return result
    try:
        with open(path, "rb") as handle:
            result.update(parse_header(handle.read(HEADER_BYTES)))
    except (OSError, RdbError) as exc:
        result["error"] = str(exc)
    return result


def main():
    module = AnsibleModule(
        argument_spec=dict(files=dict(type="list", elements="dict", required=True,
                                      options=dict(path=dict(type="path", required=True), name=dict(type="str")))),
        supports_check_mode=True,
    )
    module.exit_json(changed=False, files=[read_file(item["path"], item["name"]) for item in module.params["files"]])


if __name__ == "__main__":
    main()
