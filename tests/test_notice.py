"""Paragraph-style notice parsing: the real seeds, and the artefacts real copies carry."""

import re
from collections import Counter
from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from notices import SAMPLE_NOTICES

from ledger.errors import InputError
from ledger.registry.notice import (
    cn_int,
    find_doc_number,
    parse_date,
    parse_text,
    split_labels,
    split_number,
)
from ledger.registry.raw import NOT_IMPORTED

# the sample notices by the short names of tests/notices.py
PREFIXES = {"000": "351", "001": "speech", "002": "pingtai", "003": "luoning", "004": "yanshi"}
LABEL_TEXT = re.compile(r"(牵头领导|责任领导|牵头单位|配合单位|责任单位|完成时限)\s*[：:]")
PAGE_DEBRIS = re.compile(r"[—－-]\s*\d+\s*[—－-]|\*\*|^#|<su[bp]>")

_CACHE: dict[str, object] = {}


def seed(prefix: str):
    """The parsed sample notice *prefix* (parsed once per test run)."""
    if prefix not in _CACHE:
        path = SAMPLE_NOTICES[PREFIXES[prefix]]
        _CACHE[prefix] = parse_text(path.read_text(encoding="utf-8"), path.name)
    return _CACHE[prefix]


def by_key(notice, annex, key):
    return next(t for t in notice.tasks if t.annex == annex and t.key == key)


@pytest.mark.parametrize(("prefix", "count"), [("000", 66), ("002", 66), ("004", 98)])
def test_seed_task_counts(prefix, count):
    assert len(seed(prefix).tasks) == count


def test_seed_000_counts_per_annex():
    counts = Counter(t.annex for t in seed("000").tasks)
    assert counts == {1: 9, 2: 14, 3: 7, 4: 16, 5: 14, 6: 6}


@pytest.mark.parametrize("prefix", ["000", "004"])
def test_every_task_names_a_lead_or_responsible_unit(prefix):
    for task in seed(prefix).tasks:
        assert task.fields.get("牵头单位") or task.fields.get("责任单位"), task


@pytest.mark.parametrize("prefix", ["000", "002", "004"])
def test_task_texts_carry_no_labels_or_debris(prefix):
    for task in seed(prefix).tasks:
        assert task.text and not LABEL_TEXT.search(task.text), task.text
        assert not PAGE_DEBRIS.search(task.text), task.text
        assert not re.match(r"^[（(]?[一二三四五六七八九十\d]+[）)、.．]", task.text), task.text
        for value in task.fields.values():
            assert not LABEL_TEXT.search(value), value


@pytest.mark.parametrize("prefix", ["000", "002", "004"])
def test_keys_are_unique_per_annex(prefix):
    keys = [(t.annex, t.key) for t in seed(prefix).tasks]
    assert len(keys) == len(set(keys))
    assert all(t.key for t in seed(prefix).tasks)


def test_seed_000_keys_and_headings():
    notice = seed("000")
    third = by_key(notice, 1, (3,))
    assert third.number == "（三）" and third.text.startswith("机场三期改扩建工程项目争取完成立项。")
    assert third.headings == ["二、工作任务"]
    sub = by_key(notice, 2, (1, 2))
    assert sub.number == "2." and sub.text.startswith("研究制定《洛阳市城镇开发边界内控制性详细规划管理办法》")
    assert sub.headings[0] == "二、工作任务"
    assert sub.headings[1].startswith("（一）严格落实《洛阳市城市风貌管控导则》")
    assert by_key(notice, 2, (5,)).text.startswith("启动潘村、二郎庙等9个城中村改造项目")
    # Annex 4 numbers its tasks 1..16 across the （一）…（四） categories: 1. carries the labels.
    first = by_key(notice, 4, (1,))
    assert first.headings == ["二、主要任务", "（一）强化党建引领，为社区创建提供坚强组织保障"]
    assert "一是推动居民小区党的组织全覆盖" in first.text and "三是提高物业服务企业党的组织和工作“两个覆盖”" in first.text
    assert by_key(notice, 4, (16,)).fields["牵头单位"] == "市文明办"


def test_seed_000_header_and_annexes():
    notice = seed("000")
    assert notice.doc_number == "洛城提办文〔2022〕11号"
    assert notice.issuer == "洛阳市城市提质工作领导小组办公室"
    assert notice.issued == date(2022, 5, 7)
    assert notice.title == "洛阳市城市提质“351”工程行动六大专项行动实施方案"
    assert sorted(notice.annexes) == [1, 2, 3, 4, 5, 6]
    assert notice.annexes[1] == "洛阳市交通枢纽建设工程实施方案"
    assert notice.annexes[6] == "洛阳市城市规划建设管理体制改革的实施方案"


