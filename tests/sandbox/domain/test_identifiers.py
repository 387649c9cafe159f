"""Identifiers: one strict pattern per kind; anything that could name a path elsewhere is refused."""

from __future__ import annotations

import pytest

from sandbox.domain.errors import InvalidInput
from sandbox.domain.identifiers import IdKind, check_id, is_valid_id

ESCAPES = [
    "../x",
    "..",
    ".",
    "a/b",
    "a\\b",
    "/etc",
    "x\x00y",
    "",
    " x",
    "x ",
    "X",
    "中文",
    "a" * 65,
    "a.b",
    "-x",
]


@pytest.mark.parametrize("kind", [k for k in IdKind if k not in (IdKind.SUBMISSION, IdKind.RUN, IdKind.TICKET,
                                                                 IdKind.AUTHORIZATION, IdKind.TOKEN)])  # fmt: skip
def test_names_accept_the_demo_ids_and_refuse_everything_path_like(kind):
    for good in ("elderly-care", "hukou_population", "provider-gongan", "operator-1", "a", "x" * 64):
        assert check_id(kind, good) == good
    for bad in ESCAPES:
        assert not is_valid_id(kind, bad), bad


@pytest.mark.parametrize(
    ("kind", "good", "bad"),
    [
        (IdKind.SUBMISSION, "0123456789ab", "0123456789ab/../x"),
        (IdKind.RUN, "0123abcd", "../0123abcd"),
        (IdKind.TICKET, "QT-000042", "QT-42/.."),
        (IdKind.TICKET, "42", "-1"),
        (IdKind.AUTHORIZATION, "AUTH-2026-0001", "AUTH-2026-0001/../.."),
        (IdKind.TOKEN, "0123456789abcdef", "0123456789abcdef0"),
    ],
)
def test_generated_ids_have_their_exact_shape(kind, good, bad):
    assert is_valid_id(kind, good)
    assert not is_valid_id(kind, bad)


def test_a_refusal_names_the_kind_and_shows_the_value_escaped_in_both_languages():
    with pytest.raises(InvalidInput) as info:
        check_id(IdKind.SCENARIO, "../x\x00")
    assert info.value.code == "E110"
    assert "场景标识" in info.value.zh and "'../x\\x00'" in info.value.zh
    assert "invalid scenario id '../x\\x00'" in info.value.en


def test_non_text_is_refused_without_crashing():
    for value in (None, 3, ["a"]):
        with pytest.raises(InvalidInput):
            check_id(IdKind.DATASET, value)
