"""The bulletin's chart: tasks by light per lead unit, as a PNG.

Chinese labels need a CJK font. One is looked for among the fonts matplotlib knows and
in the usual Debian/Ubuntu font folders (package ``fonts-noto-cjk`` gives Noto Sans CJK
SC), registered by path, and checked to really contain the glyphs. Without one the
chart is still drawn, with numbers instead of unit names and a warning, never boxes.
"""

from __future__ import annotations

import glob
import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from matplotlib import font_manager
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ft2font import FT2Font

PREFERRED = (
    "Noto Sans CJK SC", "Source Han Sans SC", "Source Han Sans CN", "WenQuanYi Micro Hei", "WenQuanYi Zen Hei",
    "Noto Serif CJK SC", "Droid Sans Fallback", "AR PL UMing CN", "SimHei", "Microsoft YaHei", "SimSun",
)
FONT_GLOBS = (
    "/usr/share/fonts/opentype/noto/*CJK*", "/usr/share/fonts/truetype/noto/*CJK*",
    "/usr/share/fonts/opentype/source-han*/*", "/usr/share/fonts/truetype/wqy/*",
    "/usr/share/fonts/truetype/droid/DroidSansFallback*", "/usr/share/fonts/truetype/arphic/*",
    "/usr/share/fonts/**/*[Cc][Jj][Kk]*", "C:/Windows/Fonts/sim*.tt[cf]", "C:/Windows/Fonts/msyh*.tt[cc]",
    "/System/Library/Fonts/PingFang.ttc", "/Library/Fonts/Arial Unicode.ttf",
)
WIDTH_IN = 5.6  # printed at CHART_WIDTH_MM (142 mm): fonts keep their size
PLOT_WIDTH_IN = 5.0  # the columns' part of it
BAR_AREA_IN = 1.9  # height of the columns; the names below add what they need
LABEL_SIZES = (8, 7.5, 7, 6.5, 6)
PROBE = "市局区县牵头单位亮灯绿黄红"
COLOURS = {"green": "#3A9D4A", "yellow": "#F2B705", "red": "#D0312D"}
NAMES = {"green": "绿灯", "yellow": "黄灯", "red": "红灯"}
NAMES_ASCII = {"green": "green", "yellow": "yellow", "red": "red"}
NO_FONT = ("未找到中文字体，图表中的单位名称以序号代替（序号见图注）。"
           "请安装中文字体（Debian/Ubuntu：apt-get install fonts-noto-cjk）后重新生成。")


@dataclass(frozen=True)
class Chart:
    png: bytes
    font: str | None  # the CJK family used, None when none was found
    warning: str = ""


@lru_cache(maxsize=1)
def find_cjk_font() -> str | None:
    """The family name of a font that draws Chinese, registering one by path if needed."""
    found = _usable(font_manager.fontManager.ttflist)
    if found:
        return found
    for pattern in FONT_GLOBS:
        for path in sorted(glob.glob(pattern, recursive=True)):
            if path.lower().endswith((".ttf", ".ttc", ".otf")):
                try:
                    font_manager.fontManager.addfont(path)
                except (OSError, RuntimeError, ValueError):
                    continue
        found = _usable(font_manager.fontManager.ttflist)
        if found:
            return found
    return None


def _usable(entries: Sequence[Any]) -> str | None:
    by_name: dict[str, Any] = {}
    for entry in entries:
        by_name.setdefault(entry.name, entry)
    names = [n for n in PREFERRED if n in by_name]
    names += sorted(n for n in by_name if "CJK SC" in n and n not in names)
    for name in names:
        entry = by_name[name]
        try:
            face = FT2Font(entry.fname, face_index=getattr(entry, "index", 0))
        except (OSError, RuntimeError, ValueError):
            continue
        if all(face.get_char_index(ord(ch)) for ch in PROBE):
            return str(name)
    return None


