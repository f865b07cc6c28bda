"""Reads of the registry, split by resource: lookups, registered models, model versions."""
