# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Connection options and client creation shared by every module of the collection."""

from __future__ import annotations

import traceback

from ansible.module_utils.basic import missing_required_lib

REDIS_IMPORT_ERROR = None
try:
    import redis
except ImportError:
    redis = None
    REDIS_IMPORT_ERROR = traceback.format_exc()

try:  # redis-py 4.2+; from 6 on a client retries a refused connection with backoff, ~5 s in all
    from redis.backoff import NoBackoff
    from redis.retry import Retry
except ImportError:
    Retry = None


# The connection options of one instance: the members every connection module's O(instances) items
# take, named like the role's variables and the top-level options. Top level they are the
# single-instance form and the defaults of every item.
MEMBER_CONNECTION = ("instance", "login_host", "login_port", "login_unix_socket", "login_user", "login_password")


def connection_argument_spec():
    """Return the argument_spec entries documented in the connection doc fragment."""
    return dict(
        instance=dict(type="str"),
        login_host=dict(type="str", default="127.0.0.1"),
        login_port=dict(type="int", default=6379),
        login_unix_socket=dict(type="path"),
        login_user=dict(type="str"),
        login_password=dict(type="str", no_log=True),
        connect_timeout=dict(type="float", default=5.0),
        tls=dict(type="bool", default=False),
        validate_certs=dict(type="bool", default=True),
        tls_check_hostname=dict(type="bool", default=True),
        tls_ca_certs=dict(type="path"),
        tls_certfile=dict(type="path"),
        tls_keyfile=dict(type="path"),
    )


def renamed(former, **option):
    """The spec of an option whose former name is kept as a deprecated alias (until 1.0.0)."""
    return dict(option, aliases=[former],
                deprecated_aliases=[dict(name=former, version="1.0.0", collection_name="redisops.redis")])


def advertise_spec():
    """The address and port the other instances reach an instance at, named as the role's
    redis_server_advertise_address; the failover module's announce_host and announce_port are
    deprecated aliases."""
    return dict(
        advertise_address=renamed("announce_host", type="str"),
        advertise_port=renamed("announce_port", type="int"),
    )


def member_spec(options=None, required=()):
    """The spec of one instance (an item of O(instances), a failover member): the connection members
    and the module's per-instance options, without their defaults, so that what an item leaves unset
    is the top-level option. required: the names an item must set."""
    top = connection_argument_spec()
    spec = {name: dict(top[name]) for name in MEMBER_CONNECTION}
    spec.update((name, dict(option)) for name, option in (options or {}).items())
    for name, option in spec.items():
        option.pop("default", None)
        if name in required:
            option["required"] = True
    return spec


# The failover module's members (master, replicas) reach each other by address, so they have no
# unix socket; their keys were name, host, port, user and password before: deprecated aliases.
FORMER_MEMBER_NAMES = {"instance": "name", "login_host": "host", "login_port": "port", "login_user": "user",
                       "login_password": "password"}


def address_member_spec():
    """member_spec() of an instance that others replicate from: address and port required, no unix
    socket, the former key names as deprecated aliases (the failover module's O(master), O(replicas))."""
    spec = member_spec(required=("login_host", "login_port"))
    del spec["login_unix_socket"]
    return {name: renamed(FORMER_MEMBER_NAMES[name], **option) for name, option in spec.items()}


def module_argument_spec(options=None, required=(), item_required_if=None, **module_options):
    """The argument_spec of a connection module: the connection options and the per-instance options
    at the top level (the single-instance form, and the defaults of each item), O(instances) whose
    items are member_spec(options, required), and the module's own top-level-only options."""
    spec = connection_argument_spec()
    spec.update(options or {})
    spec.update(module_options)
    spec["instances"] = dict(type="list", elements="dict", options=member_spec(options, required))
    if item_required_if:
        spec["instances"]["required_if"] = item_required_if
    return spec


def members(params):
    """The instances a module acts on, each a complete set of its options: every item of
    O(instances) over the top-level options, or, without O(instances), the top-level options as the
    only item (the single-instance form is a one-item list from here on). Each has its name in
    "instance": the item's, else (single form) the top-level one, else its endpoint."""
    single = params.get("instances") is None
    result = []
    for item in [{}] if single else params["instances"]:
        merged = dict(params, **{key: value for key, value in item.items() if value is not None})
        merged.pop("instances", None)
        merged["instance"] = item.get("instance") or (params.get("instance") if single else None) or endpoint(merged)
        result.append(merged)
    return result


def ensure_required_libs(module):
    """Fail with the standard message when redis-py is not importable on the managed host."""
    if redis is None:
        module.fail_json(msg=missing_required_lib("redis"), exception=REDIS_IMPORT_ERROR)


