"""The administrative area (层级范围) a notice's issuer speaks for: 宜川县人民政府办公室 → 宜川县.

Notices name units by short names relative to their issuer's area (县发改委 in a 宜川县
notice is 宜川县's), so a programme's scope is the issuer's area unless ledger.toml says
otherwise (docs/programme-add.md). Pure text rules, no lookups.
"""

from __future__ import annotations

import re

#: characters that end an area's name, and the level a unit name's prefix (市/县/区) refers to
LEVELS = "市县区"
_SUFFIXES = ("自治县", "自治州", "自治区", "地区", "省", "市", "县", "区", "旗", "盟")
#: what follows a lower area inside an issuer's name: 洛阳市偃师区人民政府, 延安市宜川县委办公室
_ORGANS = ("人民政府", "政府", "委员会", "管委会", "管理委员会", "委", "人大", "政协", "纪委", "监委", "党委", "党工委",
           "人民代表大会", "人民法院", "人民检察院")
#: words ending like an area that are not one: 洛阳市城市提质工作领导小组 is 洛阳市's
_NOT_AREAS = ("城市", "都市", "城区", "市区", "县区", "社区", "园区", "景区", "辖区", "片区", "街区", "山区", "矿区", "城乡")
#: how a collective name starts (各县区, 相关市区): no area
_COLLECTIVE = ("各", "相关", "有关", "全", "本", "其他", "其它", "所属", "沿线")
_PARTY = ("中国共产党", "中共")
_MAX_NAME = 8


def _area_at(text: str, start: int) -> str:
    """The shortest area name starting at *start* (at least one character before its suffix)."""
    for end in range(start + 2, min(len(text), start + _MAX_NAME) + 1):
        token = text[start:end]
        if any(token.endswith(s) and len(token) > len(s) for s in _SUFFIXES) and token not in _NOT_AREAS:
            if not re.fullmatch(r"[\u4e00-\u9fff]+", token):
                return ""
            return token
    return ""


def area_of(issuer: str) -> str:
    """The innermost area an issuer (or a title) names at its start, "" when it names none.

    洛阳市偃师区人民政府 → 偃师区; 宜川县人民政府办公室 → 宜川县; 中共宜川县委办公室 → 宜川县;
    洛阳市城市提质工作领导小组办公室 → 洛阳市; 县政府办公室 → "".
    """
    text = re.sub(r"\s+", "", issuer or "")
    for party in _PARTY:
        text = text.removeprefix(party)
    area = "" if text.startswith(_COLLECTIVE) else _area_at(text, 0)
    if not area:
        return ""
    at = len(area)
    while True:
        lower = _area_at(text, at)
        if not lower:
            return area
        rest = text[at + len(lower):]
        if rest and not rest.startswith(_ORGANS) and not _area_at(rest, 0):
            return area
        area, at = lower, at + len(lower)


def level_of(scope: str) -> str:
    """市, 县 or 区: the character a unit name of *scope* starts with (市发改委); "" for others."""
    return scope[-1] if scope and scope[-1] in LEVELS else ""
