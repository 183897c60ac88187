"""Quarterly progress reports of the city associations (notice item 10): deadlines, reminders."""
