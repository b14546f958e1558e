"""One real local Ray per test session, with its own raymlops home."""

from __future__ import annotations

import pytest

from raymlops.core.config import Settings


@pytest.fixture(scope="session")
def ray_settings(tmp_path_factory) -> Settings:
    home = tmp_path_factory.mktemp("ray-home")
    s = Settings.resolve(home=home, env={})
    s.ensure_home()
    return s


@pytest.fixture(scope="session")
def ray_session(ray_settings: Settings):
    import ray

    from raymlops.core import runtime

    runtime.init(ray_settings, num_cpus=2)
    yield ray_settings
    ray.shutdown()


@pytest.fixture(scope="session")
def ray_address(ray_session) -> str:
    """The session Ray's address: CLI subprocesses join it (as on a real cluster) instead of starting their own."""
    import ray

    return ray.get_runtime_context().gcs_address
