from __future__ import annotations

import pytest

from raymlops.core.config import Settings
from raymlops.core.errors import HomeNotWritableError


def test_defaults_and_environment(tmp_path):
    s = Settings.resolve(env={"RAYMLOPS_HOME": str(tmp_path), "RAY_ADDRESS": "auto"})
    assert s.home == tmp_path
    assert s.metadata_uri == f"sqlite:///{tmp_path}/metadata.db"
    assert s.ray_address == "auto"
    explicit = Settings.resolve(home=tmp_path / "x", metadata_uri="postgresql://h/db", env={"RAYMLOPS_HOME": "/nope"})
    assert (explicit.home, explicit.metadata_uri, explicit.is_sqlite) == (tmp_path / "x", "postgresql://h/db", False)


def test_unknown_settings_are_refused(tmp_path):
    with pytest.raises(ValueError, match="extra"):
        Settings(home=tmp_path, metadata_uri="sqlite://", colour="blue")


def test_an_unwritable_home_is_a_clear_error(tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    with pytest.raises(HomeNotWritableError, match="is not writable"):
        Settings.resolve(home=blocker / "home", env={}).ensure_home()
