"""Durable broadcast delivery: store one row per recipient, then pace and record each send."""
