"""Chinese surnames (for recognizing names) and a given-name pool for synthetic names.

Surnames come from Faker's zh_CN pool plus common two-character ones. Synthetic given names
use only characters that appear in no Faker given name, so a synthetic name can never equal a
real (or realistically generated) one: a leak scan comparing samples with raw names stays exact.
"""

from __future__ import annotations

from functools import cache

from faker.providers.person.zh_CN import Provider as _ZhPerson

COMPOUND_SURNAMES = ("欧阳", "司马", "上官", "诸葛", "东方", "皇甫", "尉迟", "公孙", "慕容", "令狐", "长孙", "宇文", "夏侯", "端木")  # fmt: skip
_GIVEN_CANDIDATES = (
    "一之乙乐予云亦亭仁介从以仪仲任伊佑依俊修倩兆先光克兰其典凯刚初卓原友可同向君启嘉"
    "圆坤培境墨士壹妙孝季守安宏宜宣寒尧屹岚峻崇川帆希帛年庭弘彤彦彬征徽忆怀恒悦惟意"
    "拓政敏文斐旭昂昊昕昭晏晓晗朗朴权杉杭松林柏栋桐梧楷榕樱欣歌毓沁沐泓泽洛津浩淳清"
    "湛源溪滢潇澄灿炎烁煦熙燕牧玄玥珂珊琛琪瑜瑞璟甫畅白皓盈睿石砚礼祺禾秉程稷穆竹笙"
    "箐简籽素紫缘羲翰翼耕聆舒舟航芃芷若茗荀莘菁萱蔓蕴蓝虹衡裕见言诗谦谨贤越迪逸遥邦"
)


def surnames() -> tuple[str, ...]:
    """Surnames, longest first so alternation in a regex prefers 欧阳 over 欧."""
    pool = set(_ZhPerson.last_names) | set(COMPOUND_SURNAMES)
    return tuple(sorted(pool, key=lambda s: (-len(s), s)))


@cache
def synthetic_given_pool() -> tuple[str, ...]:
    used = {c for pool in (_ZhPerson.first_names_male, _ZhPerson.first_names_female) for n in pool for c in n}
    return tuple(dict.fromkeys(c for c in _GIVEN_CANDIDATES if c not in used))


#: The most common surnames: synthetic names draw from these so they read naturally.
COMMON_SURNAMES = tuple(list(_ZhPerson.last_names)[:100])
