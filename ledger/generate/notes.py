"""The parts of a sheet's notes (批注) — the comments part and its VML drawing — written a note
at a time in one string, byte for byte as xlsxwriter's writers write them element by element
(``tests/test_fastrows.py`` compares them with ``Workbook.close()``): a period's workbooks
carry a note for every co-led task and every milestone due."""

from __future__ import annotations

from xlsxwriter.comments import Comments, CommentType
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.vml import Vml

from ledger.generate.xmltext import escape_text


class NotesVml(Vml):
    """xlsxwriter's VML writer with each note's shape written in one string."""

    def _write_comment_shape(self, shape_id: int, z_index: int, comment: CommentType) -> None:
        left, top, width, height = self._pixels_to_points(comment.vertices)
        col_start, row_start, x1, y1, col_end, row_end, x2, y2 = comment.vertices[:8]
        visibility, visible = ("visible", "<x:Visible/>") if comment.is_visible else ("hidden", "")
        style = (f"position:absolute;margin-left:{left:.15g}pt;margin-top:{top:.15g}pt;width:{width:.15g}pt;"
                 f"height:{height:.15g}pt;z-index:{z_index};visibility:{visibility}")
        fill = self._escape_attributes(comment.color._vml_rgb_hex_value())
        self.fh.write(
            f'<v:shape id="_x0000_s{shape_id}" type="#_x0000_t202" style="{self._escape_attributes(style)}" '
            f'fillcolor="{fill}" o:insetmode="auto"><v:fill color2="#ffffe1"/>'
            '<v:shadow on="t" color="black" obscured="t"/><v:path o:connecttype="none"/>'
            '<v:textbox style="mso-direction-alt:auto"><div style="text-align:left"></div></v:textbox>'
            '<x:ClientData ObjectType="Note"><x:MoveWithCells/><x:SizeWithCells/>'
            f"<x:Anchor>{col_start}, {x1}, {row_start}, {y1}, {col_end}, {x2}, {row_end}, {y2}</x:Anchor>"
            f"<x:AutoFill>False</x:AutoFill><x:Row>{comment.row}</x:Row><x:Column>{comment.col}</x:Column>"
            f"{visible}</x:ClientData></v:shape>"
        )


class NotesComments(Comments):
    """xlsxwriter's comments writer with each note written in one string."""

    def _write_comment(self, comment: CommentType, author_id: int) -> None:
        author = f' authorId="{author_id}"' if author_id != -1 else ""
        text = comment.text
        space = ' xml:space="preserve"' if text[:1].isspace() or text[-1:].isspace() else ""
        attr = self._escape_attributes
        self.fh.write(
            f'<comment ref="{xl_rowcol_to_cell(comment.row, comment.col)}"{author}><text><r><rPr>'
            f'<sz val="{attr(comment.font_size)}"/><color indexed="81"/><rFont val="{attr(comment.font_name)}"/>'
            f'<family val="{attr(comment.font_family)}"/></rPr><t{space}>{escape_text(text)}</t></r></text></comment>'
        )