def light_chart(rows: Sequence[dict[str, Any]], *, font: str | None = "auto") -> Chart:
    """Stacked columns: per unit its green, yellow and red tasks.

    Unit names are wrapped under their column to the column's width (down to one
    character a line, read top to bottom), so many units never overlap and the chart's
    height stays about the same. *rows* are ``{"unit", "green", "yellow", "red"}``;
    *font* "auto" finds a CJK font, None forces the fallback (numbers for names).
    """
    family = find_cjk_font() if font == "auto" else font
    names = NAMES if family else NAMES_ASCII
    count = max(len(rows), 1)
    pitch = PLOT_WIDTH_IN * 72 / count
    size, per_line = _label_size(pitch)
    labels = ([_wrap(r["unit"], per_line) for r in rows] if family
              else [str(i) for i in range(1, len(rows) + 1)])
    lines = max((label.count("\n") + 1 for label in labels), default=1)
    height = BAR_AREA_IN + lines * size * 1.25 / 72 + 0.8
    fig = Figure(figsize=(WIDTH_IN, height), dpi=200)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    font_kw = {"family": family} if family else {}
    x = list(range(len(rows)))
    bottom = [0] * len(rows)
    top = max([sum(r[k] for k in COLOURS) for r in rows] + [1])
    per_task_pt = BAR_AREA_IN * 72 / top
    for key in ("green", "yellow", "red"):
        values = [r[key] for r in rows]
        bars = ax.bar(x, values, bottom=bottom, color=COLOURS[key], label=names[key], width=0.66,
                      edgecolor="white", linewidth=0.5)
        for bar, value in zip(bars, values, strict=True):
            if value and value * per_task_pt >= 7:
                ax.text(bar.get_x() + bar.get_width() / 2, bar.get_y() + bar.get_height() / 2, str(value),
                        ha="center", va="center", fontsize=min(7, size),
                        color="black" if key == "yellow" else "white")
        bottom = [a + b for a, b in zip(bottom, values, strict=True)]
    ax.set_xticks(x, labels, fontsize=size, linespacing=1.05, **font_kw)
    ax.tick_params(axis="x", length=0, pad=3)
    ax.tick_params(axis="y", labelsize=7)
    ax.yaxis.get_major_locator().set_params(integer=True)
    ax.set_ylim(0, top * 1.08)
    ax.set_xlim(-0.6, len(rows) - 0.4)
    ax.set_ylabel("任务数（项）" if family else "tasks", fontsize=7.5, **font_kw)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    legend = ax.legend(ncols=3, frameon=False, loc="lower center", bbox_to_anchor=(0.5, 1.0),
                       prop={"family": family, "size": 7.5} if family else {"size": 7.5})
    legend.set_in_layout(True)
    fig.tight_layout(pad=0.4)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", metadata={"Software": None})
    return Chart(buf.getvalue(), family, "" if family else NO_FONT)


def _label_size(pitch_pt: float) -> tuple[float, int]:
    """Font size and characters a line for a unit name under a column *pitch_pt* wide."""
    for size in LABEL_SIZES:
        per_line = int(pitch_pt * 0.9 // size)
        if per_line >= 2:
            return size, per_line
    return LABEL_SIZES[-1], 1


def _wrap(text: str, per_line: int) -> str:
    """Cut *text* into lines of at most *per_line* characters (ASCII counts half)."""
    lines, line, width = [], "", 0.0
    for ch in text:
        w = 0.5 if ord(ch) < 0x2000 else 1.0
        if line and width + w > per_line:
            lines.append(line)
            line, width = "", 0.0
        line += ch
        width += w
    lines.append(line)
    return "\n".join(lines)


def number_key(rows: Sequence[dict[str, Any]]) -> str:
    """图注 line mapping the fallback chart's numbers to unit names."""
    return "图中序号：" + "；".join(f"{i}.{r['unit']}" for i, r in enumerate(rows, start=1)) + "。"
