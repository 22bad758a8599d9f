"""Renderers of one in-memory report: terminal, JSON (and later HTML, Markdown, SARIF)."""
