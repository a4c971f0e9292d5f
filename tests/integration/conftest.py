"""Fixtures that start real redis-server processes on free loopback ports."""

from __future__ import annotations

import os
import shutil
import tempfile

import pytest

from harness import RedisProcess


@pytest.fixture
def workdir():
    """A directory the redis user can enter (pytest's tmp_path is 0700 root)."""
    path = tempfile.mkdtemp(prefix="redisops-it-")
    os.chmod(path, 0o755)
    yield path
    shutil.rmtree(path, ignore_errors=True)


@pytest.fixture
def redis_server(workdir):
    """Factory: redis_server(password=None, args=()) -> a started RedisProcess, stopped at teardown."""
    started = []

    def start(**kwargs):
        server = RedisProcess(workdir, **kwargs).start()
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
