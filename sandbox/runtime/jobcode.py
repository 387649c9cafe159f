"""The job's own code as the job process loads it: restricted builtins, its ``build``, its lines."""

from __future__ import annotations

import traceback
from pathlib import Path

from sandbox.domain.contract import Breach, FrameContract
from sandbox.runtime.guard import restricted_builtins


class FrameContractError(RuntimeError):
    """A job returned something other than one DataFrame per declared output with the declared columns."""

    def __init__(self, contract: FrameContract) -> None:
        self.contract = contract
        super().__init__(contract.breach.value)


def load_build(entry: Path, module: str):
    """Execute the entry file with restricted builtins and return its ``build`` function."""
    code = compile(entry.read_text(encoding="utf-8"), str(entry), "exec")
    namespace = {"__builtins__": restricted_builtins(), "__name__": module}
    exec(code, namespace)  # noqa: S102 - the job's own code, statically checked, in the jail
    build = namespace.get("build")
    if not callable(build):
        raise FrameContractError(FrameContract(Breach.NO_BUILD))
    return build


def job_line(exc: BaseException, entry: Path) -> int | None:
    """The innermost line of the job's own file in the traceback; nothing of the platform's."""
    line = None
    for frame in traceback.extract_tb(exc.__traceback__):
        if Path(frame.filename) == entry:
            line = frame.lineno
    return line
