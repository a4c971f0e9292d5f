"""The pending-restart comparison over a main file and the CONFIG GET * answer of the Redis 7.0.15
server started from it (tests/unit/fixtures/config: the dir has a space, values use units and
mixed case, save has three lines)."""

from __future__ import annotations

import json
import os

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.running_config import (
    ConfigSyntaxError,
    differences,
    file_directives,
    pending_restart,
    split_args,
    started_before,
)

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "fixtures", "config")


def fixture(name):
    with open(os.path.join(FIXTURES, name)) as handle:
        return handle.read()


MAIN = fixture("redis-7.0-main.conf")
RUNNING = json.loads(fixture("redis-7.0-config-get.json"))


def edited(old, new):
    assert old in MAIN
    return MAIN.replace(old, new)


def test_the_file_a_server_started_from_matches_its_config_get():
    assert differences(MAIN, RUNNING) == []


@pytest.mark.parametrize("old, new, directive, in_file, running", [
    ("port 17311", "port 7001", "port", "7001", "17311"),
    ("maxmemory 256mb", "maxmemory 512mb", "maxmemory", "512mb", "268435456"),
    ("save 60 10000\n", "", "save", "3600 1 300 100", "3600 1 300 100 60 10000"),
    ('bind 127.0.0.1 "-::1"', "bind 127.0.0.1", "bind", "127.0.0.1", "127.0.0.1 -::1"),
    ("appendonly no", "appendonly yes", "appendonly", "yes", "no"),
    ("appendfsync EverySec", "appendfsync always", "appendfsync", "always", "everysec"),
    ('dir "/tmp/rs fix dir"', 'dir "/tmp/other dir"', "dir", "/tmp/other dir", "/tmp/rs fix dir"),
    ("client-output-buffer-limit replica 256mb 64mb 60", "client-output-buffer-limit replica 512mb 64mb 60",
     "client-output-buffer-limit", "replica 512mb 64mb 60",
     "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60"),
])
def test_a_directive_changed_in_the_file_is_a_difference(old, new, directive, in_file, running):
    assert differences(edited(old, new), RUNNING) == [dict(directive=directive, file=in_file, running=running)]


@pytest.mark.parametrize("old, new", [
    ("maxmemory 256mb", "maxmemory 268435456"),       # units
    ("maxmemory 256mb", "MAXMEMORY 256MB"),            # case of names and units
    ("appendfsync EverySec", "appendfsync everysec"),
    ("lazyfree-lazy-eviction YES", "lazyfree-lazy-eviction yes"),
    ('bind 127.0.0.1 "-::1"', "bind -::1 127.0.0.1"),  # order of the bind list
    ("save 3600 1\nsave 300 100\nsave 60 10000", "save 3600 1 300 100 60 10000"),  # one line or several
    ("client-output-buffer-limit replica", "client-output-buffer-limit slave"),     # old class name
    ('dir "/tmp/rs fix dir"', "dir '/tmp/rs fix dir/'"),                             # quoting, trailing /
    ("port 17311", "port 17311\nrequirepass \"s3cret\"\nreplicaof 10.0.0.1 6379\ninclude /etc/x.conf"),  # live ones
    ("hz 10", "hz 10\nrename-command FLUSHALL \"\"\nloadmodule /x.so"),  # not returned by CONFIG GET
    ('notify-keyspace-events "Ex"', 'notify-keyspace-events "Exg"'),  # returned reordered: not compared
])
def test_equivalent_spellings_are_no_difference(old, new):
    assert differences(edited(old, new), RUNNING) == []


def test_save_disabled_matches_an_empty_answer():
    text = edited("save 3600 1\nsave 300 100\nsave 60 10000", 'save ""')
    assert differences(text, dict(RUNNING, save="")) == []
    assert differences(text, RUNNING) == [dict(directive="save", file="", running="3600 1 300 100 60 10000")]


def test_a_secret_in_the_file_is_never_read_nor_returned():
    text = MAIN + 'tls-key-file-pass "hunter2"\nrequirepass "hunter2"\n'
    assert "tls-key-file-pass" not in file_directives(text) and "requirepass" not in file_directives(text)
    assert "hunter2" not in repr(differences(text, dict(RUNNING, **{"tls-key-file-pass": "other"})))


def test_what_valkey_8_config_rewrite_writes_for_the_live_file_is_not_compared():
    # Valkey 8.1.8's CONFIG REWRITE of a file saying masterauth/masteruser/slaveof writes these.
    text = MAIN + 'primaryauth "hunter2"\nprimaryuser "repl"\nreplicaof 10.0.0.1 6379\nslave-read-only yes\n'
    directives = file_directives(text)
    assert not set(directives) & {"primaryauth", "primaryuser", "replicaof", "slave-read-only"}
    assert "hunter2" not in repr(differences(text, dict(RUNNING, primaryauth="other")))


@pytest.mark.parametrize("line, words", [
    ('logfile "/var/log/a b.log"', ["logfile", "/var/log/a b.log"]),
    ("requirepass 'it\\'s'", ["requirepass", "it's"]),
    ('requirepass "a\\"b\\\\c\\x41"', ["requirepass", 'a"b\\cA']),
    ('save ""', ["save", ""]),
    ("  bind  127.0.0.1   ::1 ", ["bind", "127.0.0.1", "::1"]),
])
def test_lines_are_split_as_redis_splits_them(line, words):
    assert split_args(line) == words


def test_an_unbalanced_quote_is_an_error():
    with pytest.raises(ConfigSyntaxError):
        split_args('dir "/var/lib/redis')


def test_the_last_line_of_a_directive_wins_except_save():
    assert file_directives("maxmemory 1mb\nmaxmemory 2mb\nsave 1 1\nsave 2 2\n") == {
        "maxmemory": ["2mb"], "save": ["1", "1", "2", "2"]}


@pytest.mark.parametrize("uptime, mtime, before", [
    (100, 950.0, True),    # started at 900, file written at 950: the restart is pending
    (100, 850.0, False),   # file written at 850, process started at 900: it runs the file
    (100, 900.0, False),   # the same second: taken as written before the start, no restart
    (100, 900.5, True),
])
def test_only_a_process_older_than_its_file_has_a_pending_restart(uptime, mtime, before):
    assert started_before(uptime, 1000.0, mtime) is before
    changed = edited("port 17311", "port 7001")
    assert bool(pending_restart(changed, RUNNING, uptime, 1000.0, mtime)) is before
