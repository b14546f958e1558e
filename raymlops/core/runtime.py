"""Connecting to Ray: an embedded local Ray by default, an existing cluster by address.

Every raymlops driver joins the ``raymlops`` namespace (so named actors, such as the
store actor and the rollout controller, are found from any driver) and passes the
raymlops settings to its workers through the job's runtime environment. Driver logs
stay quiet unless ``verbose``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import ray

from raymlops.core.config import Settings
from raymlops.core.errors import RaymlopsError

__all__ = [
    "NAMESPACE",
    "preserving_order",
    "RayUnavailableError",
    "detached_actor",
    "in_ray_worker",
    "init",
    "service_name",
    "shutdown",
]

NAMESPACE = "raymlops"


class RayUnavailableError(RaymlopsError):
    code = "ray_unavailable"
    http_status = 503
    template = (
        "cannot connect to Ray at {address}: {reason}; start a cluster with `ray start --head` "
        "(then export RAY_AUTH_MODE=token, its clients need the token in ~/.ray/auth_token) "
        "or omit --address/RAY_ADDRESS to run on an embedded local Ray"
    )


def _quiet() -> None:
    os.environ.setdefault("RAY_USAGE_STATS_ENABLED", "0")
    os.environ.setdefault("RAY_DEDUP_LOGS", "1")
    os.environ.setdefault("TUNE_DISABLE_AUTO_CALLBACK_LOGGERS", "1")
    os.environ.setdefault("RAY_AIR_NEW_OUTPUT", "0")
    os.environ.setdefault("RAY_DATA_LOG_LEVEL", "CRITICAL")
    for name in ("ray", "ray.data", "ray.tune", "ray.serve", "ray.train", "filelock"):
        logging.getLogger(name).setLevel(logging.ERROR)


def init(
    settings: Settings | None = None,
    *,
    address: str | None = None,
    num_cpus: int | None = None,
    verbose: bool | None = None,
) -> None:
    """Connect this process to Ray unless it already is.

    Args:
        settings: raymlops settings (resolved from the environment by default).
        address: a cluster address (``auto``, ``host:port``, ``ray://...``); overrides
            ``settings.ray_address``. Without one, an embedded local Ray starts.
        num_cpus: CPUs of the embedded Ray (all by default).
        verbose: show Ray's logs and worker output on the driver.

    Raises:
        RayUnavailableError: the cluster at ``address`` cannot be reached.
    """
    settings = settings or Settings.resolve()
    verbose = settings.verbose if verbose is None else verbose
    if not verbose:
        _quiet()
    if ray.is_initialized():
        return
    address = address or settings.ray_address
    common = dict(
        namespace=NAMESPACE,
        logging_level=logging.INFO if verbose else logging.ERROR,
        log_to_driver=verbose,
        runtime_env={"env_vars": _worker_env(settings)},
        configure_logging=True,
    )
    if address:
        if "RAY_AUTH_MODE" not in os.environ and (Path.home() / ".ray" / "auth_token").is_file():
            # `ray start --head` turns token authentication on; its clients need this.
            os.environ["RAY_AUTH_MODE"] = "token"
        try:
            ray.init(address=address, **common)
        except (ConnectionError, RuntimeError, ValueError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise RayUnavailableError(address=address, reason=reason) from None
    else:
        # Serve gives a new HTTP proxy 5 s to report ready, then kills and restarts it, and
        # serve.start fails on the killed one: on a busy 2-core machine a proxy's worker can
        # take longer to start. The embedded Ray's processes inherit this environment.
        os.environ.setdefault("RAY_SERVE_PROXY_READY_CHECK_TIMEOUT_S", "30")
        # "local": a new Ray of our own. Without it ray.init() joins whatever cluster
        # /tmp/ray/ray_current_cluster names (a `ray start` or test cluster on the machine).
        ray.init(address="local", num_cpus=num_cpus, include_dashboard=False, **common)
    if not verbose:
        _quiet_ray_libraries()


def _worker_env(settings: Settings) -> dict[str, str]:
    """Settings for the workers, minus what a submitted job's runtime env already sets.

    Ray refuses a driver runtime env whose env var keys collide with the job's.
    """
    env = settings.env_vars()
    injected = os.environ.get("RAY_JOB_CONFIG_JSON_ENV_VAR")
    if injected:
        job_env = (json.loads(injected).get("runtime_env") or {}).get("env_vars") or {}
        env = {k: v for k, v in env.items() if k not in job_env}
    return env


def _quiet_ray_libraries() -> None:
    try:
        from ray.data import DataContext  # heavy (about 1 s), and only once Ray is up

        ctx = DataContext.get_current()
        ctx.enable_progress_bars = False
        ctx.print_on_execution_start = False
    except Exception:  # noqa: BLE001 - older Ray without these switches
        pass


def shutdown() -> None:
    if ray.is_initialized():
        ray.shutdown()


def in_ray_worker() -> bool:
    """True inside a Ray task or actor (not in a driver)."""
    return ray.is_initialized() and ray.get_runtime_context().worker.mode == ray.WORKER_MODE


def service_name(settings: Settings, kind: str, suffix: str = "") -> str:
    """The name of a raymlops service actor, unique per metadata store and home."""
    digest = hashlib.sha1(f"{settings.metadata_uri}|{settings.home}".encode()).hexdigest()[:12]
    return f"raymlops-{kind}-{digest}" + (f"-{suffix}" if suffix else "")


_remote_classes: dict[type, object] = {}


def detached_actor(cls: type, name: str, *args: object, create: bool = True, max_concurrency: int = 32, **options: object):
    """The named, detached actor ``name`` (namespace raymlops), created from ``cls`` if missing.

    Service actors take no CPU and Ray restarts them without limit (they restore from
    their checkpoints). With ``create=False`` a missing actor raises ``ValueError``.
    """
    if not create:
        return ray.get_actor(name, namespace=NAMESPACE)
    remote = _remote_classes.get(cls)
    if remote is None:
        remote = _remote_classes[cls] = ray.remote(cls)
    return remote.options(  # type: ignore[attr-defined]
        name=name,
        namespace=NAMESPACE,
        lifetime="detached",
        get_if_exists=True,
        num_cpus=0,
        max_restarts=-1,
        max_concurrency=max_concurrency,
        **options,
    ).remote(*args)


@contextmanager
def preserving_order(*datasets: Any) -> Iterator[None]:
    """Ray Data keeps the order of rows while inside the block, for ``datasets`` and new ones.

    A Dataset carries the ``DataContext`` it was created with (``from_pandas`` and the
    readers copy the current one), so setting ``DataContext.get_current()`` alone does not
    reach a dataset made before: this sets ``preserve_order`` on the current context and
    on each given dataset's own, and restores every one afterwards.
    """
    contexts = {id(c): c for c in (ray.data.DataContext.get_current(), *(ds.context for ds in datasets))}
    before = {k: c.execution_options.preserve_order for k, c in contexts.items()}
    for c in contexts.values():
        c.execution_options.preserve_order = True
    try:
        yield
    finally:
        for k, c in contexts.items():
            c.execution_options.preserve_order = before[k]
