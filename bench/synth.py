"""Synthetic-county throughput: ``sandbox.synth.generate`` against naive per-row Faker.

The baseline is the obvious way to fake a household register: one Faker call per field per
row, written with ``csv.writer``, and only the hukou table's columns. The generator writes all
eleven datasets, defects and ground truth; the goal is at least 50,000 people per second end
to end on two cores.

    .venv/bin/python bench/synth.py [--people 1000000] [--baseline-people 20000]
"""

from __future__ import annotations

import argparse
import csv
import random
import tempfile
import time
from pathlib import Path

from faker import Faker

from sandbox.synth import generate
from sandbox.synth.geography import city
from sandbox.synth.people import EDUCATION, ETHNICITIES, MARITAL, RELATIONS

GOAL = 50_000  # people per second


def naive(people: int, path: Path) -> None:
    """The hukou columns, one Faker call per value."""
    fake = Faker("zh_CN")
    fake.seed_instance(7)
    rnd = random.Random(7)
    geo = city()
    with path.open("w", encoding="utf-8", newline="") as f:
        out = csv.writer(f)
        out.writerow(["id_number", "name", "gender", "birth_date", "ethnicity", "district_code", "town_code",
                      "community_code", "address", "mobile", "household_id", "relation_to_head", "education",
                      "marital_status", "updated_at", "remarks"])  # fmt: skip
        for _ in range(people):
            c = rnd.randrange(len(geo.community_code))
            male = rnd.random() < 0.5
            out.writerow([
                fake.ssn(), fake.name_male() if male else fake.name_female(), "1" if male else "2",
                fake.date_of_birth(minimum_age=0, maximum_age=100).isoformat(), rnd.choice(ETHNICITIES),
                geo.district_code[geo.community_district[c]], geo.town_code[geo.community_town[c]],
                geo.community_code[c], fake.address(), fake.phone_number(), fake.numerify("##########"),
                rnd.choice(RELATIONS), rnd.choice(EDUCATION), rnd.choice(MARITAL),
                fake.date_time_between("-2d", "now").strftime("%Y-%m-%d %H:%M:%S"), fake.sentence(),
            ])  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--baseline-people", type=int, default=20_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        start = time.perf_counter()
        result = generate(Path(tmp) / "synth", people=args.people)
        elapsed = time.perf_counter() - start
        rate = args.people / elapsed
        rows = sum(result.rows.values())
        size = sum(p.stat().st_size for p in (Path(tmp) / "synth").iterdir()) / 2**20

        start = time.perf_counter()
        naive(args.baseline_people, Path(tmp) / "naive.csv")
        naive_elapsed = time.perf_counter() - start
        naive_rate = args.baseline_people / naive_elapsed

    print(f"synth.generate   {args.people:>9,} people  {elapsed:7.2f} s  {rate:>10,.0f} people/s"
          f"  ({rows:,} rows in 11 datasets, {result.defects:,} defects, {size:,.0f} MiB)")  # fmt: skip
    print(f"naive Faker rows {args.baseline_people:>9,} people  {naive_elapsed:7.2f} s  {naive_rate:>10,.0f} people/s"
          "  (hukou columns only)")  # fmt: skip
    print(
        f"ratio {rate / naive_rate:.1f}x   goal >= {GOAL:,} people/s: {'met' if rate >= GOAL else 'MISSED'}"
    )


if __name__ == "__main__":
    main()
