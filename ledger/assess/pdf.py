"""PDF of a .docx through LibreOffice (``soffice --headless --convert-to pdf``).

Each conversion gets its own LibreOffice profile (``-env:UserInstallation``) so it
neither waits for nor disturbs a LibreOffice the user has open, and a fontconfig file
that maps the official font names (仿宋_GB2312, 方正小标宋简体, 黑体, 楷体_GB2312, 宋体) to
the CJK fonts Linux has (Noto Serif/Sans CJK SC, AR PL UKai, FandolFang …); the .docx
itself keeps the official names.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

from ledger.fsutil import write_bytes_atomic

TIMEOUT_S = 180
SYSTEM_FONTS_CONF = "/etc/fonts/fonts.conf"
# official name -> substitutes, best first (only installed ones are used by fontconfig)
SUBSTITUTES = {
    "仿宋_GB2312": ("FangSong", "仿宋", "FandolFang", "Noto Serif CJK SC", "AR PL UMing CN"),
    "仿宋": ("FangSong", "FandolFang", "Noto Serif CJK SC", "AR PL UMing CN"),
    "方正小标宋简体": ("FZXiaoBiaoSong-B05S", "Noto Serif CJK SC", "AR PL UMing CN"),
    "黑体": ("SimHei", "FandolHei", "Noto Sans CJK SC", "WenQuanYi Zen Hei"),
    "楷体_GB2312": ("KaiTi", "楷体", "AR PL UKai CN", "FandolKai", "Noto Serif CJK SC"),
    "楷体": ("KaiTi", "AR PL UKai CN", "FandolKai", "Noto Serif CJK SC"),
    "宋体": ("SimSun", "FandolSong", "Noto Serif CJK SC", "AR PL UMing CN"),
    "Times New Roman": ("Liberation Serif", "DejaVu Serif"),
}

# 小标宋 is a heavy Song: its stand-in is asked for in bold.
BOLD_STANDINS = ("方正小标宋简体",)

#: keep the blank page Writer inserts before a section that must start on an even page (the
#: 版记 page, GB/T 9704 7.5): LibreOffice's PDF export drops such pages unless told not to
PDF_FILTER = 'pdf:writer_pdf_Export:{"IsSkipEmptyPages":{"type":"boolean","value":"false"}}'



@dataclass(frozen=True)
class PdfResult:
    path: Path | None
    message: str  # why there is no PDF, in Chinese; empty on success


def find_soffice() -> str | None:
    for name in ("soffice", "libreoffice"):
        found = shutil.which(name)
        if found:
            return found
    return "/usr/bin/soffice" if Path("/usr/bin/soffice").is_file() else None


def fonts_conf() -> str:
    """A fontconfig file: the system configuration plus aliases for the official names."""
    aliases = []
    for family, prefer in SUBSTITUTES.items():
        names = "".join(f"<family>{p}</family>" for p in prefer)
        aliases.append(f'  <alias binding="same"><family>{family}</family><prefer>{names}</prefer></alias>')
    for family in BOLD_STANDINS:
        aliases.append(
            f'  <match target="pattern"><test name="family"><string>{family}</string></test>'
            f'<edit name="weight" mode="assign"><const>bold</const></edit></match>'
        )
    return (
        '<?xml version="1.0"?>\n<!DOCTYPE fontconfig SYSTEM "fonts.dtd">\n<fontconfig>\n'
        f'  <include ignore_missing="yes">{SYSTEM_FONTS_CONF}</include>\n' + "\n".join(aliases) + "\n</fontconfig>\n"
    )


def docx_to_pdf(docx: Path, target: Path, *, timeout: float = TIMEOUT_S) -> PdfResult:
    """Convert *docx* to *target* (written atomically); a missing LibreOffice is not an error."""
    soffice = find_soffice()
    if soffice is None:
        return PdfResult(None, "未找到 LibreOffice（soffice），未生成 PDF。如需 PDF，请安装 LibreOffice 后重新运行。")
    with tempfile.TemporaryDirectory(prefix=f"ledger-pdf-{os.getpid()}-") as tmp:
        work = Path(tmp)
        conf = work / "fonts.conf"
        conf.write_text(fonts_conf(), encoding="utf-8")
        source = work / "bulletin.docx"
        shutil.copyfile(docx, source)
        env = {**os.environ, "FONTCONFIG_FILE": str(conf), "HOME": str(work)}
        cmd = [
            soffice, f"-env:UserInstallation={(work / 'lo').as_uri()}", "--headless", "--norestore",
            "--nolockcheck", "--convert-to", PDF_FILTER, "--outdir", str(work / "out"), str(source),
        ]
        try:
            done = subprocess.run(cmd, capture_output=True, timeout=timeout, env=env, stdin=subprocess.DEVNULL,
                                  check=False)
        except subprocess.TimeoutExpired:
            return PdfResult(None, f"LibreOffice 转换 PDF 超过 {timeout:.0f} 秒未完成，未生成 PDF。Word 文件不受影响。")
        produced = work / "out" / "bulletin.pdf"
        if done.returncode != 0 or not produced.is_file():
            detail = (done.stderr or done.stdout).decode("utf-8", "replace").strip()[-300:]
            return PdfResult(None, f"LibreOffice 未能生成 PDF（退出码 {done.returncode}）：{detail or '无输出'}。"
                                   "Word 文件不受影响。")
        write_bytes_atomic(target, produced.read_bytes())
    return PdfResult(target, "")
