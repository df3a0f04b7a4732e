"""Collect returned workbooks: every file is sniffed and pre-checked before any reader sees it."""
