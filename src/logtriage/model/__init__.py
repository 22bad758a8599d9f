"""The shared vocabulary: canonical tables, findings, the report. Imports nothing of ours."""
