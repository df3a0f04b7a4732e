"""Stage 1: the task registry (notice import, units, deadlines, the registry workbook)."""
