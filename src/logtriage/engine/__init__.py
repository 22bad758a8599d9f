"""The analytical engine: loads inputs into canonical tables and runs the analysis in bulk."""
