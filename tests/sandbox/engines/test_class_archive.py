"""The Spark class archive: built for real, used by a new driver JVM, and harmless when broken.

The archive checked is the one ``make test`` built before the tests (``python -m sandbox.engines.class_archive``,
the Makefile's prerequisite, ~40 s of training): building a second one here would test the same command twice.
Run without it (plain ``pytest``), the test builds it first.
"""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from sandbox.engines import class_archive

#: A new driver that runs one action and prints one line; ``sys.argv[1]`` is added to its JVM options.
_DRIVER = """
import sys
from sandbox.engines.spark import spark_session
spark = spark_session("local[1]", app_name="archive-test", java_options=sys.argv[1])
print("count", spark.range(1000).count())
spark.stop()
"""


def _driver(archive, java_options: str = "") -> subprocess.CompletedProcess:
    env = {**os.environ, "SANDBOX_SPARK_CLASS_ARCHIVE": str(archive), "SPARK_LOCAL_IP": "127.0.0.1"}
    return subprocess.run([sys.executable, "-c", _DRIVER, java_options], env=env, capture_output=True,
                          text=True, timeout=300)  # fmt: skip


def test_no_archive_means_no_options(monkeypatch, tmp_path):
    monkeypatch.setenv("SANDBOX_SPARK_CLASS_ARCHIVE", "off")
    assert class_archive.archive_path() is None
    assert class_archive.java_options() == ""
    assert class_archive.build() is None
    monkeypatch.setenv("SANDBOX_SPARK_CLASS_ARCHIVE", str(tmp_path / "missing.jsa"))
    assert class_archive.java_options() == ""


@pytest.mark.slow
@pytest.mark.spark
def test_a_built_archive_is_mapped_by_a_new_driver(monkeypatch):
    monkeypatch.delenv("SANDBOX_SPARK_CLASS_ARCHIVE", raising=False)
    archive = class_archive.archive_path()
    assert class_archive.build() == archive and archive.is_file()  # the Makefile's, or built now
    built = archive.stat().st_mtime_ns
    assert class_archive.build() == archive and archive.stat().st_mtime_ns == built  # up to date: kept
    assert f"-XX:SharedArchiveFile={archive}" in class_archive.java_options()
    # -Xshare:on makes a JVM that cannot map the archive refuse to start (see the broken archive below)
    used = _driver(archive, "-Xshare:on")
    assert used.returncode == 0, used.stderr[-2000:]
    assert used.stdout.strip() == "count 1000"


@pytest.mark.slow
@pytest.mark.spark
def test_a_broken_archive_is_ignored_and_stdout_stays_clean(tmp_path):
    archive = tmp_path / "spark.jsa"
    archive.write_bytes(b"not a class archive" * 1000)
    started = _driver(archive)
    assert started.returncode == 0, started.stderr[-2000:]
    assert started.stdout.strip() == "count 1000"  # the JVM's warning went to stderr, not into the output
    refused = _driver(archive, "-Xshare:on")
    assert refused.returncode != 0
