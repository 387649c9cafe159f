"""Catalog service on SQLite and PostgreSQL: registration, duplicates, audit."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml
from sqlalchemy import func, select

from sandbox.catalog.service import get_dataset, load_catalog, read_catalog_file, show_dataset
from sandbox.catalog.spec import parse_catalog
from sandbox.domain.errors import CatalogError, NotFoundError
from sandbox.governance.access import principal_for
from sandbox.store.models import AuditEventRow

MINI = Path(__file__).parents[2] / "fixtures" / "mini_catalog.yaml"


def _events(ctx, action: str) -> int:
    with ctx.sessions() as session:
        return session.scalar(select(func.count()).where(AuditEventRow.action == action))


def test_load_registers_and_audits(ctx):
    catalog_file = read_catalog_file(MINI)
    summary = load_catalog(ctx, principal_for(ctx, "admin"), catalog_file.catalog)
    assert summary.providers_added == ["gongan", "canlian"]
    assert summary.datasets_added == ["people", "disability"]
    assert _events(ctx, "dataset.registered") == 2
    assert _events(ctx, "provider.registered") == 2
    assert get_dataset(ctx, "people") == catalog_file.catalog.datasets[0]
    assert catalog_file.files["people"] == (MINI.parent / "people.csv").resolve()
    assert ctx.verify_audit().ok


def test_identical_reload_is_a_no_op(ctx):
    catalog = read_catalog_file(MINI).catalog
    load_catalog(ctx, principal_for(ctx, "admin"), catalog)
    summary = load_catalog(ctx, principal_for(ctx, "admin"), catalog)
    assert summary.datasets_added == [] and summary.datasets_unchanged == ["people", "disability"]
    assert _events(ctx, "dataset.registered") == 2


def test_changed_duplicate_dataset_is_refused_and_nothing_half_registered(ctx):
    document = yaml.safe_load(MINI.read_text(encoding="utf-8"))
    load_catalog(ctx, principal_for(ctx, "admin"), parse_catalog(document))
    changed = copy.deepcopy(document)
    changed["datasets"][1]["title"] = "改了名字"
    changed["datasets"].append({**copy.deepcopy(document["datasets"][1]), "id": "disability_2"})
    with pytest.raises(CatalogError) as info:
        load_catalog(ctx, principal_for(ctx, "admin"), parse_catalog(changed))
    assert "disability" in info.value.en and "duplicate dataset" in info.value.en
    with pytest.raises(NotFoundError):
        get_dataset(ctx, "disability_2")


def test_unknown_dataset_is_a_clear_error(ctx):
    with pytest.raises(NotFoundError) as info:
        show_dataset(ctx, "nope")
    assert "nope" in info.value.zh and "not registered" in info.value.en


def test_unreadable_catalog_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("datasets: [unclosed", encoding="utf-8")
    with pytest.raises(CatalogError) as info:
        read_catalog_file(bad)
    assert "cannot be parsed" in info.value.en
    with pytest.raises(CatalogError):
        read_catalog_file(tmp_path / "missing.yaml")
