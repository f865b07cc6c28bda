"""Reads of tracking data reused by views and services."""
