"""A class-data-sharing archive of Spark's classes: each new driver JVM starts about 2.5 s sooner.

Every production run starts two fresh JVMs (the isolated job process and the gate), every dev run
and every CLI command one. Much of a cold start is loading and verifying the same thousands of
classes from Spark's jars. HotSpot's dynamic CDS archive (``-XX:ArchiveClassesAtExit``, JDK 13+) keeps them
parsed and verified in one file the JVM maps at start: measured on 2 cores, session start 3.8 s →
2.4 s, first action 1.8 s → 1.0 s.

The archive is built once per environment (``python -m sandbox.engines.class_archive``; ``make``
does it) by a training run over the kinds of work Shuyu does (``class_training``), and lives beside the interpreter
(``sys.prefix``), since it belongs to that environment's jars and JDK. A JVM that finds the archive
stale (other jars, another JDK) ignores it with a warning on stderr and starts as before; a
fingerprint file makes the build redo it then. ``SANDBOX_SPARK_CLASS_ARCHIVE`` names another path,
or turns it off with ``off``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pyspark

_ENV = "SANDBOX_SPARK_CLASS_ARCHIVE"
#: JVM messages (a stale archive's warning among them) go to stderr: stdout may be a command's JSON.
_LOG_TO_STDERR = "-Xlog:disable -Xlog:all=warning:stderr"
#: Raised when ``class_training`` covers new work, so that archives an older training built are rebuilt.
_TRAINING = 2


def archive_path() -> Path | None:
    """Where the archive is (or would be built); ``None`` when turned off."""
    configured = os.environ.get(_ENV)
    if configured == "off":
        return None
    return Path(configured) if configured else Path(sys.prefix) / "shuyu-spark-classes.jsa"


def java_options() -> str:
    """The options that let a new driver JVM use the archive; none when there is no archive."""
    path = archive_path()
    if path is None or not path.is_file():
        return ""
    return f"-XX:SharedArchiveFile={path} -Xshare:auto {_LOG_TO_STDERR}"


def _fingerprint() -> str:
    """What the archive depends on: Spark's jars (by version), the JDK that reads them, the training."""
    java = Path(os.environ["JAVA_HOME"], "bin", "java") if os.environ.get("JAVA_HOME") else "java"
    version = subprocess.run([str(java), "-version"], capture_output=True, text=True, check=True)
    return f"pyspark {pyspark.__version__}\n{version.stderr.strip()}\ntraining {_TRAINING}\n"


def build(force: bool = False) -> Path | None:
    """Build the archive if it is missing or stale; the path, or ``None`` when turned off or it failed."""
    path = archive_path()
    if path is None:
        return None
    stamp = path.with_suffix(".fingerprint")
    fingerprint = _fingerprint()
    if not force and path.is_file() and stamp.is_file() and stamp.read_text(encoding="utf-8") == fingerprint:
        return path
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(f".{path.name}.{os.getpid()}")
    env = {**os.environ, _ENV: "off", "SANDBOX_CLASS_ARCHIVE_TARGET": str(partial)}
    # the JVM writes the archive when it exits: the training runs in a child that waits for that
    done = subprocess.run([sys.executable, "-m", "sandbox.engines.class_training"], env=env,
                          capture_output=True, text=True)  # fmt: skip
    if done.returncode != 0 or not partial.is_file():
        partial.unlink(missing_ok=True)
        print(f"未能生成 Spark 类共享归档，Spark 照常启动（较慢）/ could not build the Spark class archive; "
              f"Spark starts without it (slower):\n{done.stderr[-2000:]}", file=sys.stderr)  # fmt: skip
        return None
    os.replace(partial, path)  # running JVMs keep the file they mapped
    stamp.write_text(fingerprint, encoding="utf-8")
    return path


def main(argv: list[str]) -> int:
    path = build(force="--force" in argv)
    if path is not None:
        print(f"Spark 类共享归档 / Spark class archive: {path} ({path.stat().st_size / 1024**2:.0f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
