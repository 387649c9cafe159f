"""Progress of slow commands (samples build, dev run, promote, quality run), on stderr.

Services take a ``Stages`` callback and name each stage as they enter it; this face prints one
line per stage with the time since the command started, and on a terminal keeps a spinner on
the current one. Standard output stays clean for ``--format json``.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

from sandbox.cli.common import err_console
from sandbox.domain.progress import Stages, with_rows


@contextmanager
def progress(title_zh: str, title_en: str) -> Iterator[Stages]:
    started = time.perf_counter()
    status = err_console.status(f"{title_zh} / {title_en}") if err_console.is_terminal else None

    def stage(zh: str, en: str, rows: int | None = None) -> None:
        elapsed = time.perf_counter() - started
        zh, en = with_rows(zh, en, rows)
        err_console.print(f"[dim]{elapsed:6.1f}s[/] {zh} / {en}", highlight=False)
        if status is not None:
            status.update(f"{zh} / {en}…")

    if status is None:
        yield stage
    else:
        with status:
            yield stage
    err_console.print(f"[dim]{time.perf_counter() - started:6.1f}s[/] 完成 / done", highlight=False)