def test_seed_000_wrapped_lines_are_joined():
    notice = seed("000")
    assert by_key(notice, 5, (9,)).text == "加强交通场站、城市公园、商贸综合体等重点区域道路破损、设施损坏等问题排查整改。"
    assert by_key(notice, 5, (13,)).text == "加快推进红山乡污水处理厂建设工程一期项目，建设日处理能力3万立方米污水处理厂1座。"
    assert by_key(notice, 4, (5,)).fields["牵头单位"] == "市城管局、市公安局、市自然资源和规划局"
    assert by_key(notice, 2, (2, 3)).fields["完成时限"].endswith("2022年10月启动唐潮文创艺术园建设，2023年8月竣工。")
    first = by_key(notice, 1, (1,))
    assert first.fields["责任单位"].endswith("市供电公司、移动公司、联通公司、电信公司、洛阳火车站")
    assert first.fields["配合单位"] == "市轨道集团"
    assert by_key(notice, 1, (7,)).fields["牵头单位"] == "市住建局"  # half-width colon


def test_seed_002_header_and_keys():
    notice = seed("002")
    assert (notice.doc_number, notice.issuer, notice.issued) == ("洛政〔2022〕17号", "洛阳市人民政府", date(2022, 4, 13))
    assert notice.title == "洛阳平台城市建设2022年细化措施"
    assert [t.key for t in notice.tasks] == [(n,) for n in range(1, 67)]
    twelve = by_key(notice, None, (12,))
    assert twelve.headings == ["一、做强交通枢纽功能,夯实平台城市基础支撑", "（五）构建新一代信息网络基础设施布局"]
    assert twelve.fields == {"牵头单位": "市工信局,国宏集团"}
    assert by_key(notice, None, (66,)).headings == ["四、保障措施"]


def test_seed_004_header_fields_and_joins():
    notice = seed("004")
    assert (notice.doc_number, notice.issuer) == ("偃政〔2023〕6号", "洛阳市偃师区人民政府")
    assert notice.issued == date(2023, 5, 4)  # the date closes the file
    assert [t.key for t in notice.tasks] == [(n,) for n in range(1, 99)]
    first = notice.tasks[0]
    assert first.fields == {"牵头领导": "朱 蕾", "牵头单位": "发改委", "责任单位": "投促中心，各镇（街道）"}
    assert first.headings == ["一、围绕实体经济扩投资，培育现代化偃师建设新动能工作"]
    assert notice.tasks[2].fields["责任单位"] == "工信局、住建局、城管局、农业农村局、水利局、交通局、乡村振兴局，各镇（街道）"
    assert notice.tasks[93].fields["责任单位"] == "工信局、交通局、城管局、住建局、市场监管局，各镇（街道）"
    assert notice.tasks[61].text == "围绕打造“六最”营商环境，持续开展河南省优化营商环境示范区创建，擦亮“偃之有礼”名片。"
    assert "（PM2.5、PM10、优良天数）" in notice.tasks[73].text
    assert notice.tasks[83].fields["责任单位"] == "相关镇(街道)"


@pytest.mark.parametrize("prefix", ["001", "003"])
def test_seeds_without_labelled_tasks_raise(prefix):
    path = SAMPLE_NOTICES[PREFIXES[prefix]]
    with pytest.raises(InputError, match=re.escape(path.name)) as err:
        parse_text(path.read_text(encoding="utf-8"), path.name)
    assert "未在" in str(err.value) and "找到任何任务" in str(err.value)


MESSY = """\
## 某某县人民政府 关于印发某某工作 实施方案的通知

宁政[2023]5号

各乡镇：

现印发给你们。

二〇二三年三月八日

附件1

某某工程实施方案

一、工作任务

**（一）道路改造**

1. 完成城区主干道改造，
   提升通行能力。

牵头单位 ：县住建局、

县交通局

— 3 —

牵头县领导: 张 三

完成时间：2023年6月底前

2、 建设公园 2 座。（牵头单位：县城管局；责任单位：各乡镇（街道））

(二) 停车治理

1 ． 规范停车秩序。

牵头单位：县公安局  配合单位：县城管局

时间节点：3月底前制定方案；

12

6月底前完成。

附件 2：另一个方案

一、重点任务

(一) 第一项任务。
责任单位：
县财政局
完成时限：长期坚持
"""


