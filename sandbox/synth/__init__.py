"""Synthetic county: realistic public datasets of the fictional 云泽市 with known injected defects.

``generate`` writes, into one directory:

- ``<dataset_id>.csv`` for every dataset in ``datasets.MODULES``;
- ``catalog.yaml``: the providers' registration of those datasets (the catalog loader's format);
- ``ground_truth.csv``: every injected defect and every identifier planted in free text
  (columns dataset, key, column, kind, detail, value; key = key values joined by "|");
- ``synth.json``: the parameters, the reference date and the counts.

The output is byte-identical for the same (people, seed, defect_rate): every stage draws from
its own PCG64 stream and all dates are relative to the fixed ``timeline.AS_OF``.

Residents and firms whose key gets a wrong check character are chosen first and never
referenced by another dataset, so that defect never drags orphan references along with it.
Resident IDs carry the fictional region codes 4299xx: validators that look the region up in a
table of real places (``stdnum.cn.ric``) reject them, so check the MOD 11-2 character instead.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from sandbox.synth.catalog_writer import write_catalog
from sandbox.synth.datasets import MODULES, PROVIDERS, code_tables
from sandbox.synth.defects import PLANTED_PII, TRUTH_COLUMNS, FieldOrder, inject
from sandbox.synth.geography import CITY, CITY_CODE
from sandbox.synth.timeline import AS_OF
from sandbox.synth.world import World
from sandbox.synth.writer import write_csv

__all__ = ["SynthResult", "generate", "MIN_PEOPLE", "MAX_DEFECT_RATE"]

MIN_PEOPLE = 100
MAX_DEFECT_RATE = 0.1  # with up to nine kinds per dataset, 10 % each still leaves clean rows


@dataclass(frozen=True)
class SynthResult:
    out: Path
    rows: dict[str, int]  # per dataset, duplicates included
    defects: int  # ground-truth entries other than planted PII
    planted_pii: int
    catalog: Path


def generate(out: Path, *, people: int = 20000, seed: int = 7, defect_rate: float = 0.01) -> SynthResult:
    """Generate the city's datasets for ``people`` residents into ``out`` (created if missing)."""
    if people < MIN_PEOPLE:
        raise ValueError(f"people must be at least {MIN_PEOPLE}")
    if not 0 <= defect_rate <= MAX_DEFECT_RATE:
        raise ValueError(f"defect_rate must be within [0, {MAX_DEFECT_RATE}]")
    if seed < 0:
        raise ValueError("seed must be non-negative")
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    world = World.build(people, seed, defect_rate)
    rows: dict[str, int] = {}
    truths: list[pa.Table] = []
    with ThreadPoolExecutor(max_workers=2) as pool:
        pending = []
        for module in MODULES:
            dataset = module.DATASET
            table, truth = inject(world, dataset, module.DEFECTS, module.build(world))
            rows[dataset.id] = table.num_rows
            truths.append(truth)
            pending.append(
                pool.submit(write_csv, out / f"{dataset.id}.csv", table.columns, dataset.column_names)
            )
        truth = pa.concat_tables(truths)
        pending.append(
            pool.submit(
                write_csv,
                out / "ground_truth.csv",
                dict(zip(TRUTH_COLUMNS, truth.columns, strict=True)),
                TRUTH_COLUMNS,
            )
        )
        for job in pending:
            job.result()
    catalog = out / "catalog.yaml"
    write_catalog(catalog, PROVIDERS, [m.DATASET for m in MODULES], code_tables(world.geo), defect_rate)
    kinds = truth.column("kind")
    planted = int(pc.sum(pc.equal(kinds, PLANTED_PII)).as_py() or 0)
    by_kind = dict(zip(*np.unique(kinds.to_numpy(zero_copy_only=False), return_counts=True), strict=True))
    summary = {
        "county": CITY,
        "county_code": CITY_CODE,
        "as_of": str(AS_OF),
        "seed": seed,
        "people": people,
        "defect_rate": defect_rate,
        "rows": rows,
        "ground_truth": {str(k): int(v) for k, v in sorted(by_kind.items())},
        "field_order": [
            {"dataset": m.DATASET.id, "lesser": inj.low, "greater": inj.high}
            for m in MODULES
            for inj in m.DEFECTS
            if isinstance(inj, FieldOrder)
        ],
    }
    (out / "synth.json").write_text(
        json.dumps(summary, ensure_ascii=False, indent=2) + "\n", encoding="utf-8"
    )
    return SynthResult(
        out=out, rows=rows, defects=truth.num_rows - planted, planted_pii=planted, catalog=catalog
    )
