"""The ingress deployment: the HTTP API on Ray Serve (FastAPI through ``serve.ingress``).

It implements the HTTP contract (KServe V1-style paths) and routes every request with
the pure :func:`~raymlops.serving.routing.route` over the routing table it polls from the
rollout controller (a change reaches every replica within ``poll_s``, without a
restart). It enforces the token, the body size limit and the model name; the model
server validates instances against the version's signature. Per version it counts
requests, server errors and latencies (mergeable sketches), mirrors the shadow share of
requests asynchronously and several to a call (the client always gets the primary's
answer; :class:`~raymlops.serving.mirror.MirrorBatcher`), sheds mirrors while the
primary is saturated or the shadow's queue is full and counts them
(:class:`~raymlops.serving.shedding.MirrorShedder`), pairs primary and shadow answers
by request id, and flushes all of it to the controller every ``flush_s``.

Errors are JSON ``{"error": {"code", "message", "details"}}``: 400 malformed, 401 token,
404 unknown model, 413 too large, 422 invalid instance, 503 no live version yet; a 5xx
is never a client's mistake.
"""

import asyncio
import os
import random
import time
import uuid
from collections import defaultdict
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from ray import serve
from starlette.exceptions import HTTPException as StarletteHTTPException

from raymlops.core.config import Settings
from raymlops.registry import ModelRegistry
from raymlops.serving.controller_actor import get_controller
from raymlops.serving.gates import VersionStats
from raymlops.serving.mirror import MirrorBatcher
from raymlops.serving.protocol import (
    MODEL_VERSION_HEADER,
    ClientError,
    ModelNotServedError,
    PayloadTooLargeError,
    check_token,
    new_request_id,
    parse_feedback_request,
    predict_response,
)
from raymlops.serving.routing import RoutingTable, route
from raymlops.serving.server_deployment import MAX_ONGOING_REQUESTS, app_name
from raymlops.serving.shadow import ShadowComparator
from raymlops.serving.shedding import MirrorShedder, primary_limit_for

__all__ = ["Ingress", "api"]

api = FastAPI(title="raymlops", docs_url=None, redoc_url=None, openapi_url=None)

_RETRYABLE = ("RayActorError", "ActorDiedError", "ActorUnavailableError", "ActorUnschedulableError", "DeploymentUnavailableError")


def _error(status: int, code: str, message: str, details: list | None = None, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "details": details or []}}, status_code=status, headers=headers)


def _client_error(exc: ClientError) -> JSONResponse:
    return JSONResponse(exc.body(), status_code=exc.http_status, headers=getattr(exc, "headers", None) or None)


@api.exception_handler(StarletteHTTPException)
async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
    code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
    return _error(exc.status_code, code, f"{request.method} {request.url.path}: {exc.detail}")


@api.exception_handler(Exception)
async def _unexpected(request: Request, exc: Exception) -> JSONResponse:  # pragma: no cover - last resort
    return _error(500, "internal", "the server failed to handle the request; it has been logged")