def test_messy_copy_is_cleaned():
    notice = parse_text(MESSY, "messy.md")
    assert notice.doc_number == "宁政〔2023〕5号"
    assert notice.issuer == "某某县人民政府"
    assert notice.title == "某某工作实施方案"
    assert notice.issued == date(2023, 3, 8)
    assert notice.annexes == {1: "某某工程实施方案", 2: "另一个方案"}
    assert [(t.annex, t.key, t.number) for t in notice.tasks] == [
        (1, (1, 1), "1."), (1, (1, 2), "2."), (1, (2, 1), "1."), (2, (1,), "（一）"),
    ]
    road, park, parking, other = notice.tasks
    assert road.text == "完成城区主干道改造，提升通行能力。"
    assert road.headings == ["一、工作任务", "（一）道路改造"]
    assert road.fields == {"牵头单位": "县住建局、县交通局", "牵头领导": "张 三", "完成时限": "2023年6月底前"}
    assert park.text == "建设公园 2 座。"
    assert park.fields == {"牵头单位": "县城管局", "责任单位": "各乡镇（街道）"}
    assert parking.fields["配合单位"] == "县城管局" and parking.fields["牵头单位"] == "县公安局"
    assert parking.fields["完成时限"] == "3月底前制定方案；6月底前完成。"
    assert other.fields == {"责任单位": "县财政局", "完成时限": "长期坚持"}
    assert road.line == MESSY.splitlines().index("1. 完成城区主干道改造，") + 1


def test_duplicate_numbers_get_distinct_keys_and_a_warning():
    text = "一、任务\n1. 甲。\n牵头单位：A\n1. 乙。\n牵头单位：B\n"
    notice = parse_text(text, "dup.txt")
    assert [t.key for t in notice.tasks] == [(1,), (1, 2)]
    assert [p.code for p in notice.problems] == ["notice-duplicate-number"]


def test_orphan_labels_and_unitless_items_are_reported():
    text = "牵头单位：孤立\n1. 只有时限。\n完成时限：年底前\n2. 正常任务。\n责任单位：B\n"
    notice = parse_text(text, "x.txt")
    assert [t.text for t in notice.tasks] == ["正常任务。"]
    assert sorted(p.code for p in notice.problems) == ["notice-item-without-unit", "notice-orphan-label"]
    assert all(p.file == "x.txt" and p.row for p in notice.problems)


def test_heading_with_labelled_children_is_not_a_task():
    text = "（一）大类标题\n1. 子任务一。\n牵头单位：A\n2. 子任务二。\n牵头单位：B\n"
    notice = parse_text(text, "h.txt")
    assert [(t.key, t.headings) for t in notice.tasks] == [((1,), ["（一）大类标题"]), ((2,), ["（一）大类标题"])]


def test_no_task_text_raises_naming_the_source():
    with pytest.raises(InputError, match="空通知.txt"):
        parse_text("关于某事的通知\n\n一、总体要求\n\n请认真落实。\n", "空通知.txt")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("洛城提办文〔2022〕11号", "洛城提办文〔2022〕11号"),
        ("洛城提办文[2022]11号", "洛城提办文〔2022〕11号"),
        ("偃政（2023）6号", "偃政〔2023〕6号"),
        ("洛政 (2022) 17 号", "洛政〔2022〕17号"),
        ("（据宁政办〔2021〕17号整理）", "宁政办〔2021〕17号"),
        ("没有文号", ""),
    ],
)
def test_doc_numbers_are_normalised(text, expected):
    assert find_doc_number([text]) == expected


def test_number_styles():
    assert split_number("（十二）加强") == ("pcn", 12, "（十二）", "加强")
    assert split_number("(三) 加强")[:3] == ("pcn", 3, "（三）")
    assert split_number("十一、保障")[:2] == ("cn", 11)
    assert split_number("12．任务")[:3] == ("num", 12, "12.")
    assert split_number("3.5万户完成") is None
    assert split_number("2022年完成") is None
    assert split_number("一是加强") is None


def test_labels_and_dates():
    assert split_labels("牵头单位：A、B； 责任单位: C，") == [("牵头单位", "A、B"), ("责任单位", "C")]
    assert split_labels("牵头市领导：张三") == [("牵头领导", "张三")]
    assert parse_date("2022年5月7日") == date(2022, 5, 7)
    assert parse_date("二〇二二年五月七日") == date(2022, 5, 7)
    assert parse_date("2022年2月30日") is None


def _cn(n: int) -> str:
    digits = "一二三四五六七八九"
    if n < 10:
        return digits[n - 1]
    tens, ones = divmod(n, 10)
    return ("" if tens == 1 else digits[tens - 1]) + "十" + (digits[ones - 1] if ones else "")


