"""Consolidation: lights per task and period, and the summary workbook (汇总表)."""
