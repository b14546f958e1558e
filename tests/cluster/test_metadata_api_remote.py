"""The metadata API suite (tests/metadata_contract.py) on the store actor's proxy."""

from __future__ import annotations

import pytest

from raymlops.metadata import RemoteMetadataStore
from tests.metadata_contract import *  # noqa: F403 - the shared suite


@pytest.fixture
def api_store(ray_session):
    return RemoteMetadataStore(ray_session)