@settings(max_examples=60)
@given(st.integers(min_value=1, max_value=99))
def test_chinese_numbers_round_trip(n):
    assert cn_int(_cn(n)) == n
    assert split_number(f"（{_cn(n)}）任务")[1] == n
    assert split_number(f"{_cn(n)}、任务")[1] == n


def test_sub_points_inside_a_task_fold_into_it():
    text = "一、任务\n1. 推进老旧小区改造：\n（1）完成摸底；\n（2）开工建设。\n牵头单位：A\n完成时限：年底前\n2. 下一项。\n牵头单位：B\n"
    notice = parse_text(text, "sub.txt")
    assert [(t.key, t.text) for t in notice.tasks] == [
        ((1,), "推进老旧小区改造：（1）完成摸底；（2）开工建设。"), ((2,), "下一项。"),
    ]
    assert notice.tasks[0].fields == {"牵头单位": "A", "完成时限": "年底前"}


def test_labels_on_the_item_line_and_notes_between_labels():
    text = "（一）\n修路。\n牵头单位：A\n备注：含绿化\n责任单位：B\n（二）建桥。牵头单位：C；完成时限：6月底前\n"
    notice = parse_text(text, "inline.txt")
    assert [(t.text, t.fields) for t in notice.tasks] == [
        ("修路。", {"牵头单位": "A", "责任单位": "B"}),
        ("建桥。", {"牵头单位": "C", "完成时限": "6月底前"}),
    ]
    assert notice.problems == []


def test_one_unit_per_line_after_a_label():
    text = "1. 修路。\n牵头单位：市交通局\n市住建局\n牵头领导：张三\n李四\n完成时限：年底前\n\n各单位要抓好落实。\n"
    task = parse_text(text, "units.txt").tasks[0]
    assert task.fields == {"牵头单位": "市交通局、市住建局", "牵头领导": "张三、李四", "完成时限": "年底前"}


PIECES = ["一、", "（二）", "(3)", "4.", "①", "牵头单位：", "责任单位:", "完成时限：", "附件1", "附件：", "市住建局",
          "、", "，", "。", "\n", "\n\n", "— 2 —", "**", "## ", "2022年5月7日", "洛政〔2022〕17号", "关于印发", "的通知", " "]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.sampled_from(PIECES) | st.text(max_size=5), max_size=40))
def test_any_text_parses_or_raises_input_error(pieces):
    text = "".join(pieces)
    try:
        notice = parse_text(text, "fuzz.txt")
    except InputError as err:
        assert "fuzz.txt" in str(err)
        return
    keys = [(t.annex, t.key) for t in notice.tasks]
    assert len(keys) == len(set(keys))
    assert all(any(t.fields.get(f) for f in ("牵头单位", "配合单位", "责任单位")) for t in notice.tasks)


def test_bracketed_labels_on_a_line_of_their_own():
    # A Word soft line break (<w:br/>) puts the bracketed labels on their own line.
    text = ("一、任务\n1. 修路。\n（责任单位：甲局、乙局；完成时限：2025年二季度末）\n2. 建桥。\n(牵头单位:丙局)。\n"
            "3. 绿化。\n（牵头单位：丁局）（配合单位：戊局）\n")
    notice = parse_text(text, "br.txt")
    assert [(t.text, t.fields) for t in notice.tasks] == [
        ("修路。", {"责任单位": "甲局、乙局", "完成时限": "2025年二季度末"}),
        ("建桥。", {"牵头单位": "丙局"}),
        ("绿化。", {"牵头单位": "丁局", "配合单位": "戊局"}),
    ]
    assert notice.problems == [] and notice.items == 3


def test_labels_closing_a_continuation_paragraph():
    text = "1. 推进改造\n全年完成100个。（牵头单位：甲局）\n2. 下一项\n完成设计。牵头单位：乙局\n"
    notice = parse_text(text, "cont.txt")
    assert [(t.text, t.fields) for t in notice.tasks] == [
        ("推进改造全年完成100个。", {"牵头单位": "甲局"}), ("下一项完成设计。", {"牵头单位": "乙局"}),
    ]


