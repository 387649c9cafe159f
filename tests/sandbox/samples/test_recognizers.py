"""Chinese recognizers: found right next to CJK characters, check characters enforced, no model loaded."""

from __future__ import annotations

import pytest
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from sandbox.samples.checks import is_resident_id, is_uscc, luhn_ok, resident_id_check
from sandbox.samples.recognizers import analyze, analyzer

VALID_ID = "42990319560718043X"
VALID_USCC = "91429903MA9RFYMB21"
VALID_CARD = "6222020200112233446"


def found(text: str) -> list[tuple[str, str]]:
    return [(r.entity_type, text[r.start : r.end]) for r in analyze(text)]


def test_check_characters():
    assert is_resident_id(VALID_ID) and is_resident_id(VALID_ID.lower())
    assert not is_resident_id(VALID_ID[:-1] + "1")
    assert not is_resident_id("429903195613180431"[:17] + resident_id_check("42990319561318043"))  # month 13
    assert is_uscc(VALID_USCC) and not is_uscc(VALID_USCC[:-1] + "3")
    assert luhn_ok(VALID_CARD) and not luhn_ok(VALID_CARD[:-1] + "9")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"身份证号{VALID_ID}与户籍一致", ("CN_RESIDENT_ID", VALID_ID)),
        ("联系电话13812345678请回访", ("CN_MOBILE", "13812345678")),
        ("手机+86 138-1234-5678已核实", ("CN_MOBILE", "+86 138-1234-5678")),
        ("座机0729-2512000转", ("CN_LANDLINE", "0729-2512000")),
        (f"信用代码{VALID_USCC}待补正", ("CN_USCC", VALID_USCC)),
        (f"银行卡号{VALID_CARD}已冻结", ("CN_BANK_CARD", VALID_CARD)),
        ("邮箱zhang.san@example.com请回复", ("EMAIL_ADDRESS", "zhang.san@example.com")),
        ("车牌鄂A12345违停", ("CN_LICENSE_PLATE", "鄂A12345")),
        ("护照号码E12345678已过期", ("CN_PASSPORT", "E12345678")),
        ("联系人张伟已核实", ("CN_PERSON_NAME", "张伟")),
        ("欧阳娜娜女士来电", ("CN_PERSON_NAME", "欧阳娜娜")),
        ("家住湖北省云泽市云泽区西畈街道白湾社区府前大道154号22栋4单元1401室", ("CN_ADDRESS", None)),
    ],
)
def test_each_kind_is_found_between_chinese_characters(text, expected):
    entity, value = expected
    hits = found(text)
    assert entity in [e for e, _ in hits], hits
    if value is not None:
        assert (entity, value) in hits


@pytest.mark.parametrize(
    "text",
    [
        f"身份证号{VALID_ID[:-1]}1与户籍一致",  # wrong check character
        f"信用代码{VALID_USCC[:-1]}3",  # wrong check character
        "卡号6222020200112233449",  # fails Luhn
        "编号E12345678",  # passport shape without context
        "金额12345678元，合计138123456789",  # digit runs that are no identifier
        "张伟",  # a name without any cue
        f"编号X{VALID_ID}",  # ID glued to latin letters is not an ID
    ],
)
def test_lookalikes_are_not_reported(text):
    assert found(text) == [], found(text)


def test_analyzer_runs_without_any_nlp_model():
    assert isinstance(analyzer().nlp_engine, NoOpNlpEngine)
    assert {r.supported_entities[0] for r in analyzer().registry.recognizers} >= {
        "CN_RESIDENT_ID", "CN_MOBILE", "CN_LANDLINE", "CN_USCC", "CN_BANK_CARD", "EMAIL_ADDRESS",
        "CN_LICENSE_PLATE", "CN_PASSPORT", "CN_ADDRESS", "CN_PERSON_NAME",
    }  # fmt: skip
