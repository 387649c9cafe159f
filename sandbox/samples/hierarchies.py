"""Generalization hierarchies for quasi-identifiers, applied as Arrow column operations.

Each hierarchy maps a column to coarser values level by level; its top level is suppression
(null). Values keep their type where they can (a date generalized to its year is that year's
first day; a community code generalized to its town keeps twelve digits, ending in zeros as the
division-code standard writes a parent), so developers' jobs run unchanged on samples.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from sandbox.domain.catalog import Column, ColumnType, PiiKind


@dataclass(frozen=True)
class Hierarchy:
    kind: str
    steps: tuple[str, ...]  # description of each level below suppression, level 0 first

    @property
    def top(self) -> int:
        """The suppression level: every value null."""
        return len(self.steps)

    def describe(self, level: int) -> str:
        return "suppressed" if level >= self.top else self.steps[level]

    def apply(self, values: pa.Array, level: int) -> pa.Array:
        if level <= 0:
            return values
        if level >= self.top:
            return pa.nulls(len(values), values.type)
        return _APPLY[self.kind](values, level, self)


def _division(values: pa.Array, level: int, h: Hierarchy) -> pa.Array:
    """Keep the code's first digits of the parent ``level`` steps up and pad with zeros."""
    width = {"division12": (12, 9, 6, 4), "division9": (9, 6, 4), "division6": (6, 4)}[h.kind]
    full, keep = width[0], width[level]
    return pc.utf8_rpad(pc.utf8_slice_codeunits(values, 0, keep), full, "0")


#: Date levels: day, month, then year bands of growing width (floored from year 0, so 40 years
#: is 1920-1959, 1960-1999, …): a tiny sample keeps some age information rather than none.
_DATE_STEPS = (("day", 1), ("month", 1), ("year", 1), ("year", 5), ("year", 10), ("year", 20), ("year", 40))


def _date(values: pa.Array, level: int, h: Hierarchy) -> pa.Array:
    unit, multiple = _DATE_STEPS[level]
    as_date = values if pa.types.is_date(values.type) else pc.cast(values, pa.date32())
    floored = pc.floor_temporal(as_date, multiple=multiple, unit=unit)
    return pc.cast(floored, values.type)


def _band(values: pa.Array, level: int, h: Hierarchy) -> pa.Array:
    width = (1, 5, 10, 20)[level]
    floored = pc.multiply(pc.floor(pc.divide(pc.cast(values, pa.float64()), width)), width)
    return pc.cast(floored, values.type)


_TOWN = r"^(?P<kept>.*?(?:街道|镇|乡))"
#: a district, county or banner; 区 right after 社 is a community (社区), not a district
_DISTRICT = r"^(?P<kept>.*?(?:[^社]区|县|旗))"


def _cut(values: pa.Array, pattern: str) -> pa.Array:
    """The value up to the pattern's first match; null where it does not match."""
    if not len(values):
        return values
    kept = pc.extract_regex(values, pattern).field("kept")
    return pc.if_else(pc.match_substring_regex(values, pattern), kept, pa.scalar(None, pa.string()))


def _address(values: pa.Array, level: int, h: Hierarchy) -> pa.Array:
    """Town level: the address up to its town, or up to its district when it names no town; district
    level: the town level's value up to its district. Each level is cut from the one below, so the
    levels are nested (no address is null at town level yet has a value at district level), which
    the k-anonymity search's pruning relies on."""
    town = pc.coalesce(_cut(values, _TOWN), _cut(values, _DISTRICT))
    return town if level == 1 else _cut(town, _DISTRICT)


_APPLY = {"division12": _division, "division9": _division, "division6": _division, "date": _date,
          "band": _band, "address": _address}  # fmt: skip


def hierarchy_for(column: Column) -> Hierarchy:
    """The hierarchy a quasi-identifier column is generalized along, from its catalog entry."""
    table = column.code_table or ""
    if table == "division_community":
        return Hierarchy("division12", ("community", "town", "district", "city"))
    if table == "division_town":
        return Hierarchy("division9", ("town", "district", "city"))
    if table == "division_district":
        return Hierarchy("division6", ("district", "city"))
    if column.pii == PiiKind.ADDRESS:
        return Hierarchy("address", ("community", "town", "district"))
    if column.type in (ColumnType.DATE, ColumnType.TIMESTAMP):
        return Hierarchy("date", ("day", "month", "year", "5 years", "10 years", "20 years", "40 years"))
    if column.type in (ColumnType.INTEGER, ColumnType.DOUBLE):
        return Hierarchy("band", ("exact", "band of 5", "band of 10", "band of 20"))
    return Hierarchy("category", ("exact",))


def minimum_level(column: Column) -> int:
    """Levels no sample may go below: an exact birth date is never handed out, only its month."""
    return 1 if column.pii == PiiKind.BIRTH_DATE else 0
