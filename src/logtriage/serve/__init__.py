"""The local dashboard (``logtriage serve``): a read-only web view of a saved analysis."""
