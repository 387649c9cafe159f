"""Engine output to the home's logs: what Spark, the JVM and Ray print never reaches a user's terminal."""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def output_to(log_file: Path) -> Iterator[None]:
    """Point file descriptors 1 and 2 at ``log_file`` (appended) inside the block, then restore them.

    A child started inside (the JVM behind PySpark) keeps the log file as its stdout and stderr for
    life; this process gets its own terminal back.
    """
    log_file.parent.mkdir(parents=True, exist_ok=True)
    sys.stdout.flush()
    sys.stderr.flush()
    saved = (os.dup(1), os.dup(2))
    target = os.open(log_file, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        os.dup2(target, 1)
        os.dup2(target, 2)
        yield
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os.dup2(saved[0], 1)
        os.dup2(saved[1], 2)
        for fd in (*saved, target):
            os.close(fd)
