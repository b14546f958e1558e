"""Feature store (placeholder docstring, completed below)."""