@serve.deployment(
    ray_actor_options={"num_cpus": 0.1},
    max_ongoing_requests=512,
    health_check_period_s=2,
)
@serve.ingress(api)
class Ingress:
    """The raymlops HTTP ingress.

    Args:
        settings: raymlops settings as a dict (the API token comes from here).
        models: model refs to make sure are served (``NAME@ALIAS``/``NAME@VERSION``).
        max_bytes: the largest request body.
        poll_s, flush_s: routing-table poll and stats flush intervals.
        max_shadow_inflight: a model's mirrored requests outstanding (queued here or in
            flight to the shadow) at most; beyond, mirrors are shed
            (``shadow_queue_full``) rather than queued behind a slow shadow.
        primary_limit: a model's primary requests in flight at this replica at which the
            primary counts as saturated and mirrors are shed (``primary_saturated``);
            None: a quarter of the model server's ``max_ongoing_requests``
            (:func:`~raymlops.serving.shedding.primary_limit_for`).
        mirror_batch, mirror_wait_s: mirrored requests go to the shadow several to a
            call, up to ``mirror_batch`` and at most ``mirror_wait_s`` after the first
            (see :class:`~raymlops.serving.mirror.MirrorBatcher`). Every call costs the
            ingress and the shadow's replica Serve's and Ray's work at normal priority
            (about 4 ms of CPU on 2 cores), so the wait is long enough to batch: at 50
            requests/s, 4 calls/s rather than 20. The shadow's latency is the call's,
            not counting the wait.
    """

    async def __init__(
        self,
        settings: dict[str, Any],
        models: list[str] | None = None,
        max_bytes: int = 1 << 20,
        poll_s: float = 0.5,
        flush_s: float = 0.5,
        max_shadow_inflight: int = 64,
        mirror_batch: int = 32,
        mirror_wait_s: float = 0.25,
        primary_limit: int | None = None,
    ):
        self.settings = Settings(**settings)
        self.token = self.settings.api_token or os.environ.get("RAYMLOPS_API_TOKEN") or None
        self.max_bytes = int(max_bytes)
        self.poll_s, self.flush_s = poll_s, flush_s
        self.replica = uuid.uuid4().hex[:8]
        self.controller = get_controller(self.settings)
        self.tables: dict[str, RoutingTable] = {}
        self.revision = -1
        self.revision_at: float | None = None
        self.handles: dict[tuple[str, int], Any] = {}
        self.stats: dict[str, dict[int, VersionStats]] = defaultdict(lambda: defaultdict(VersionStats))
        self.shadows: dict[str, ShadowComparator] = {}
        self.served: dict[str, list[tuple[str, int, list[Any]]]] = defaultdict(list)
        self.shedder = MirrorShedder(
            max_outstanding=max_shadow_inflight, primary_limit=primary_limit or primary_limit_for(MAX_ONGOING_REQUESTS)
        )
        self.mirrors = MirrorBatcher(mirror_batch, mirror_wait_s)
        self._background: set[asyncio.Task] = set()
        if models:
            await self._ensure_served(list(models))
        await self._poll_once()
        loop = asyncio.get_running_loop()
        self._background.add(loop.create_task(self._poll_forever()))
        self._background.add(loop.create_task(self._flush_forever()))

    async def _ensure_served(self, refs: list[str]) -> None:
        """Serve each ref's model unless the controller already routes it (all deployed at once)."""
        reg = ModelRegistry.connect(self.settings)
        current = (await self.controller.get_tables.remote(-1) or {}).get("tables", {})
        specs = {}
        for ref in refs:
            rec = reg.get(ref)
            if rec["name"] not in current:
                specs[rec["name"]] = {"model": rec["name"], "version": rec["version"]}
        if specs:
            await self.controller.serve_models.remote(list(specs.values()))

    # ------------------------------------------------------------------ background
    async def _poll_once(self) -> None:
        res = await self.controller.get_tables.remote(self.revision)
        if res is not None:
            tables = {name: RoutingTable.from_dict(t) for name, t in res["tables"].items()}
            # handles for new versions before the table routes to them: the first canary or
            # shadow request then pays no handle look-up
            await self._warm_handles(tables)
            self.tables = tables
            self.revision = res["revision"]
            self.revision_at = time.time()  # when this replica started routing by it (healthz reports it)

    async def _warm_handles(self, tables: dict[str, RoutingTable]) -> None:
        wanted = {(name, v) for name, t in tables.items() for v in t.deployed_versions}
        for key in set(self.handles) - wanted:
            del self.handles[key]
        for model, version in sorted(wanted - set(self.handles)):
            try:
                await self._handle(model, version)
            except Exception:  # noqa: BLE001 - not deployed yet: looked up again on first use
                pass

    async def _poll_forever(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            try:
                await self._poll_once()
            except Exception:  # noqa: BLE001 - keep serving the last table if the controller blips
                pass

    async def _flush_forever(self) -> None:
        while True:
            await asyncio.sleep(self.flush_s)
            try:
                await self._flush()
            except Exception:  # noqa: BLE001 - stats are best effort; serving goes on
                pass

    async def _flush(self) -> None:
        now = time.time()
        models: dict[str, Any] = {}
        for name in set(self.stats) | set(self.shadows) | set(self.served) | self.shedder.models():
            part: dict[str, Any] = {}
            stats = self.stats.pop(name, None)
            if stats:
                part["stats"] = {str(v): s.to_dict() for v, s in stats.items()}
            comp = self.shadows.get(name)
            if comp is not None:
                comp.expire(now)
                part["shadow"] = comp.flush()
            shed = self.shedder.flush(name)
            if shed:
                part["mirroring"] = shed
            served = self.served.pop(name, None)
            if served:
                part["requests"] = served
            if part:
                models[name] = part
        if models:
            await self.controller.report.remote({"replica": self.replica, "models": models})

    # ------------------------------------------------------------------ helpers
    async def _handle(self, model: str, version: int):
        key = (model, version)
        h = self.handles.get(key)
        if h is None:
            # serve.get_app_handle blocks on a call to Serve's controller: off the event loop,
            # so requests to other versions are not held up while a new version is looked up
            h = self.handles[key] = await asyncio.to_thread(serve.get_app_handle, app_name(model, version))
        return h

    async def _call(self, model: str, version: int, body: bytes, attempts: int = 3) -> dict[str, Any]:
        """Call a version's server; retry when its replica died mid-request (idempotent predictions)."""
        for attempt in range(attempts):
            try:
                return await (await self._handle(model, version)).remote(body)
            except Exception as exc:  # noqa: BLE001 - classified below
                names = {type(exc).__name__, type(getattr(exc, "cause", None)).__name__}
                if attempt + 1 < attempts and names & set(_RETRYABLE):
                    await asyncio.sleep(0.05 * (attempt + 1))
                    continue
                if "RayServeException" in names or "ValueError" in names and "not found" in str(exc).lower():
                    self.handles.pop((model, version), None)
                raise
        raise AssertionError("unreachable")

    async def _read_body(self, request: Request) -> bytes:
        length = request.headers.get("content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            raise PayloadTooLargeError(
                f"the body is {length} bytes; the limit is {self.max_bytes}: split the request",
                details=[{"field": "body", "problem": f"larger than {self.max_bytes} bytes"}],
            )
        chunks, size = [], 0
        async for chunk in request.stream():
            size += len(chunk)
            if size > self.max_bytes:
                raise PayloadTooLargeError(
                    f"the body is over {self.max_bytes} bytes: split the request",
                    details=[{"field": "body", "problem": f"larger than {self.max_bytes} bytes"}],
                )
            chunks.append(chunk)
        return b"".join(chunks)

    def _table(self, model: str) -> RoutingTable:
        table = self.tables.get(model)
        if table is None:
            raise ModelNotServedError(
                f"model {model!r} is not served here; served: {', '.join(sorted(self.tables)) or 'none'}",
                details=[{"field": "model", "problem": "unknown model"}],
            )
        return table

    def _mirror(self, model: str, version: int, body: bytes, rid: str) -> None:
        """Queue a copy of the request for the shadow (admitted by the shedder); full batches leave at once."""
        batch, first = self.mirrors.add((model, version), (rid, body))
        if batch:
            self._send_mirrored(model, version, batch)
        elif first:
            asyncio.get_running_loop().call_later(self.mirrors.max_wait_s, self._send_queued, model, version)

    def _send_queued(self, model: str, version: int) -> None:
        batch = self.mirrors.take((model, version))
        if batch:
            self._send_mirrored(model, version, batch)

    def _send_mirrored(self, model: str, version: int, batch: list[tuple[str, bytes]]) -> None:
        task = asyncio.get_running_loop().create_task(self._call_shadow(model, version, batch))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    async def _call_shadow(self, model: str, version: int, batch: list[tuple[str, bytes]]) -> None:
        t0 = time.perf_counter()
        comp = self.shadows.setdefault(model, ShadowComparator())
        try:
            handle = await self._handle(model, version)
            answers = await handle.predict_many.remote([body for _, body in batch])
        except Exception:  # noqa: BLE001 - a failing shadow never touches the primary
            answers = [None] * len(batch)
        finally:
            self.shedder.shadow_done(model, len(batch))
        now, ms = time.time(), (time.perf_counter() - t0) * 1000
        for (rid, _), answer in zip(batch, answers):
            preds = answer.get("predictions") if isinstance(answer, dict) else None
            comp.add_shadow(rid, preds, now=now, latency_ms=ms, error=preds is None)

    # ------------------------------------------------------------------ routes
    # Serve's HTTP proxy answers GET /-/healthz itself (200 "success" while it is up);
    # this replica's own view — served models and routing revision — is here.
    @api.get("/v1/healthz")
    async def healthz(self) -> dict[str, Any]:
        return {"status": "ok", "models": sorted(self.tables), "revision": self.revision, "revision_at": self.revision_at, "replica": self.replica}

    @api.get("/v1/models/{model}")
    async def model_info(self, model: str, request: Request) -> JSONResponse:
        try:
            check_token(request.headers.get("authorization"), self.token)
            table = self._table(model)
        except ClientError as exc:
            return _client_error(exc)
        status = await self.controller.status.remote(model)
        return JSONResponse(
            {
                "name": model,
                "live_versions": list(table.live_versions),
                "routing": table.to_dict(),
                "strategy": status["strategy"],
                "state": status["state"],
                "health": {str(v): status["stats"].get(str(v)) for v in table.deployed_versions},
            }
        )

    @api.post("/v1/models/{model_action}")
    async def post(self, model_action: str, request: Request) -> JSONResponse:
        model, sep, action = model_action.rpartition(":")
        if not sep or action not in ("predict", "feedback"):
            return _error(404, "not_found", f"unknown endpoint {request.url.path}: use /v1/models/NAME:predict or :feedback")
        try:
            check_token(request.headers.get("authorization"), self.token)
            if action == "predict":
                return await self._predict(model, request)
            return await self._feedback(model, request)
        except ClientError as exc:
            return _client_error(exc)

    async def _predict(self, model: str, request: Request) -> JSONResponse:
        t0 = time.perf_counter()
        table = self._table(model)
        body = await self._read_body(request)
        rid = request.headers.get("x-request-id") or new_request_id()
        decision = route(table, key=table.sticky_key(request.headers), u=random.random())
        stats = self.stats[model][decision.version]
        self.shedder.primary_started(model)
        try:
            resp = await self._call(model, decision.version, body)
        except Exception as exc:  # noqa: BLE001 - the version failed: a server error, counted
            stats.record_request((time.perf_counter() - t0) * 1000, error=True)
            name = type(exc).__name__
            if "DeploymentUnavailable" in name or "RayServeException" in name:
                return _error(503, "unavailable", f"{model}@{decision.version} is not ready yet; retry shortly")
            return _error(500, "model_error", f"{model}@{decision.version} failed on this request (request_id {rid})")
        finally:
            self.shedder.primary_done(model)
        if "error" in resp:
            return JSONResponse({"error": resp["error"]}, status_code=int(resp["status"]))
        latency = (time.perf_counter() - t0) * 1000
        stats.record_request(latency)
        preds = resp["predictions"]
        self.served[model].append((rid, decision.version, preds))
        # decided now the primary has answered (so on the primary's load as it is); queued, sent
        # later: the client never waits on the shadow
        if decision.shadow is not None and self.shedder.admit(model) is None:
            self.shadows.setdefault(model, ShadowComparator()).add_primary(rid, preds, now=time.time(), latency_ms=latency)
            self._mirror(model, decision.shadow, body, rid)
        return JSONResponse(
            predict_response(preds, model_version=decision.version, request_id=rid),
            headers={MODEL_VERSION_HEADER: str(decision.version)},
        )

    async def _feedback(self, model: str, request: Request) -> JSONResponse:
        self._table(model)
        body = await self._read_body(request)
        fb = parse_feedback_request(body, max_bytes=self.max_bytes)
        await self._flush()  # the prediction may still be in this replica's buffer
        try:
            accepted = await self.controller.feedback.remote(model, fb.request_id, list(fb.labels))
        except Exception as exc:  # noqa: BLE001 - the controller rejects unknown request ids
            cause = getattr(exc, "cause", exc)
            if isinstance(cause, ClientError) or getattr(cause, "http_status", 500) < 500:
                return JSONResponse(
                    {"error": {"code": getattr(cause, "code", "invalid_request"), "message": getattr(cause, "message", str(cause)), "details": getattr(cause, "details", [])}},
                    status_code=getattr(cause, "http_status", 422) if getattr(cause, "http_status", 500) < 500 else 422,
                )
            raise
        return JSONResponse({"request_id": fb.request_id, "accepted": accepted})
