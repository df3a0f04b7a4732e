"""Page furniture of text taken from PDFs: running titles, page numbers, form feeds, line numbers."""

from ledger.registry.notice import parse_text, text_lines
from ledger.registry.pages import physical_lines, strip_furniture

HEADER = "某某县 2025 年城乡建设重点任务分解方案"


def never_text(_: str) -> bool:
    return False


def test_lines_are_numbered_as_an_editor_numbers_them():
    text = "第一行\n第二行\f第二行续\r\n\f第四行\r第五行\n"
    assert physical_lines(text) == ["第一行", "第二行\f第二行续", "\f第四行", "第五行"]
    assert len(text.splitlines()) == 6  # what shifted every line number after a page break
    assert physical_lines("1. 修路。\v牵头单位：甲局\u2028完成时限：年底前") == ["1. 修路。", "牵头单位：甲局", "完成时限：年底前"]


def three_pages(middle_line: str = "县财政局") -> list[str]:
    return [
        HEADER, "某政办〔2025〕8号", "1. 修路。", "牵头单位：县住建局、", "", "—1—", "",
        "\f" + HEADER, middle_line, "配合单位：县财政局", "2. 建桥。", "", "— 2 —", "",
        "\f" + HEADER, "牵头单位：县交通局", "完成时限：年底前", "", "—3—", "", "\f",
    ]


def test_running_title_and_page_break_blanks_are_removed():
    lines = three_pages()
    out = strip_furniture(lines, never_text)
    assert out[0] == HEADER  # the first page's top is the document's own
    assert out[7] is None and out[14] is None
    assert out[4:7] == [None, None, None]  # the break is no blank line: the unit list continues
    assert out[8] == "县财政局" and out[15] == "牵头单位：县交通局"


def test_a_line_that_opens_two_pages_by_chance_is_text():
    body = ["正文一。", "牵头单位：县住建局、", "县自然资源局", "正文二。", "正文三。", "正文四。"]
    lines = ["标题", *body, "— 1 —", "县自然资源局", *body, "— 2 —", "县自然资源局", *body, "— 3 —"]
    out = strip_furniture(lines, never_text)
    assert out[8] == "县自然资源局" and out[16] == "县自然资源局"  # it also stands mid-page: not furniture


def test_without_form_feeds_page_numbers_end_pages():
    lines = ["关于印发方案的通知", "1. 修路，完成", "— 1 —", "", HEADER, "道路改造。", "牵头单位：县住建局",
             "— 2 —", HEADER, "2. 建桥。", "牵头单位：县交通局"]
    out = strip_furniture(lines, never_text)
    assert out[4] is None and out[8] is None
    assert out[5] == "道路改造。" and out[0] == "关于印发方案的通知"


def test_numbered_and_label_lines_are_never_furniture():
    lines = ["标题", "正文", "— 1 —", "\f完成时限：年底前", "正文二", "— 2 —", "\f完成时限：年底前", "正文三", "— 3 —"]
    out = text_lines("\n".join(lines))
    assert out[3] == "完成时限：年底前" and out[6] == "完成时限：年底前"


def test_header_inside_a_unit_list_and_a_task_is_dropped():
    lines = three_pages(middle_line="县财政局")
    notice = parse_text("\n".join(lines), "pdf.txt")
    first, second = notice.tasks
    assert first.fields == {"牵头单位": "县住建局、县财政局", "配合单位": "县财政局"}
    assert second.fields == {"牵头单位": "县交通局", "完成时限": "年底前"}
    assert notice.problems == []
    assert (first.line, second.line) == (3, 11)  # editor lines, form feeds notwithstanding
    split_task = ["1. 推进道路改造，完成主干道", "—1—", "\f" + HEADER, "提升改造。", "牵头单位：县住建局",
                  "—2—", "\f" + HEADER, "2. 建桥。", "牵头单位：县交通局", "—3—"]
    tasks = parse_text("\n".join(split_task), "t.txt").tasks
    assert [t.text for t in tasks] == ["推进道路改造，完成主干道提升改造。", "建桥。"]