def test_section_leaders_and_deadline_pass_to_tasks_without_their_own():
    text = (
        "一、城市更新\n牵头领导：张三\n（一）改造小区。\n牵头单位：甲局\n（二）建公园。\n牵头单位：乙局\n牵头领导：李四\n"
        "二、交通建设（牵头领导：王五；完成时限：2025年底前）\n（一）修路。\n牵头单位：丙局\n"
        "（二）建桥。\n牵头单位：丁局\n完成时限：6月底前\n"
        "三、其他\n（一）专项\n分管领导：赵六\n1. 甲。\n牵头单位：戊局\n"
    )
    notice = parse_text(text, "leaders.txt")
    assert [(t.text, t.fields.get("牵头领导"), t.fields.get("责任领导"), t.fields.get("完成时限")) for t in notice.tasks] == [
        ("改造小区。", "张三", None, None),
        ("建公园。", "李四", None, None),
        ("修路。", "王五", None, "2025年底前"),
        ("建桥。", "王五", None, "6月底前"),
        ("甲。", None, "赵六", None),  # the nearest heading with a leader wins
    ]
    assert notice.tasks[2].headings == ["二、交通建设"]
    assert notice.problems == []  # no "写了领导……但没有牵头单位" for a heading over tasks


def test_a_heading_with_a_leader_but_no_task_under_it_is_still_reported():
    notice = parse_text("一、甲\n牵头领导：张三\n二、乙\n1. 修路。\n牵头单位：甲局\n", "x.txt")
    assert [p.code for p in notice.problems] == ["notice-item-without-unit"]
    assert notice.items == 2 and len(notice.tasks) == 1


def test_numbered_items_are_tasks_or_reported():
    text = (
        "一、工作任务\n（一）修路。\n牵头单位：甲局\n（二）建桥，责任单位为乙局。\n（三）改造。\n牵头单位：丙局\n"
        "（四）绿化。（责任单位乙局）\n（五）亮化。责任单位：丁局，年内完成\n"
        "二、保障措施\n（一）加强领导。各牵头单位要明确专人。\n（二）强化督导。\n"
    )
    notice = parse_text(text, "items.txt")
    assert [t.number for t in notice.tasks] == ["（一）", "（三）", "（五）"]
    reported = [(p.code, p.row, p.value) for p in notice.problems]
    assert reported == [
        ("item-not-imported", 4, "（二）建桥，责任单位为乙局"),
        ("item-not-imported", 7, "（四）绿化"),
    ]
    assert "与已导入的任务同级" in notice.problems[0].message
    assert notice.items == 5  # the 保障措施 prose is structure, not five more lost tasks


def test_an_unread_label_in_an_items_text_is_reported_even_alone():
    notice = parse_text("一、甲\n1. 修路。\n牵头单位：甲局\n二、乙\n1. 建桥（责任单位：乙局）要抓紧。\n", "m.txt")
    assert [(p.code, p.row) for p in notice.problems] == [("item-not-imported", 5)]
    assert "责任单位：" in notice.problems[0].message


SECTION = st.tuples(
    st.booleans(),  # a section leader
    st.lists(st.sampled_from(["line", "inline", "bracket", "none"]), min_size=1, max_size=4),
)


def _notice_text(sections) -> tuple[str, int, int]:
    """A notice from (leader, item label styles) per section; (text, tasks, items expected)."""
    lines, tasks, items = ["关于印发某某方案的通知"], 0, 0
    for s, (leader, styles) in enumerate(sections, start=1):
        lines.append(f"{_cn(s)}、第{s}部分")
        if leader:
            lines.append(f"牵头领导：领导{s}")
        for k, style in enumerate(styles, start=1):
            head = f"（{_cn(k)}）任务{s}-{k}。"
            unit = f"单位{s}{k}"
            lines += {
                "line": [head, f"牵头单位：{unit}"],
                "inline": [f"{head}（牵头单位：{unit}；完成时限：年底前）"],
                "bracket": [head, f"（责任单位：{unit}）"],
                "none": [head],
            }[style]
        labelled = sum(style != "none" for style in styles)
        tasks += labelled
        items += len(styles) if labelled else int(leader)  # a leader over no task: the heading is reported
    return "\n".join(lines) + "\n", tasks, items


@settings(max_examples=80, deadline=None)
@given(st.lists(SECTION, min_size=1, max_size=4))
def test_every_labelled_item_is_a_task_and_every_other_one_is_counted(sections):
    text, tasks, items = _notice_text(sections)
    if not tasks:
        with pytest.raises(InputError):
            parse_text(text, "gen.txt")
        return
    notice = parse_text(text, "gen.txt")
    assert len(notice.tasks) == tasks and notice.items == items
    assert sum(p.code in NOT_IMPORTED for p in notice.problems) == items - tasks
    for task in notice.tasks:
        s = int(re.match(r"任务(\d+)", task.text).group(1))
        assert any(v.startswith(f"单位{s}") for v in task.fields.values())
        assert task.fields.get("牵头领导") == (f"领导{s}" if sections[s - 1][0] else None)
