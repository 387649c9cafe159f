"""Zone paths: the second layer behind identifier patterns; nothing built here leaves its zone."""

from __future__ import annotations

import pytest

from sandbox.settings import Settings
from sandbox.store.zones import Zone, ZoneEscape, zone_path, zone_relative


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path / "home")


def test_parts_join_under_their_zone(settings):
    assert zone_path(settings, Zone.SAMPLES, "elderly-care", "people", "v0001") == (
        settings.home_dir / "samples" / "elderly-care" / "people" / "v0001"
    )
    assert zone_relative(settings, Zone.RAW, "people/v0002") == settings.home_dir / "raw" / "people" / "v0002"


@pytest.mark.parametrize("part", ["..", ".", "", "../x", "a/b", "/etc", "a\\b", "x\x00"])
def test_unsafe_parts_are_refused(settings, part):
    with pytest.raises(ZoneEscape) as info:
        zone_path(settings, Zone.SAMPLES, "scenario", part)
    assert info.value.code == "E701"
    assert "samples" in info.value.zh and "samples" in info.value.en


def test_a_recorded_relative_path_cannot_climb_out(settings):
    with pytest.raises(ZoneEscape):
        zone_relative(settings, Zone.PRODUCTS, "../raw/people/v0001")


def test_a_symlink_planted_inside_a_zone_does_not_lead_out(settings, tmp_path):
    """A path can be well-formed and still resolve outside: the resolved path is checked too."""
    outside = tmp_path / "outside"
    outside.mkdir()
    root = settings.home_dir / "staging"
    root.mkdir(parents=True)
    (root / "scenario").symlink_to(outside, target_is_directory=True)
    with pytest.raises(ZoneEscape):
        zone_path(settings, Zone.STAGING, "scenario")
