"""The synthetic datasets, modelled on annex 1 of Daye's authorised-operation plan.

Each module holds one dataset: its catalog entry (``DATASET``), the code tables it introduces
(``CODE_TABLES``), the defects it can carry (``DEFECTS``) and ``build(world)``.
"""

from __future__ import annotations

from sandbox.synth.datasets import (
    admin_penalties,
    disability_records,
    elderly_care_institutions,
    elderly_people,
    enterprises,
    housing_fund,
    housing_units,
    hukou_population,
    marriage_registration,
    real_estate,
    social_insurance,
)
from sandbox.synth.datasets.common import division_tables
from sandbox.synth.geography import Geography

MODULES = (
    hukou_population,
    enterprises,
    admin_penalties,
    social_insurance,
    real_estate,
    marriage_registration,
    disability_records,
    elderly_care_institutions,
    housing_fund,
    housing_units,
    elderly_people,
)
PROVIDERS = (
    ("gongan", "市公安局"),
    ("scjg", "市市场监管局"),
    ("fagai", "市发改局"),
    ("renshe", "市人社局"),
    ("zigui", "市资规局"),
    ("minzheng", "市民政局"),
    ("canlian", "市残联"),
    ("gjj", "市住房公积金中心"),
    ("zhujian", "市住建局"),
)


def code_tables(geo: Geography) -> dict[str, tuple[str, ...]]:
    tables = division_tables(geo)
    for module in MODULES:
        tables.update(getattr(module, "CODE_TABLES", {}))
    return tables
