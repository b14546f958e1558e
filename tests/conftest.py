"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

from raymlops.core.config import Settings

REPO = Path(__file__).resolve().parents[1]
PYTHON = sys.executable


@pytest.fixture
def home(tmp_path: Path) -> Path:
    h = tmp_path / "home"
    h.mkdir()
    return h


@pytest.fixture
def settings(home: Path) -> Settings:
    return Settings.resolve(home=home, env={})


@pytest.fixture
def store(settings: Settings):
    from raymlops.metadata import MetadataStore

    settings.ensure_home()
    s = MetadataStore(settings.metadata_uri)
    yield s
    s.close()


@pytest.fixture
def registry(settings: Settings, store):
    from raymlops.registry import BlobStore, ModelRegistry

    return ModelRegistry(store, BlobStore(settings.artifacts_dir))


def cli_env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("RAYMLOPS_", "RAY_ADDRESS"))}
    env["RAYMLOPS_HOME"] = str(home)
    env.update(extra)
    return env
