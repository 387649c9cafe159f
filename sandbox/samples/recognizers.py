"""Presidio plug-ins for Chinese personal identifiers, and the analyzer that runs them.

Chinese text has no spaces between words, so ``\\b`` is useless next to CJK characters: every
pattern bounds itself with lookarounds on ASCII letters and digits instead ("电话13812345678请回访"
yields the number). Checksummed kinds validate their check character, so random digit runs
are not reported. Presidio's own context enhancer needs tokens, which the no-op NLP engine does
not produce; recognizers that need context (names, passports) look for their context words in
the few characters before a match themselves. Nothing is downloaded: the analyzer runs on
Presidio's ``NoOpNlpEngine``.
"""

from __future__ import annotations

from functools import cache

from presidio_analyzer import AnalyzerEngine, Pattern, PatternRecognizer, RecognizerRegistry, RecognizerResult
from presidio_analyzer.nlp_engine import NoOpNlpEngine

from sandbox.domain.catalog import PiiKind
from sandbox.samples.checks import is_resident_id, is_uscc, luhn_ok
from sandbox.samples.names import surnames

LANGUAGE = "zh"
SCORE_THRESHOLD = 0.5
_NOT_ALNUM_BEFORE = r"(?<![0-9A-Za-z])"
_NOT_ALNUM_AFTER = r"(?![0-9A-Za-z])"
_NOT_DIGIT_BEFORE = r"(?<![0-9])"
_NOT_DIGIT_AFTER = r"(?![0-9])"
_HAN = r"\u4e00-\u9fff"

#: Presidio entity name per catalog PII kind (the analyzer speaks entities, the catalog kinds).
ENTITY_OF: dict[PiiKind, str] = {
    PiiKind.CN_RESIDENT_ID: "CN_RESIDENT_ID",
    PiiKind.CN_MOBILE: "CN_MOBILE",
    PiiKind.CN_LANDLINE: "CN_LANDLINE",
    PiiKind.CN_USCC: "CN_USCC",
    PiiKind.BANK_CARD: "CN_BANK_CARD",
    PiiKind.EMAIL: "EMAIL_ADDRESS",
    PiiKind.LICENSE_PLATE: "CN_LICENSE_PLATE",
    PiiKind.PASSPORT: "CN_PASSPORT",
    PiiKind.ADDRESS: "CN_ADDRESS",
    PiiKind.PERSON_NAME: "CN_PERSON_NAME",
}
KIND_OF: dict[str, PiiKind] = {entity: kind for kind, entity in ENTITY_OF.items()}


class ChinesePatternRecognizer(PatternRecognizer):
    """A pattern recognizer whose context words are searched in the characters before a match."""

    def __init__(self, entity: str, patterns: list[Pattern], *, context: tuple[str, ...] = (),
                 window: int = 8, boost: float = 0.4) -> None:  # fmt: skip
        super().__init__(
            supported_entity=entity,
            name=f"{entity.lower()}_recognizer",
            supported_language=LANGUAGE,
            patterns=patterns,
            context=list(context),
        )
        self.window, self.boost = window, boost

    def analyze(self, text, entities, nlp_artifacts=None, regex_flags=None) -> list[RecognizerResult]:
        results = super().analyze(text, entities, nlp_artifacts, regex_flags)
        if self.context:
            for result in results:
                before = text[max(0, result.start - self.window) : result.start]
                if any(word in before for word in self.context):
                    result.score = min(1.0, result.score + self.boost)
        return results


class ResidentIdRecognizer(ChinesePatternRecognizer):
    def __init__(self) -> None:
        body = r"[1-9]\d{5}(?:18|19|20)\d{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])\d{3}[0-9Xx]"
        super().__init__("CN_RESIDENT_ID", [Pattern("resident_id", _NOT_ALNUM_BEFORE + body + _NOT_ALNUM_AFTER, 0.4)],
                         context=("身份证", "证件", "公民身份"))  # fmt: skip

    def validate_result(self, pattern_text: str) -> bool:
        return is_resident_id(pattern_text)


class UsccRecognizer(ChinesePatternRecognizer):
    def __init__(self) -> None:
        body = r"[0-9A-HJ-NPQRTUWXY]{2}\d{6}[0-9A-HJ-NPQRTUWXY]{10}"
        super().__init__("CN_USCC", [Pattern("uscc", _NOT_ALNUM_BEFORE + body + _NOT_ALNUM_AFTER, 0.4)],
                         context=("信用代码", "社会信用"))  # fmt: skip

    def validate_result(self, pattern_text: str) -> bool:
        return is_uscc(pattern_text)


class BankCardRecognizer(ChinesePatternRecognizer):
    def __init__(self) -> None:
        body = r"[3-6]\d{3}(?:[ -]?\d{4}){2}[ -]?\d{4,7}"
        super().__init__("CN_BANK_CARD", [Pattern("bank_card", _NOT_DIGIT_BEFORE + body + _NOT_DIGIT_AFTER, 0.3)],
                         context=("银行卡", "卡号", "账号", "账户"))  # fmt: skip

    def validate_result(self, pattern_text: str) -> bool:
        digits = pattern_text.replace(" ", "").replace("-", "")
        return 16 <= len(digits) <= 19 and luhn_ok(digits)

    def invalidate_result(self, pattern_text: str) -> bool:
        return is_resident_id(pattern_text)  # an ID that happens to pass Luhn is an ID


