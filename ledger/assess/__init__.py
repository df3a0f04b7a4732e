"""Monthly assessment (考核得分) and the printable bulletin (月度考核通报).

``write_bulletin`` is loaded on first use, so ``assess`` alone does not import
matplotlib and docxtpl.
"""

from typing import Any

from ledger.assess.api import Assessment, NothingToAssess, assess
from ledger.assess.score import ScoreItem, UnitScore

__all__ = ["Assessment", "BulletinFiles", "NothingToAssess", "ScoreItem", "UnitScore", "assess", "write_bulletin"]


def __getattr__(name: str) -> Any:
    if name in ("BulletinFiles", "write_bulletin"):
        from ledger.assess import bulletin

        return getattr(bulletin, name)
    raise AttributeError(f"module 'ledger.assess' has no attribute {name!r}")
