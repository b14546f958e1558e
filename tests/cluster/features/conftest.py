"""Fixtures of the feature store's cluster tests (the session Ray is tests/cluster/conftest.py's)."""

from __future__ import annotations

from tests.unit.features.conftest import redis_url  # noqa: F401 - a real redis-server, shared with the unit tests
