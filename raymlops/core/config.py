"""Settings: where raymlops keeps its state and which Ray it talks to.

Resolution order for each setting: explicit argument (CLI flag) > environment variable >
default.

=====================  ==========================  ==================================
setting                environment variable        default
=====================  ==========================  ==================================
``home``               ``RAYMLOPS_HOME``           ``./.raymlops``
``metadata_uri``       ``RAYMLOPS_METADATA_URI``   ``sqlite:///<home>/metadata.db``
``ray_address``        ``RAY_ADDRESS``             none: an embedded local Ray
``api_token``          ``RAYMLOPS_API_TOKEN``      none: no token required
=====================  ==========================  ==================================

Example:
    >>> s = Settings.resolve(home="/tmp/rm-doc", env={})
    >>> s.metadata_uri
    'sqlite:////tmp/rm-doc/metadata.db'
    >>> s.is_sqlite
    True
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, field_validator

from raymlops.core.errors import HomeNotWritableError

__all__ = ["Settings", "ENV_HOME", "ENV_METADATA_URI", "ENV_API_TOKEN"]

ENV_HOME = "RAYMLOPS_HOME"
ENV_METADATA_URI = "RAYMLOPS_METADATA_URI"
ENV_API_TOKEN = "RAYMLOPS_API_TOKEN"
DEFAULT_HOME = ".raymlops"


class Settings(BaseModel):
    """Resolved settings. Build with :meth:`resolve`, not by hand."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    home: Path
    metadata_uri: str
    ray_address: str | None = None
    api_token: str | None = None
    verbose: bool = False

    @field_validator("home")
    @classmethod
    def _absolute(cls, v: Path) -> Path:
        return Path(os.path.abspath(os.path.expanduser(str(v))))

    @classmethod
    def resolve(
        cls,
        *,
        home: str | os.PathLike[str] | None = None,
        metadata_uri: str | None = None,
        ray_address: str | None = None,
        verbose: bool = False,
        env: Mapping[str, str] | None = None,
    ) -> Settings:
        """Resolve settings from arguments, then the environment, then defaults."""
        env = os.environ if env is None else env
        home_path = Path(os.path.abspath(os.path.expanduser(str(home or env.get(ENV_HOME) or DEFAULT_HOME))))
        uri = metadata_uri or env.get(ENV_METADATA_URI) or f"sqlite:///{home_path / 'metadata.db'}"
        return cls(
            home=home_path,
            metadata_uri=uri,
            ray_address=ray_address or env.get("RAY_ADDRESS") or None,
            api_token=env.get(ENV_API_TOKEN) or None,
            verbose=verbose,
        )

    @property
    def is_sqlite(self) -> bool:
        return self.metadata_uri.startswith("sqlite")

    @property
    def artifacts_dir(self) -> Path:
        return self.home / "artifacts"

    def ensure_home(self) -> Path:
        """Create ``home`` if needed and check that it is writable.

        Raises:
            HomeNotWritableError: the folder cannot be created or written.
        """
        try:
            self.home.mkdir(parents=True, exist_ok=True)
            probe = self.home / f".write-probe-{os.getpid()}"
            probe.write_bytes(b"")
            probe.unlink()
        except OSError as exc:
            raise HomeNotWritableError(home=str(self.home), reason=exc.strerror or str(exc)) from None
        return self.home

    def env_vars(self) -> dict[str, str]:
        """What Ray workers need to see the same store (passed in the job's runtime_env)."""
        out = {ENV_HOME: str(self.home), ENV_METADATA_URI: self.metadata_uri}
        if self.api_token:
            out[ENV_API_TOKEN] = self.api_token
        return out

    def to_dict(self) -> dict[str, Any]:
        d = self.model_dump()
        d["home"] = str(self.home)
        d.pop("api_token", None)
        return d
