"""The metadata API suite (tests/metadata_contract.py) on the SQL store."""

from __future__ import annotations

import pytest

from tests.metadata_contract import *  # noqa: F403 - the shared suite


@pytest.fixture
def api_store(store):
    return store
