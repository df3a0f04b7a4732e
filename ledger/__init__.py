"""ledger: task registry, 工作台账 generation, collection, consolidation and assessment
for supervision offices (督查室)."""

__version__ = "0.1.0"
