"""The RDB header reader (plugins/module_utils/rdb.py) over files written by a real Redis 7.0.

The encodings these small files do not contain (14- and 32-bit lengths, 16- and 32-bit integers,
LZF, an offset past 2**31 stored as text) are tested on headers built here the way rdb.c writes them.
"""

from __future__ import annotations

import os
import struct

import pytest

from ansible_collections.redisops.redis.plugins.module_utils.rdb import RdbError, lzf_decompress, parse_header

FIXTURES = os.path.join(os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))),
                        "fixtures", "rdb")
REPL_ID = "ce381269f4e74d906ca55d667ceea4dca07072e2"


def fixture(name):
    with open(os.path.join(FIXTURES, "redis-7.0-%s.rdb" % name), "rb") as handle:
        return handle.read()


@pytest.mark.parametrize("name, repl_id, repl_offset, aof_base", [
    ("master-alone", None, None, False),
    ("master-bgsave", REPL_ID, 128, False),
    ("aof-base", None, None, True),
    ("master-shutdown", REPL_ID, 270, False),
    ("replica-shutdown", REPL_ID, 270, False),
])
def test_recorded_files(name, repl_id, repl_offset, aof_base):
    header = parse_header(fixture(name))
    assert header["rdb_version"] == 10
    assert header["redis_version"] == "7.0.15"
    assert header["repl_id"] == repl_id
    assert header["repl_offset"] == repl_offset
    assert header["aof_base"] is aof_base
    assert header["aux"]["redis-bits"] == "64"


def test_the_offsets_file_matches_what_info_said():
    """The bgsave's offset is the master's master_repl_offset of that moment."""
    with open(os.path.join(FIXTURES, "redis-7.0-offsets.txt")) as handle:
        lines = {line.split()[0]: line for line in handle}
    assert "master_replid:%s master_repl_offset:128" % REPL_ID in lines["master-bgsave"]
    assert "master_repl_offset:270" in lines["replica-shutdown"]


def test_only_the_header_is_needed():
    data = fixture("master-shutdown")
    end = data.index(b"\xfe")  # SELECTDB: the first opcode after the aux fields
    assert parse_header(data[:end + 1])["repl_offset"] == 270


@pytest.mark.parametrize("data, words", [
    (b"", "not an RDB file"),
    (b"REDIS", "not an RDB file"),
    (b"*2\r\n$6\r\nSELECT\r\n", "not an RDB file"),
    (b"REDISxxxx", "not an RDB file"),
])
def test_not_an_rdb_file(data, words):
    with pytest.raises(RdbError, match=words):
        parse_header(data)


def test_a_truncated_header_is_an_error_not_a_wrong_answer():
    data = fixture("master-shutdown")
    cut = data.index(b"repl-offset") + 5
    with pytest.raises(RdbError, match="truncated"):
        parse_header(data[:cut])


def raw(value):
    """An RDB string with a 6-, 14- or 32-bit length, as rdbSaveLen writes it."""
    if len(value) < 64:
        return bytes([len(value)]) + value
    if len(value) < 16384:
        return struct.pack(">H", 0x4000 | len(value)) + value
    return b"\x80" + struct.pack(">I", len(value)) + value


def aux(key, encoded_value):
    return b"\xfa" + raw(key) + encoded_value


def header(*fields):
    return b"REDIS0011" + b"".join(fields) + b"\xfe\x00"


@pytest.mark.parametrize("encoded, text", [
    (b"\xc0\x7f", "127"),                            # int8
    (b"\xc1" + struct.pack("<h", -300), "-300"),     # int16
    (b"\xc2" + struct.pack("<i", 2 ** 31 - 1), "2147483647"),  # int32
    (raw(b"8589934592"), "8589934592"),              # past 32 bits: stored as text
])
def test_integer_encodings_of_the_offset(encoded, text):
    parsed = parse_header(header(aux(b"repl-id", raw(REPL_ID.encode())), aux(b"repl-offset", encoded)))
    assert parsed["aux"]["repl-offset"] == text
    assert parsed["repl_offset"] == int(text)
    assert parsed["rdb_version"] == 11


def test_long_lengths():
    long_value = b"x" * 20000
    parsed = parse_header(header(aux(b"a" * 100, raw(long_value))))
    assert parsed["aux"]["a" * 100] == long_value.decode()


def test_lzf_compressed_string():
    # "abcabcabcabc": a literal run of 3 then a back reference of 9 bytes at distance 3.
    compressed = bytes([2]) + b"abc" + bytes([(7 << 5) | 0, 0, 2])
    assert lzf_decompress(compressed, 12) == b"abcabcabcabc"
    encoded = b"\xc3" + bytes([len(compressed), 12]) + compressed
    assert parse_header(header(aux(b"k", encoded)))["aux"]["k"] == "abcabcabcabc"


def test_corrupt_lzf():
    with pytest.raises(RdbError, match="corrupt LZF"):
        lzf_decompress(bytes([0x20, 5]), 2)
    with pytest.raises(RdbError, match="corrupt LZF"):
        lzf_decompress(bytes([1]) + b"ab", 3)


def test_an_id_without_offset_and_unknown_encodings():
    assert parse_header(header(aux(b"repl-id", raw(b"x" * 40))))["repl_offset"] is None
    with pytest.raises(RdbError, match="unknown string encoding"):
        parse_header(header(b"\xfa\xc5"))
    with pytest.raises(RdbError, match="unknown length encoding"):
        parse_header(header(b"\xfa\x82"))
