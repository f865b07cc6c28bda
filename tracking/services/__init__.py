"""Writes to tracking data, as plain functions; each owns its transaction."""
