"""Transition tables: every lifecycle in Shuyu is data, and an illegal move is a clear error."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from sandbox.domain.errors import IllegalTransition


@dataclass(frozen=True)
class TransitionTable:
    """``(state, action) -> new state``; ``None`` as a state means "does not exist yet"."""

    name_zh: str
    name_en: str
    table: Mapping[tuple[StrEnum | None, str], StrEnum]

    def can(self, state: StrEnum | None, action: str) -> bool:
        return (state, action) in self.table

    def check(self, state: StrEnum | None, action: str) -> StrEnum:
        """Return the state ``action`` leads to from ``state``, or raise ``IllegalTransition``."""
        try:
            return self.table[(state, action)]
        except KeyError:
            allowed = sorted(a for (s, a) in self.table if s == state)
            shown = state.value if state is not None else "（不存在）"
            raise IllegalTransition(
                f"{self.name_zh}处于「{shown}」状态，不能执行「{action}」（可执行：{', '.join(allowed) or '无'}）",
                f"{self.name_en} in state '{state.value if state is not None else 'none'}' cannot '{action}'"
                f" (allowed: {', '.join(allowed) or 'nothing'})",
            ) from None

    def actions_from(self, state: StrEnum | None) -> list[str]:
        return sorted(a for (s, a) in self.table if s == state)

    def final_states(self) -> frozenset[StrEnum]:
        """The states no action leaves: whatever reaches one is done."""
        return frozenset(s for s in self.table.values() if not self.actions_from(s))

    def states_allowing(self, action: str) -> frozenset[StrEnum]:
        return frozenset(s for (s, a) in self.table if a == action and s is not None)
