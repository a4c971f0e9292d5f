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


def connection_argument_spec():
    """Return the argument_spec entries documented in the connection doc fragment."""
    return dict(
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


def instance_connection_spec():
    """The connection options an item of a module's O(instances) may set; unset ones default to
    the module's top-level options (instance_params)."""
    return dict(
        login_host=dict(type="str"),
        login_port=dict(type="int"),
        login_unix_socket=dict(type="path"),
        login_user=dict(type="str"),
        login_password=dict(type="str", no_log=True),
    )


def instance_params(params, item):
    """The module's params with what one item of O(instances) sets instead."""
    return dict(params, **{key: value for key, value in item.items() if value is not None})


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


def login_error(client, params):
    """Why the server of params does not answer client's PING (refused login, unreachable), or None."""
    try:
        client.ping()
    except redis.AuthenticationError as exc:
        return "Authentication to %s failed: %s. Check login_user and login_password." % (endpoint(params), exc)
    except redis.ResponseError as exc:
        if "NOAUTH" in str(exc):
            return "%s requires authentication: set login_password." % endpoint(params)
        return "%s refused PING: %s" % (endpoint(params), exc)
    except redis.RedisError as exc:
        return "Cannot connect to %s: %s" % (endpoint(params), exc)
    return None


def password_refused(params, password):
    """True when the server of params refuses to authenticate with password (other errors, such as
    a server that is not running, are for the caller's login to report)."""
    probe = open_client(dict(params, login_password=password))
    try:
        probe.ping()
    except redis.AuthenticationError:
        return True
    except redis.RedisError:
        return False
    finally:
        probe.close()
    return False


def accepted_login(params, previous_passwords):
    """params with the first password the server accepts of login_password and previous_passwords
    (during a password change the server still has an old one), or None when it refuses them all."""
    for password in [params.get("login_password")] + list(previous_passwords):
        if not password_refused(params, password):
            return dict(params, login_password=password)
    return None


def connect(module, params=None):
    """Return a redis.Redis client that has answered PING, or fail the module with the reason.

    params: the connection options to use, the module's own by default (a module that talks to
    several servers passes one set per server).
    """
    ensure_required_libs(module)
    params = module.params if params is None else params
    client = open_client(params)
    error = login_error(client, params)
    if error:
        module.fail_json(msg=error)
    return client
