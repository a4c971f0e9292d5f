# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

from __future__ import annotations

DOCUMENTATION = r"""
name: server_instances
short_description: Resolve the Redis instances of a host from the whole play's inventory
version_added: 0.1.0
author:
  - redisops maintainers (@redisops)
description:
  - Reads C(redis_server_instances) and the related C(redis_server_*) variables of every host of the
    play from O(_input) (C(hostvars)), resolves who replicates from whom and at which address, and
    returns the resolved instances of O(host), the format the C(redisops.redis.server) role works with.
  - Every host of the play is validated together, so an input error on any host fails the filter
    on every host, before anything changes. The error lists every problem with the variable, the
    host, the instance and the fix.
  - "Rejected: an instance name not matching C(^[a-z][a-z0-9_-]*$), a name or a port used twice on a
    host, a port outside 1..65535, unknown instance keys, C(replicaof) naming an unknown host or
    instance, a host outside the play, a host with several instances without C(:INSTANCE), the
    instance itself, or forming a cycle; C(replica_read_only) on a master; passwords with a line
    break or NUL; a non-loopback C(bind) without a password unless C(redis_server_allow_no_password);
    directives the role writes itself (C(port), C(requirepass), C(replicaof), ...) in C(config), and
    those that change who may log in or where the data goes (C(aclfile), C(user), C(rename-command),
    C(cluster-enabled), ...); a C(bind) string of several addresses, or a wildcard beside another
    address of its family."
  - "Read per host, with the role's defaults when a host does not set them: C(redis_server_instances)
    (default one instance C({name: main, port: 6379})), C(redis_server_password), C(redis_server_bind),
    C(redis_server_advertise_address) (else C(ansible_host), else the inventory name),
    C(redis_server_replica_read_only), C(redis_server_masteruser), C(redis_server_config),
    C(redis_server_allow_no_password)."
  - "Instance keys: C(name), C(port), C(bind), C(replicaof) (C('HOST'), C('HOST:INSTANCE') or
    C({host: ADDRESS, port: PORT})), C(replica_read_only), C(password), C(masterauth) (default: the
    master instance's password), C(masteruser), C(config) (merged over C(redis_server_config); a
    V(null) value removes a directive)."
positional: host, play_hosts
options:
  _input:
    description: The C(hostvars) of the play.
    type: dict
    required: true
  host:
    description: The host to return the instances of, normally C(inventory_hostname).
    type: str
    required: true
  play_hosts:
    description:
      - Every host of the play, normally C(ansible_play_hosts_all). C(replicaof) may only name these
        (or give an address with C({host, port})).
    type: list
    elements: str
    required: true
  defaults:
    description:
      - The role's defaults of the C(redis_server_*) variables listed above, used for every host that
        does not set them (other hosts' C(hostvars) do not include role defaults).
    type: dict
    default: {}
  current:
    description:
      - The values of those variables as the caller sees them for O(host). Each one must equal what
        C(hostvars) gives, otherwise other hosts would resolve a different topology; a difference (a
        play var or role parameter) fails with a message saying where to set the variable instead.
    type: dict
  secrets:
    description:
      - V(false) leaves C(password) and C(masterauth) out of the result, for loops whose items are shown.
    type: bool
    default: true
  state:
    description:
      - V(present) returns the instances the host runs (described below); V(absent) returns those it
        retires (C(state=absent) in C(redis_server_instances)), each as C({name, port, login_host,
        advertise_address, data}), with no secret. Instances with C(state=absent) are never in the
        V(present) result, and no instance that stays may replicate from one.
    type: str
    choices: [present, absent]
    default: present
  replicaof:
    description:
      - A replication topology to resolve instead of the inventory's, for the instances it names
        (C(HOST:INSTANCE)), to the C(replicaof) that instance gets (in any of its input forms), or V(null) to
        make it a master. The other instances keep their inventory C(replicaof), and everything that
        follows from it (C(masterauth) from the new master, C(replicas) lists) is resolved as usual.
      - Used by the C(apply) entry point of the C(redisops.redis.server) role (C(redis_server_replicaof)),
        after M(redisops.redis.failover) changed the topology.
    type: dict
seealso:
  - plugin: redisops.redis.conf_quote
    plugin_type: filter
"""

EXAMPLES = r"""
- name: Resolve the instances of this host
  ansible.builtin.set_fact:
    redis_instances: >-
      {{ hostvars | redisops.redis.server_instances(inventory_hostname, ansible_play_hosts_all,
                                                    secrets=false) }}

# With, in the inventory, localhost: {ansible_host: 127.0.0.1, redis_server_instances:
# [{name: master, port: 6379}, {name: replica, port: 6479, replicaof: "localhost:master"}]}
- name: Check the guide's test bed
  ansible.builtin.assert:
    that:
      - "redis_instances[1].replicaof == {'host': '127.0.0.1', 'port': 6379}"
      - redis_instances[0].replicas | map(attribute='port') | list == [6479]
"""

RETURN = r"""
_value:
  description: The resolved instances of O(host), in the order of its C(redis_server_instances).
  type: list
  elements: dict
  contains:
    name:
      description: Instance name.
      type: str
      sample: replica
    port:
      description: TCP port.
      type: int
      sample: 6479
    bind:
      description: Addresses the instance listens on.
      type: list
      elements: str
      sample: [127.0.0.1]
    advertise_address:
      description: Address other instances reach this host at.
      type: str
      sample: 127.0.0.1
    login_host:
      description: Address to connect to from the host itself (loopback when the instance listens there).
      type: str
      sample: 127.0.0.1
    role:
      description: V(master) or V(replica).
      type: str
      sample: replica
    replicaof:
      description: Address and port of the master; null for a master. The host is the master host's C(advertise_address).
      type: dict
      sample: {host: 127.0.0.1, port: 6379}
    master:
      description: The master instance in the play (C(inventory_host), C(instance)); null for a master or an outside master.
      type: dict
      sample: {inventory_host: localhost, instance: master}
    password:
      description: The instance's C(requirepass), V("") for none. Left out with O(secrets=false).
      type: str
    masterauth:
      description: Password used to authenticate to the master. Left out with O(secrets=false).
      type: str
    masteruser:
      description: ACL user used to authenticate to the master, V("") for the default user.
      type: str
      sample: ""
    replica_read_only:
      description: Whether the instance refuses writes while it is a replica.
      type: bool
      sample: true
    config:
      description:
        - Extra directives, C(redis_server_config) merged with the instance's C(config), values as
          written in redis.conf (a string holds the arguments, a list repeats the directive).
      type: dict
      sample: {maxmemory: 256mb}
    replicas:
      description: Instances of the play that replicate from this one, as the master lists them.
      type: list
      elements: dict
      sample: [{host: 127.0.0.1, port: 6479, inventory_host: localhost, instance: replica}]
"""

from ansible.errors import AnsibleFilterError

from ansible_collections.redisops.redis.plugins.plugin_utils.topology import TopologyError, server_instances


def server_instances_filter(hostvars, host, play_hosts, defaults=None, current=None, secrets=True, state="present",
                            replicaof=None):
    if state not in ("present", "absent"):
        raise AnsibleFilterError("server_instances: state must be present or absent, not %r" % (state,))
    try:
        return server_instances(hostvars, host, play_hosts, defaults=defaults, current=current, secrets=secrets,
                                state=state, replicaof=replicaof)
    except TopologyError as exc:
        raise AnsibleFilterError(str(exc)) from None


class FilterModule:
    def filters(self):
        return {"server_instances": server_instances_filter}
