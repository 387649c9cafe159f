"""The one Spark session factory.

Binds to loopback (``SPARK_LOCAL_IP=127.0.0.1``), keeps scratch files under the sandbox home,
and turns off the UI: nothing Shuyu starts listens on a public interface.
"""

from __future__ import annotations

import ipaddress
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pyspark.sql import SparkSession

from sandbox.engines import class_archive
from sandbox.engines.logs import output_to

#: JVM options for the short-lived batch drivers of a production run (the job process and the gate
#: process: one pass over the data, then exit). The throughput collector spends less of 2 cores on
#: concurrent GC work than G1: on the promote path of bench/gate.py (5M rows, interleaved rounds)
#: job process 26.7 s vs 28.5 s, gate after the job 20.9 s vs 23.7 s (medians of 3, load 5-10).
BATCH_DRIVER_JAVA_OPTIONS = "-XX:+UseParallelGC"

#: JVM options for every driver. Whole-stage codegen turns a wide projection (a sample's keyed
#: pseudonyms, a suite's conditions) into Java methods above HotSpot's 8,000-byte limit, which
#: HotSpot then never compiles: the stage runs interpreted. Measured on a 200k-row sample's
#: structured columns (10 operators, one aggregate over the result): 3.4 s without, 1.8 s with.
JIT_JAVA_OPTIONS = "-XX:-DontCompileHugeMethods"

#: Compiled query classes Spark keeps, keyed by their generated source (its default is 100). A
#: quality run compiles 27 classes; GX's own validation of one suite compiles enough to evict them
#: all, and recompiling costs Janino and the JIT again: evaluate on 1M rows right after plain GX's
#: validation took 6.9 s with the default and 4.3 s with 5,000 entries (medians of 5 and 4);
#: bench/quality.py with 2,000 showed no recompiling either.
CODEGEN_CACHE_ENTRIES = 2000

LOOPBACK = "127.0.0.1"
#: Further ports a driver tries when its first is taken; with ``driver_port``, it takes one of
#: ``driver_port … driver_port + 2 × (retries + 1) − 1`` for its RPC and its block manager.
DRIVER_PORT_RETRIES = 16


def spark_session(
    master: str = "local[*]",
    *,
    app_name: str = "shuyu",
    driver_memory: str = "2g",
    local_dir: Path | None = None,
    extra_conf: dict[str, str] | None = None,
    java_options: str = "",
    log_file: Path | None = None,
    driver_host: str = LOOPBACK,
    driver_port: int | None = None,
) -> SparkSession:
    """A session, or the running one (``getOrCreate``: JVM options apply only to a new JVM).

    With ``log_file``, a JVM started here writes everything it ever prints (Spark's log4j lines,
    the JVM's own warnings) there instead of the user's terminal. ``driver_host``: where a cluster's
    executors reach the driver; anything but loopback is a container's name on its private networks,
    and the driver then listens on the container's interfaces; an address (loopback, or a local cluster's
    segment address) is the one it listens on. ``driver_port``: the first port the driver
    may take (its RPC, then its block manager, each with ``DRIVER_PORT_RETRIES``), where a firewall
    admits only those (``cluster.network``).
    """
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    os.environ.setdefault("PYARROW_IGNORE_TIMEZONE", "1")
    builder = (
        SparkSession.builder.master(master)
        .appName(app_name)
        .config("spark.driver.host", driver_host)
        .config("spark.driver.bindAddress", _bind_address(driver_host))
        .config("spark.driver.memory", driver_memory)
        .config(
            "spark.driver.extraJavaOptions",
            " ".join(o for o in (JIT_JAVA_OPTIONS, class_archive.java_options(), java_options) if o),
        )
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")  # progress bars would break the CLI's tables
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.codegen.cache.maxEntries", str(CODEGEN_CACHE_ENTRIES))
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.parquet.compression.codec", "zstd")
        # PySpark's DataFrame debugging records each call's Python call site through the JVM: more
        # than ten gateway round trips per column function, over a second to build a suite's pass
        .config("spark.python.sql.dataFrameDebugging.enabled", "false")
    )
    if driver_port is not None:
        builder = (
            builder.config("spark.driver.port", str(driver_port))
            .config("spark.driver.blockManager.port", str(driver_port + DRIVER_PORT_RETRIES + 1))
            .config("spark.port.maxRetries", str(DRIVER_PORT_RETRIES))
        )
    if local_dir is not None:
        local_dir.mkdir(parents=True, exist_ok=True)
        builder = builder.config("spark.local.dir", str(local_dir))
    for key, value in (extra_conf or {}).items():
        builder = builder.config(key, value)
    if log_file is None:
        return builder.getOrCreate()
    with output_to(log_file):
        return builder.getOrCreate()


def _bind_address(driver_host: str) -> str:
    """Listen on ``driver_host`` itself when it is an address of this machine (loopback, a local cluster's
    host-only segment address); only a name (a container's, on its private networks) means every
    interface of the container."""
    try:
        ipaddress.ip_address(driver_host)
    except ValueError:
        return "0.0.0.0"  # noqa: S104 - a container's name: its own private networks
    return driver_host


def _serves(running: str, wanted: str) -> bool:
    """A context on ``running`` does the work meant for ``wanted``: both local, or the same cluster."""
    return running == wanted or (running.startswith("local") and wanted.startswith("local"))


def spark_from_settings(settings, *, master: str | None = None) -> SparkSession:
    """The session ``settings`` describe; ``master`` overrides theirs (work a cluster must not do). A process
    has one Spark context: one on a cluster when a local one is wanted, or the reverse (the task worker's,
    after a quality run on the cluster), is stopped first; any local one serves where a local one is
    wanted."""
    wanted = master or settings.spark_master
    active = SparkSession.getActiveSession()
    if active is not None and not _serves(active.sparkContext.master, wanted):
        active.stop()
    return spark_session(
        wanted,
        driver_memory=settings.spark_driver_memory,
        local_dir=settings.work_dir / "spark",
        log_file=settings.logs_dir / "spark.log",
        driver_host=settings.spark_driver_host,
        driver_port=settings.spark_driver_port,
    )


@contextmanager
def session_conf(spark: SparkSession, settings: dict[str, str]) -> Iterator[None]:
    """Runtime SQL settings for the queries planned and run inside the block, restored afterwards.

    They apply to the whole session meanwhile: Shuyu runs one query at a time per session.
    """
    before = {key: spark.conf.get(key, None) for key in settings}
    for key, value in settings.items():
        spark.conf.set(key, value)
    try:
        yield
    finally:
        for key, value in before.items():
            if value is None:
                spark.conf.unset(key)
            else:
                spark.conf.set(key, value)
