"""Writes to the registry, split by resource: registered models, model versions, sources."""
