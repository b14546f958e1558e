"""Model versions, aliases and verdicts: the registry's tables and the SQL behind them.

Versions of a name are consecutive (1, 2, 3, ...) even when several processes register
at once: the next number is assigned inside the same transaction that inserts the
version and its Model artifact (an OUTPUT of its run, or of a ``RegisterModel``
execution). Every alias move is kept with when, from, to and why; every verdict an
evaluation records is kept, and the latest one counts.
"""

from __future__ import annotations

import getpass
import json
import os
import time
from collections.abc import Sequence
from typing import Any

from sqlalchemy import func, insert, select
from sqlalchemy.engine import Connection

from raymlops.core.errors import NotFoundError
from raymlops.metadata import Artifact, Context, Execution, MetadataStore, StoreExtension
from raymlops.metadata import tables as M
from raymlops.registry import tables as S
from raymlops.registry.remote import RemoteModelVersions

__all__ = ["ModelVersions"]


def _dumps(obj: Any) -> str:
    return json.dumps(obj, separators=(",", ":"), sort_keys=True, default=str)


class ModelVersions(StoreExtension):
    """The registry's records, kept in the metadata store's database.

    Args:
        store: the SQL metadata store.
    """

    tables = S.REGISTRY_TABLES
    remote_class = RemoteModelVersions

    def __init__(self, store: MetadataStore):
        super().__init__(store)

    def create_model_version(
        self,
        *,
        name: str,
        artifact: Artifact,
        signature: dict[str, Any],
        description: str | None = None,
        metadata: dict[str, Any] | None = None,
        run_id: int | None = None,
        inputs: Sequence[Artifact] = (),
    ) -> dict[str, Any]:
        """Add the next version of ``name`` and its Model artifact in one transaction.

        The model artifact is recorded as an OUTPUT of the run ``run_id`` when given,
        otherwise of a new ``RegisterModel`` execution whose INPUTs are ``inputs``.

        Returns:
            The stored version record (see :meth:`get_model_version`).
        """

        def tx(conn: Connection) -> dict[str, Any]:
            now = time.time()
            last = conn.execute(
                select(func.max(S.model_versions.c.version)).where(S.model_versions.c.name == name)
            ).scalar()
            version = (last or 0) + 1
            artifact.properties = {**artifact.properties, "model_name": name, "version": version}
            artifact.name = f"{name}@{version}"
            ctx = Context(type="RegisteredModel", name=name)
            if run_id is not None:
                run = conn.execute(select(M.executions.c.id).where(M.executions.c.id == run_id)).first()
                if run is None:
                    raise NotFoundError(what="run", name=run_id, hint="pass the id of a recorded run")
                # keep the run's own state and properties: only add the output event
                res = self._add_output_in(conn, run_id, artifact, ctx, now)
            else:
                ex = Execution(type="RegisterModel", name=f"register {name}@{version}", state="COMPLETE")
                res = self.store.put_execution_in(conn, ex, [(None, a) for a in inputs], [("model", artifact)], [ctx])
                res["artifact_id"] = res["artifact_ids"][-1]
            conn.execute(
                insert(S.model_versions).values(
                    name=name,
                    version=version,
                    artifact_id=res["artifact_id"],
                    sha256=artifact.sha256,
                    signature=_dumps(signature),
                    description=description,
                    metadata=_dumps(metadata or {}),
                    run_id=run_id if run_id is not None else res["execution_id"],
                    create_time=now,
                )
            )
            return {"version": version, "artifact_id": res["artifact_id"]}

        out = self.store.transact(tx)
        artifact.id = out["artifact_id"]
        return self.get_model_version(name, out["version"])

    def _add_output_in(self, conn: Connection, execution_id: int, artifact: Artifact, ctx: Context, now: float):
        aid = self.store.insert_artifacts_in(conn, [artifact], now)[0]
        conn.execute(
            insert(M.events).values(artifact_id=aid, execution_id=execution_id, type="OUTPUT", path="model", time=now)
        )
        cid = self.store.ensure_context_in(conn, ctx, now)
        self.store.link_in(conn, M.attributions, "artifact_id", [cid], [aid])
        return {"artifact_id": aid, "execution_id": execution_id}

    @staticmethod
    def _version_dict(r, aliases: list[str]) -> dict[str, Any]:
        return {
            "name": r.name,
            "version": r.version,
            "aliases": aliases,
            "sha256": r.sha256,
            "signature": json.loads(r.signature),
            "description": r.description,
            "metadata": json.loads(r.metadata),
            "artifact_id": r.artifact_id,
            "run_id": r.run_id,
            "created": r.create_time,
        }

    def get_model_version(self, name: str, version: int) -> dict[str, Any] | None:
        """The record of ``name`` version ``version`` with its aliases, or ``None``."""
        mv = S.model_versions
        with self.store.read() as conn:
            r = conn.execute(select(mv).where(mv.c.name == name, mv.c.version == version)).first()
            if r is None:
                return None
            aliases = self._aliases_of(conn, name)
            latest = conn.execute(select(func.max(mv.c.version)).where(mv.c.name == name)).scalar()
        names = sorted(a for a, v in aliases.items() if v == version)
        if version == latest:
            names.append("latest")
        return self._version_dict(r, names)

    def list_model_versions(self, name: str | None = None) -> list[dict[str, Any]]:
        """Every version (of one name, or of all), newest version last within a name."""
        mv = S.model_versions
        q = select(mv).order_by(mv.c.name, mv.c.version)
        if name is not None:
            q = q.where(mv.c.name == name)
        with self.store.read() as conn:
            rows = conn.execute(q).all()
            aliases: dict[str, dict[str, int]] = {}
            for r in conn.execute(select(S.model_aliases)).all():
                aliases.setdefault(r.name, {})[r.alias] = r.version
        latest: dict[str, int] = {}
        for r in rows:
            latest[r.name] = max(latest.get(r.name, 0), r.version)
        out = []
        for r in rows:
            names = sorted(a for a, v in aliases.get(r.name, {}).items() if v == r.version)
            if latest[r.name] == r.version:
                names.append("latest")
            out.append(self._version_dict(r, names))
        return out

    @staticmethod
    def _aliases_of(conn: Connection, name: str) -> dict[str, int]:
        rows = conn.execute(select(S.model_aliases.c.alias, S.model_aliases.c.version).where(S.model_aliases.c.name == name))
        return dict(rows.all())

    def get_aliases(self, name: str) -> dict[str, int]:
        with self.store.read() as conn:
            return self._aliases_of(conn, name)

    def latest_version(self, name: str) -> int | None:
        with self.store.read() as conn:
            return conn.execute(
                select(func.max(S.model_versions.c.version)).where(S.model_versions.c.name == name)
            ).scalar()

    def set_alias(
        self,
        name: str,
        alias: str,
        version: int | None,
        *,
        reason: str | None = None,
        forced: bool = False,
        actor: str | None = None,
    ) -> dict[str, Any]:
        """Point ``alias`` at ``version`` (``None`` removes it) and record the move."""

        def tx(conn: Connection) -> dict[str, Any]:
            now = time.time()
            if version is not None:
                exists = conn.execute(
                    select(S.model_versions.c.id).where(
                        S.model_versions.c.name == name, S.model_versions.c.version == version
                    )
                ).first()
                if exists is None:
                    raise NotFoundError(
                        what="model version", name=f"{name}@{version}", hint="list versions with `raymlops models list`"
                    )
            prev = self._aliases_of(conn, name).get(alias)
            ma = S.model_aliases
            if prev is not None:
                conn.execute(ma.delete().where(ma.c.name == name, ma.c.alias == alias))
            if version is not None:
                conn.execute(insert(ma).values(name=name, alias=alias, version=version, update_time=now))
            move = {
                "name": name,
                "alias": alias,
                "from_version": prev,
                "to_version": version,
                "reason": reason,
                "forced": forced,
                "actor": actor or _actor(),
                "time": now,
            }
            conn.execute(insert(S.alias_history).values(**move))
            return move

        return self.store.transact(tx)

    def alias_history(self, name: str, alias: str | None = None) -> list[dict[str, Any]]:
        ah = S.alias_history
        q = select(ah).where(ah.c.name == name).order_by(ah.c.id)
        if alias is not None:
            q = q.where(ah.c.alias == alias)
        with self.store.read() as conn:
            return [
                {
                    "name": r.name,
                    "alias": r.alias,
                    "from_version": r.from_version,
                    "to_version": r.to_version,
                    "reason": r.reason,
                    "forced": bool(r.forced),
                    "actor": r.actor,
                    "time": r.time,
                }
                for r in conn.execute(q).all()
            ]


    def record_verdict(
        self,
        name: str,
        version: int,
        verdict: str,
        *,
        failed: Sequence[str] = (),
        report: str | None = None,
        artifact_id: int | None = None,
    ) -> dict[str, Any]:
        """Keep an evaluation verdict of ``name@version`` (the latest one counts)."""

        def tx(conn: Connection) -> dict[str, Any]:
            exists = conn.execute(
                select(S.model_versions.c.id).where(S.model_versions.c.name == name, S.model_versions.c.version == version)
            ).first()
            if exists is None:
                raise NotFoundError(
                    what="model version", name=f"{name}@{version}", hint="list versions with `raymlops models list`"
                )
            row = {
                "name": name,
                "version": version,
                "verdict": verdict,
                "failed": _dumps(list(failed)),
                "report": report,
                "artifact_id": artifact_id,
                "time": time.time(),
            }
            conn.execute(insert(S.model_verdicts).values(**row))
            return {**row, "failed": list(failed)}

        return self.store.transact(tx)

    def latest_verdict(self, name: str, version: int) -> dict[str, Any] | None:
        """``{"verdict", "failed", "report", "artifact_id", "evaluated"}`` of the latest verdict, or None."""
        mv = S.model_verdicts
        q = select(mv).where(mv.c.name == name, mv.c.version == version).order_by(mv.c.id.desc()).limit(1)
        with self.store.read() as conn:
            r = conn.execute(q).first()
        if r is None:
            return None
        return {
            "verdict": r.verdict,
            "failed": json.loads(r.failed),
            "report": r.report,
            "artifact_id": r.artifact_id,
            "evaluated": r.time,
        }

    def update_metadata(self, name: str, version: int, changes: dict[str, Any]) -> dict[str, Any]:
        """Merge ``changes`` into a version's metadata (e.g. an attachment added later)."""
        mv = S.model_versions

        def tx(conn: Connection) -> dict[str, Any]:
            r = conn.execute(select(mv.c.metadata).where(mv.c.name == name, mv.c.version == version)).first()
            if r is None:
                raise NotFoundError(
                    what="model version", name=f"{name}@{version}", hint="list versions with `raymlops models list`"
                )
            merged = {**json.loads(r.metadata), **changes}
            conn.execute(mv.update().where(mv.c.name == name, mv.c.version == version).values(metadata=_dumps(merged)))
            return merged

        return self.store.transact(tx)


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        user = "unknown"
    return f"{user}@{os.uname().nodename}"


def _actor() -> str:
    try:
        user = getpass.getuser()
    except Exception:  # noqa: BLE001 - no user database in some containers
        user = "unknown"
    return f"{user}@{os.uname().nodename}"
