"""Locators: turn evidence into code locations (SQL comment tags, stack traces, source scan)."""
