"""One synthetic county, registered, ingested and sampled once per test session.

The home sits at a short path under /tmp: Ray keeps Unix sockets in its session directory under
the home's work dir, and socket paths may not exceed 107 bytes.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

import pytest

from sandbox.catalog.service import ingest, load_catalog, read_catalog_file
from sandbox.context import PlatformContext
from sandbox.demo.cast import create_cast
from sandbox.demo.scenarios import ELDERLY_CARE, authorize_operator, take_to_active
from sandbox.domain.catalog import Catalog
from sandbox.domain.scenario import ScenarioCategory
from sandbox.governance.access import principal_for
from sandbox.governance.identities import bootstrap_admin
from sandbox.governance.scenarios import ColumnRequest
from sandbox.settings import Settings

SCENARIO = "samples-check"
#: Every column of the datasets holding people's and enterprises' identifiers, names, phones,
#: addresses and free text: the widest sample the leak test can scan.
DATASETS = ("hukou_population", "enterprises", "disability_records", "social_insurance", "elderly_people",
            "admin_penalties", "home_visits")  # fmt: skip
MISDECLARED = """
version: 1
providers:
  - {id: minzheng, name: 市民政局}
datasets:
  - id: home_visits
    title: 上门走访记录
    provider: minzheng
    update_cycle: 每月
    provision: [文件]
    keys: [visit_id]
    entity: id_number
    file: home_visits.csv
    columns:
      - {name: visit_id, title: 走访编号, type: string, role: attribute, pii: record_id, required: true}
      - {name: id_number, title: 公民身份号码, type: string, role: direct_id, pii: cn_resident_id}
      - {name: contact, title: 联系方式, type: string, role: attribute}
      - {name: bank_card, title: 补贴发放卡号, type: string, role: direct_id, pii: bank_card}
      - {name: note, title: 走访情况, type: string, role: free_text}
"""
#: What clerks write around each kind of identifier in a visit note (the county plants the others).
NOTES = {
    "cn_mobile": ("走访时拨打", "无人接听"),
    "bank_card": ("补贴发放银行卡号", "已核对"),
    "cn_landline": ("家中座机", "无人接听"),
    "email": ("子女邮箱", "已发送通知"),
    "license_plate": ("车牌", "停放于楼下"),
    "passport": ("护照号码", "已核验"),
    "address": ("现住", "，已上门"),
}


def _bank_card(rng) -> str:
    """A 16- or 19-digit card number with a valid Luhn digit."""
    body = "".join(str(d) for d in rng.integers(0, 10, int(rng.choice([9, 12]))))
    body = ("622202" if len(body) == 9 else "621700") + body
    total = sum(d - 9 if d > 9 else d for d in (int(c) * (2 - i % 2) for i, c in enumerate(reversed(body))))
    return body + str(total * 9 % 10)


def _planted(kind: str, i: int, rng, person) -> str:
    if kind == "cn_mobile":
        return person["mobile"]
    if kind == "bank_card":
        return person["bank_card"]
    if kind == "cn_landline":
        return f"0714-{rng.integers(2, 9)}{rng.integers(0, 10**6):06d}"
    if kind == "email":
        return f"visit{i}@163.com"
    if kind == "license_plate":
        return "鄂B" + "".join(rng.choice(list("ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"), 5))
    if kind == "passport":
        return f"E{rng.integers(0, 10**8):08d}"
    return person["address"]


def write_misdeclared(synth: Path) -> Path:
    """A provider's visit records: ``contact`` is declared harmless but holds mobile numbers, and each
    note names one identifier of a kind the county's own remarks do not plant (its ground truth beside)."""
    import numpy as np
    import pandas as pd

    rng = np.random.default_rng(4)
    people = (
        pd.read_csv(synth / "hukou_population.csv", dtype=str).dropna(subset=["mobile", "address"]).head(700)
    )
    people["bank_card"] = [_bank_card(rng) for _ in range(len(people))]
    kinds = list(NOTES)
    values = [_planted(kinds[i % len(kinds)], i, rng, p) for i, p in enumerate(people.to_dict("records"))]
    notes = [
        NOTES[kinds[i % len(kinds)]][0] + v + NOTES[kinds[i % len(kinds)]][1] for i, v in enumerate(values)
    ]
    visits = pd.DataFrame({
        "visit_id": [f"ZF{i:05d}" for i in range(len(people))],
        "id_number": people["id_number"].to_numpy(),
        "contact": people["mobile"].to_numpy(),
        "bank_card": people["bank_card"].to_numpy(),
        "note": notes,
    })  # fmt: skip
    visits.to_csv(synth / "home_visits.csv", index=False)
    pd.DataFrame({
        "dataset": "home_visits", "key": visits["visit_id"], "column": "note", "kind": "planted_pii",
        "detail": [kinds[i % len(kinds)] for i in range(len(visits))], "value": values,
    }).to_csv(synth / "home_visits_truth.csv", index=False)  # fmt: skip
    (synth / "home_visits.yaml").write_text(MISDECLARED, encoding="utf-8")
    return synth / "home_visits.yaml"


