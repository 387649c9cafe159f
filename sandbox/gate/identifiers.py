"""Keeping identifiers out of outputs: the output scan and the identifying-dimension check.

The only strings a released table holds are its dimension values (measures are numbers), and those
come from the declared domains, so scanning every declared value scans every string cell the table
can hold — before any data is read or any privacy budget spent. The scan itself is a narrow
interface (a list of strings in, findings out); by default it is the samples' Presidio analyzer
with the Chinese recognizers (resident ID, mobile, USCC, bank card, names, addresses, ...).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from sandbox.domain.gate import Refusal
from sandbox.domain.job import OutputSpec
from sandbox.gate.errors import OutputRefused


@dataclass(frozen=True)
class IdentifierFinding:
    """A personal identifier recognised in the ``index``-th string scanned. Carries no value."""

    index: int
    kind: str
    score: float


IdentifierScanner = Callable[[Sequence[str]], list[IdentifierFinding]]


def samples_scanner() -> IdentifierScanner:
    """The samples' Presidio analyzer, with every Chinese recognizer registered, as a scanner."""
    from sandbox.samples.recognizers import analyze

    def scan(texts: Sequence[str]) -> list[IdentifierFinding]:
        return [
            IdentifierFinding(i, r.entity_type, r.score)
            for i, text in enumerate(texts)
            for r in analyze(text)
        ]

    return scan


#: What may be put between an identifier's characters to hide it from a pattern.
_SEPARATORS = re.compile(r"[\s\-_.·/\\|:：,，;；()（）\[\]【】]+")
#: Runs of digits (an ID's check character may be X) long enough to be an identifier on their own.
_DIGIT_RUNS = re.compile(r"[0-9]{6,}[0-9Xx]?")


def variants(value: str) -> list[str]:
    """The value, and the forms an identifier hidden in it takes once undisguised: full-width
    characters folded (NFKC), separators removed, and each long digit run on its own (so letters
    glued to an ID do not keep a pattern's word boundary from matching)."""
    folded = unicodedata.normalize("NFKC", value)
    joined = _SEPARATORS.sub("", folded)
    return list(dict.fromkeys([value, folded, joined, *_DIGIT_RUNS.findall(joined)]))


def scan_dimension_values(
    output: OutputSpec, domains: dict[str, tuple[str, ...]], scanner: IdentifierScanner, min_score: float
) -> None:
    """Refuse the output if any value a dimension may show, or an undisguised form of it, is recognised
    as a personal identifier."""
    for dim in output.dimensions:
        texts = [text for value in domains[dim] for text in variants(value)]
        kinds = sorted({f.kind for f in scanner(texts) if f.score >= min_score})
        if kinds:
            raise OutputRefused(
                Refusal.IDENTIFIER_IN_OUTPUT,
                f"输出 {output.name} 的维度 {dim} 含有被识别为个人标识的取值（{', '.join(kinds)}）",
                f"dimension {dim} of output {output.name} holds values recognised as personal identifiers "
                f"({', '.join(kinds)})",
            )


def check_not_identifying(
    output: OutputSpec, observed: dict[str, int], entities: int, *, ratio: float, threshold: int
) -> None:
    """Refuse the output if a dimension's observed distinct values approach its number of entities.

    ``observed`` maps each dimension to its distinct values present in the data. A dimension with fewer
    distinct values than the threshold cannot single anyone out by itself and is not judged.
    """
    for dim in output.dimensions:
        distinct = observed.get(dim, 0)
        if distinct >= threshold and distinct > ratio * entities:
            raise OutputRefused(
                Refusal.IDENTIFYING_DIMENSION,
                f"输出 {output.name} 的维度 {dim} 几乎每个主体取值各不相同（超过主体数的 {ratio:.0%}），视为标识符",
                f"dimension {dim} of output {output.name} takes nearly one value per entity (more than "
                f"{ratio:.0%} of the entities): it identifies",
            )