def endpoint(params):
    """A readable name of the server the parameters point at, for messages."""
    if params.get("login_unix_socket"):
        return "unix:%s" % params["login_unix_socket"]
    return "%s:%s" % (params["login_host"], params["login_port"])


def client_kwargs(params):
    """Translate module parameters into redis.Redis() keyword arguments."""
    kwargs = dict(
        username=params.get("login_user") or None,
        password=params.get("login_password") or None,
        socket_timeout=params["connect_timeout"],
        socket_connect_timeout=params["connect_timeout"],
        decode_responses=True,
    )
    # The modules wait and poll themselves, with their own timeouts: one attempt per call.
    if Retry is not None:
        kwargs["retry"] = Retry(NoBackoff(), 0)
    if params.get("login_unix_socket"):
        kwargs["unix_socket_path"] = params["login_unix_socket"]
        return kwargs
    kwargs.update(host=params["login_host"], port=params["login_port"])
    if params.get("tls"):
        kwargs.update(
            ssl=True,
            ssl_ca_certs=params.get("tls_ca_certs"),
            ssl_certfile=params.get("tls_certfile"),
            ssl_keyfile=params.get("tls_keyfile"),
            ssl_cert_reqs="required" if params["validate_certs"] else "none",
            ssl_check_hostname=params["validate_certs"] and params.get("tls_check_hostname", True),
        )
    return kwargs


def open_client(params):
    """A redis.Redis client for params that has not talked to the server yet (redis-py connects
    on the first command). INFO returns the server's raw text: the collection parses it itself,
    the same way for live servers and recorded samples."""
    client = redis.Redis(**client_kwargs(params))
    client.set_response_callback("INFO", lambda response, **options: response)
    return client


class LoginError(Exception):
    """The server of params cannot be logged in to. refused: it refused the login (a wrong password or
    user, no password where one is needed); unreachable: it does not accept connections (not running)."""

    def __init__(self, msg, refused=False, unreachable=False):
        super().__init__(msg)
        self.refused = refused
        self.unreachable = unreachable


def refused_login_message(params, reason, previous=0):
    """The one message of every module for a login the server refuses: which server, as which user,
    with which passwords, the server's reason, and the fix in the words of the option and of the
    server role's variable that sets it (redis_server_password, redis_server_previous_passwords)."""
    user = params.get("login_user") or "default"
    if previous:
        tried = "login_password and the %d previous_passwords" % previous
    else:
        tried = "login_password" if params.get("login_password") else "no password"
    if user != "default":
        fix = "give login_user a user the instance has and login_password that user's password"
    elif previous:
        fix = ("give login_password the password the instance has, or list it in previous_passwords "
               "(server role: redis_server_password or the instance's password, and redis_server_previous_passwords)")
    else:
        fix = ("give login_password the password the instance has (server role: redis_server_password or the "
               "instance's password; while it changes, the current one in redis_server_previous_passwords)")
    return "%s refused the login of user '%s' with %s: %s. Fix: %s." % (
        endpoint(params), user, tried, str(reason).rstrip("."), fix)


def is_refused_login(exc):
    """True when the redis-py exception exc is the server refusing the login (older redis-py raise
    NOAUTH as a plain ResponseError)."""
    return isinstance(exc, redis.AuthenticationError) or (
        isinstance(exc, redis.ResponseError) and str(exc).startswith("NOAUTH"))


def login(params, previous_passwords=()):
    """A client of the server of params that has answered PING, logged in with login_password or,
    when the server refuses it, the first of previous_passwords it accepts (during a password
    change the server still has an old one): one connection per password tried, the accepted one
    kept. Raises LoginError."""
    reason = None
    for password in [params.get("login_password")] + list(previous_passwords):
        client = open_client(dict(params, login_password=password))
        try:
            client.ping()
            return client
        except redis.RedisError as exc:
            client.close()
            if not is_refused_login(exc):
                raise LoginError("Cannot connect to %s: %s" % (endpoint(params), exc),
                                 unreachable=isinstance(exc, redis.ConnectionError))
            reason = exc
    raise LoginError(refused_login_message(params, reason, len(previous_passwords)), refused=True)


def connect(module, params=None):
    """Return a redis.Redis client that has answered PING, or fail the module with the reason.

    params: the connection options to use, the module's own by default.
    """
    ensure_required_libs(module)
    try:
        return login(module.params if params is None else params)
    except LoginError as exc:
        module.fail_json(msg=str(exc), login_refused=exc.refused)