def mobile_recognizer() -> ChinesePatternRecognizer:
    body = r"(?:(?:\+|00)?86[ -]?)?1[3-9]\d(?:[ -]?\d{4}){2}"
    return ChinesePatternRecognizer("CN_MOBILE", [Pattern("mobile", _NOT_DIGIT_BEFORE + body + _NOT_DIGIT_AFTER, 0.7)],
                                    context=("手机", "电话", "联系"))  # fmt: skip


def landline_recognizer() -> ChinesePatternRecognizer:
    patterns = [
        Pattern("landline_dash", _NOT_DIGIT_BEFORE + r"(?:\(0\d{2,3}\)|0\d{2,3}-)[2-8]\d{6,7}(?:-\d{1,4})?" + _NOT_DIGIT_AFTER, 0.7),
        Pattern("landline_plain", _NOT_DIGIT_BEFORE + r"0\d{2,3}[2-8]\d{6,7}" + _NOT_DIGIT_AFTER, 0.3),
    ]  # fmt: skip
    return ChinesePatternRecognizer("CN_LANDLINE", patterns, context=("电话", "座机", "固话", "联系"))


def email_recognizer() -> ChinesePatternRecognizer:
    body = r"[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)*\.[A-Za-z]{2,}"
    return ChinesePatternRecognizer(
        "EMAIL_ADDRESS", [Pattern("email", r"(?<![A-Za-z0-9._%+-])" + body + _NOT_ALNUM_AFTER, 0.9)]
    )


def license_plate_recognizer() -> ChinesePatternRecognizer:
    provinces = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
    body = rf"[{provinces}][A-HJ-NP-Z][·•]?(?:[A-HJ-NP-Z0-9]{{5}}|[DF][A-HJ-NP-Z0-9]{{5}}|[A-HJ-NP-Z0-9]{{4}}[挂学警港澳])"
    return ChinesePatternRecognizer("CN_LICENSE_PLATE", [Pattern("plate", body + _NOT_ALNUM_AFTER, 0.6)],
                                    context=("车牌", "号牌", "车辆"))  # fmt: skip


def passport_recognizer() -> ChinesePatternRecognizer:
    body = r"(?:[EGDSP]\d{8}|E[A-HJ-NP-Z]\d{7})"
    return ChinesePatternRecognizer(
        "CN_PASSPORT", [Pattern("passport", _NOT_ALNUM_BEFORE + body + _NOT_ALNUM_AFTER, 0.3)],
        context=("护照", "passport", "旅行证件"), window=10, boost=0.5,
    )  # fmt: skip


def address_recognizer() -> ChinesePatternRecognizer:
    """Addresses with an administrative prefix and a house-level tail (号/室/组), or a community."""
    admin = rf"(?:[{_HAN}]{{2,9}}?(?:省|自治区|市|自治州|地区|盟|区|县|旗|街道|镇|乡))"
    place = rf"(?:[{_HAN}]{{1,9}}?(?:社区|村|居委会|小区|花园|路|大道|街|巷|弄|胡同))"
    house = r"(?:\d{1,5}(?:号|弄|组)(?:\d{1,4}(?:栋|幢|号楼))?(?:\d{1,2}单元)?(?:\d{1,5}(?:室|号))?)"
    patterns = [
        Pattern("address_house", rf"{admin}{{1,5}}{place}{{0,3}}{house}", 0.7),
        Pattern("address_community", rf"{admin}{{2,5}}{place}{{1,3}}", 0.55),
    ]
    return ChinesePatternRecognizer("CN_ADDRESS", patterns, context=("地址", "住址", "住所", "居住"))


def person_name_recognizer() -> ChinesePatternRecognizer:
    """Surname plus one or two characters, reported only after a context word or before a title."""
    family = "|".join(surnames())
    name = rf"(?<![{_HAN}])?(?:{family})[{_HAN}]{{1,2}}"
    cues = ("姓名", "联系人", "户主", "本人", "代办人", "经办人", "法定代表人", "法人", "申请人", "监护人",
            "老人", "患者", "当事人", "配偶", "负责人")  # fmt: skip
    patterns = [
        Pattern("name_after_cue", rf"(?<=(?:{'|'.join(cues)})[：:为是]?\s?)(?:{family})[{_HAN}]{{1,2}}?(?=[^{_HAN}]|$|[先女同老已于在的系])", 0.3),
        Pattern("name_before_title", rf"{name}(?=先生|女士|同志|老人)", 0.6),
    ]  # fmt: skip
    return ChinesePatternRecognizer("CN_PERSON_NAME", patterns, context=cues, window=6, boost=0.4)


def chinese_recognizers() -> list[PatternRecognizer]:
    """Every Shuyu recognizer: one per identifier kind the catalog knows how to detect."""
    return [
        ResidentIdRecognizer(), UsccRecognizer(), BankCardRecognizer(), mobile_recognizer(),
        landline_recognizer(), email_recognizer(), license_plate_recognizer(), passport_recognizer(),
        address_recognizer(), person_name_recognizer(),
    ]  # fmt: skip


@cache
def analyzer() -> AnalyzerEngine:
    """A Presidio analyzer with only the Chinese recognizers and no NLP model (one per process)."""
    engine = NoOpNlpEngine(models=[{"lang_code": LANGUAGE, "model_name": "none"}])
    engine.load()
    registry = RecognizerRegistry(recognizers=chinese_recognizers(), supported_languages=[LANGUAGE])
    return AnalyzerEngine(
        registry=registry,
        nlp_engine=engine,
        supported_languages=[LANGUAGE],
        default_score_threshold=SCORE_THRESHOLD,
    )


def analyze(text: str) -> list[RecognizerResult]:
    """Identifiers found in ``text`` at or above the threshold."""
    return analyzer().analyze(text=text, language=LANGUAGE)
