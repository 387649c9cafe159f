"""What the dataset modules share: provision methods, division columns and typical bad codes."""

from __future__ import annotations

import numpy as np

from sandbox.domain.catalog import Column, ProvisionMethod
from sandbox.synth.geography import Geography
from sandbox.synth.table import PI_GENERAL, col

#: Annex 1 lists 接口、库表、文件 for every resource
PROVISION = (ProvisionMethod.API, ProvisionMethod.TABLE, ProvisionMethod.FILE)
GENDERS = ("1", "2")  # GB/T 2261.1 男, 女


def division_tables(geo: Geography) -> dict[str, tuple[str, ...]]:
    return {
        "gender": GENDERS,
        "division_district": tuple(geo.district_code),
        "division_town": tuple(geo.town_code),
        "division_community": tuple(geo.community_code),
    }


def district_column(title: str = "区县代码") -> Column:
    return col("district_code", title, "string", "quasi_id", code_table="division_district", required=True)


def community_column() -> Column:
    return col(
        "community_code",
        "社区（村）代码",
        "string",
        "quasi_id",
        code_table="division_community",
        required=True,
    )


def gender_column() -> Column:
    return col(
        "gender", "性别", "string", "quasi_id", code_table="gender", personal_info=PI_GENERAL, required=True
    )


def bad_district(rng: np.random.Generator, old: np.ndarray) -> np.ndarray:
    """The city's own code, an unassigned district, or a truncated code: all absent from the table."""
    return np.array(["429900", "429999", "4299"])[rng.integers(0, 3, len(old))]


def bad_community(rng: np.random.Generator, old: np.ndarray) -> np.ndarray:
    """The right town with the village part zeroed or out of the 001-399 range."""
    return np.array(
        [code[:9] + ("000" if r else "999") for code, r in zip(old, rng.random(len(old)) < 0.5, strict=True)]
    )


def negative(rng: np.random.Generator, old: np.ndarray) -> np.ndarray:
    """A sign error: the magnitude kept, the value negative."""
    return -np.maximum(np.abs(old), 1)