def wide_scenario(catalog: Catalog) -> dict:
    columns = [
        ColumnRequest(d.id, c.name, f"样例检验：{c.title}")
        for d in catalog.datasets
        if d.id in DATASETS
        for c in d.columns
    ]
    return {
        "scenario_id": SCENARIO, "title": "样例脱敏检验", "category": ScenarioCategory.PUBLIC_GOVERNANCE,
        "description": "检验样例脱敏", "value_statement": "保障样例安全", "planned_products": ["none"],
        "columns": columns,
    }  # fmt: skip


@dataclass
class County:
    ctx: PlatformContext
    synth: Path
    catalog: Catalog

    def raw(self, dataset_id: str) -> Path:
        from sandbox.catalog.service import current_version, version_path

        return version_path(self.ctx, current_version(self.ctx, dataset_id))


@pytest.fixture(scope="session")
def ray_home():
    home = Path(tempfile.mkdtemp(prefix="shuyu-", dir="/tmp"))
    yield home
    import ray

    ray.shutdown()
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture(scope="session")
def county(ray_home) -> County:
    """A registered, ingested county of 3,000 people with the wide scenario active (no samples yet)."""
    from sandbox.engines.ray import ray_runtime
    from sandbox.synth import generate

    ctx = PlatformContext(Settings(home=ray_home / "home"), actor="admin")
    ctx.init_home()
    bootstrap_admin(ctx)
    ray_runtime(ctx.settings, num_cpus=2)
    synth = generate(ray_home / "county", people=3000, seed=11)
    county_file = read_catalog_file(synth.catalog)
    extra_file = read_catalog_file(write_misdeclared(synth.out))
    catalog = Catalog(county_file.catalog.providers, county_file.catalog.datasets + extra_file.catalog.datasets,
                      county_file.catalog.code_tables)  # fmt: skip
    files = {**county_file.files, **extra_file.files}
    load_catalog(ctx, principal_for(ctx, "admin"), catalog)
    create_cast(ctx, catalog)
    for dataset in catalog.datasets:
        ingest(ctx, principal_for(ctx, f"provider-{dataset.provider}"), dataset.id, [files[dataset.id]])
    authorize_operator(ctx, catalog)
    take_to_active(ctx, catalog, wide_scenario(catalog))
    return County(ctx, synth.out, catalog)


@pytest.fixture(scope="session")
def built(county, spark):
    """The wide scenario's samples, built once with a recorded seed."""
    from sandbox.samples import build_samples

    row = build_samples(
        county.ctx, principal_for(county.ctx, "operator-1"), SCENARIO, seed=20261124, spark=spark
    )
    return row


@pytest.fixture(scope="session")
def elderly_care(county, spark):
    """The demo's elderly-care scenario, active, with samples built once (as the demo builds them)."""
    from sandbox.samples import build_samples

    take_to_active(county.ctx, county.catalog, ELDERLY_CARE)
    return build_samples(county.ctx, principal_for(county.ctx, "operator-1"), ELDERLY_CARE["scenario_id"],
                         seed=7, spark=spark)  # fmt: skip
