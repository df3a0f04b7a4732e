"""Build hook: the wheel carries the sample workspace as ``ledger/sample/``.

The sample (``ledger.toml`` and ``source_data/``) lives once, at the repository's root,
which is itself a workspace; building the package copies it in, so ``ledger demo`` works
after a non-editable install. An editable install reads it from the checkout instead
(``ledger.resources.sample_root``). Everything else is declared in setup.cfg.
"""

import shutil
from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

HERE = Path(__file__).resolve().parent
#: files an office suite or an import leaves next to the sample's workbooks
JUNK = shutil.ignore_patterns("*.bak.xlsx", "~$*", ".~lock*", "__pycache__")


class BuildWithSample(build_py):
    """``build_py``, then the sample workspace copied into ``ledger/sample/``."""

    def run(self) -> None:
        super().run()
        if getattr(self, "editable_mode", False):
            return
        target = Path(self.build_lib) / "ledger" / "sample"
        if target.exists():
            shutil.rmtree(target)
        target.mkdir(parents=True)
        shutil.copy2(HERE / "ledger.toml", target / "ledger.toml")
        shutil.copytree(HERE / "source_data", target / "source_data", ignore=JUNK)


setup(cmdclass={"build_py": BuildWithSample})
