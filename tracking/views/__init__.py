"""Tracking views: parse, call one service or selector, serialize."""
