# -*- coding: utf-8 -*-
# Copyright (c) redisops contributors
# GNU General Public License v3.0+ (see LICENSE or https://www.gnu.org/licenses/gpl-3.0.txt)

"""The header of a Redis RDB file: format version and auxiliary fields. Pure, no I/O.

A master that saves while it has (or had) replicas stores the replication id and offset its data
set corresponds to in the aux fields ``repl-id`` and ``repl-offset``; a master that never had a
replica, and the RDB base file of an AOF, store none. The role compares them with the offsets of
the replicas of a master that is down before it starts it (docs/design.md, "When a master dies").
"""

from __future__ import annotations

import struct

MAGIC = b"REDIS"
OPCODE_AUX = 0xFA
# How much of a file the header can take: a handful of short aux fields come first.
HEADER_BYTES = 64 * 1024


class RdbError(ValueError):
    """The bytes are not the start of an RDB file this reader understands."""


def lzf_decompress(data, length):
    """Decompress LZF data (Redis's string compression) into length bytes."""
    out = bytearray()
    pos = 0
    while pos < len(data):
        ctrl = data[pos]
        pos += 1
        if ctrl < 32:  # a literal run of ctrl + 1 bytes
            out += data[pos:pos + ctrl + 1]
            pos += ctrl + 1
            continue
        run = ctrl >> 5  # a back reference of run + 2 bytes
        if run == 7:
            run += data[pos]
            pos += 1
        ref = len(out) - ((ctrl & 0x1F) << 8) - data[pos] - 1
        pos += 1
        if ref < 0:
            raise RdbError("corrupt LZF data: reference before the start")
        for _count in range(run + 2):  # byte by byte: the reference may overlap what it produces
            out.append(out[ref])
            ref += 1
    if len(out) != length:
        raise RdbError("corrupt LZF data: %d bytes instead of %d" % (len(out), length))
    return bytes(out)


def _need(data, pos, count):
    if pos + count > len(data):
        raise RdbError("truncated: %d bytes needed at offset %d, the data ends at %d" % (count, pos, len(data)))


def _length(data, pos):
    """(value, position after it, is_special_encoding) of an RDB length field."""
    _need(data, pos, 1)
    first = data[pos]
    kind = first >> 6
    if kind == 0:
        return first & 0x3F, pos + 1, False
    if kind == 1:
        _need(data, pos, 2)
        return ((first & 0x3F) << 8) | data[pos + 1], pos + 2, False
    if kind == 3:
        return first & 0x3F, pos + 1, True
    if first == 0x80:
        _need(data, pos, 5)
        return struct.unpack(">I", data[pos + 1:pos + 5])[0], pos + 5, False
    if first == 0x81:
        _need(data, pos, 9)
        return struct.unpack(">Q", data[pos + 1:pos + 9])[0], pos + 9, False
    raise RdbError("unknown length encoding 0x%02x at offset %d" % (first, pos))


_INTEGERS = {0: "<b", 1: "<h", 2: "<i"}


def _string(data, pos):
    """(bytes, position after it) of an RDB string: raw, integer-encoded or LZF-compressed."""
    value, pos, special = _length(data, pos)
    if not special:
        _need(data, pos, value)
        return bytes(data[pos:pos + value]), pos + value
    if value in _INTEGERS:
        size = struct.calcsize(_INTEGERS[value])
        _need(data, pos, size)
        return str(struct.unpack(_INTEGERS[value], data[pos:pos + size])[0]).encode(), pos + size
    if value == 3:
        compressed, pos, _special = _length(data, pos)
        length, pos, _special = _length(data, pos)
        _need(data, pos, compressed)
        return lzf_decompress(data[pos:pos + compressed], length), pos + compressed
    raise RdbError("unknown string encoding %d at offset %d" % (value, pos - 1))


def _int_or_none(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


def parse_header(data):
    """Read the format version and the aux fields at the start of an RDB file.

    data: the file's first bytes (HEADER_BYTES are plenty). Returns a dict: rdb_version (int),
    aux (every aux field, text), redis_version, repl_id (None when not stored), repl_offset
    (int, None when not stored), aof_base (whether the file is the base of an AOF).
    Raises RdbError when data is not an RDB file or ends inside the header.
    """
    data = bytes(data)
    if len(data) < 9 or not data.startswith(MAGIC) or not data[5:9].isdigit():
        raise RdbError("not an RDB file: it does not start with REDIS and a 4-digit version")
    aux = {}
    pos = 9
    while True:
        _need(data, pos, 1)
        if data[pos] != OPCODE_AUX:
            break
        key, pos = _string(data, pos + 1)
        value, pos = _string(data, pos)
        aux[key.decode("utf-8", "replace")] = value.decode("utf-8", "replace")
    repl_id = aux.get("repl-id")
    return {
        "rdb_version": int(data[5:9]),
        "aux": aux,
        "redis_version": aux.get("redis-ver"),
        "repl_id": repl_id,
        "repl_offset": _int_or_none(aux.get("repl-offset")) if repl_id else None,
        "aof_base": aux.get("aof-base") == "1",
    }
