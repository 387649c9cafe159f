"""A refusal of a job's plan: which output, which rule, why (Chinese and English), and where."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass


@dataclass(frozen=True)
class PlanFinding:
    output: str
    rule: str
    zh: str
    en: str
    line: int | None = None  # the job file's line the refused construct was built on, when known

    def __str__(self) -> str:
        where = f"第 {self.line} 行 / line {self.line} " if self.line else ""
        return f"{self.output}: {where}[{self.rule}] {self.zh} / {self.en}"

    def as_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> PlanFinding:
        return cls(**{k: data.get(k) for k in ("output", "rule", "zh", "en", "line")})


def line_in(text: str, entry: str) -> int | None:
    """The job file's line in a call site or a message ("… /job/job.py:3 …"), if it names one."""
    match = re.search(rf"{re.escape(entry)}:(\d+)", text)
    return int(match.group(1)) if match else None
