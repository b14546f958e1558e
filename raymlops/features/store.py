"""The feature store: one object for apply, training sets, materialization and online reads.

Example:
    >>> import tempfile
    >>> from raymlops.features.sample import write_driver_repo
    >>> d = tempfile.mkdtemp()
    >>> paths = write_driver_repo(d, drivers=3, hours=2, trips=5)
    >>> fs = FeatureStore(paths["repo"], settings=Settings.resolve(home=d + "/home", env={}), online="memory://doc")
    >>> fs.apply()["version"], fs.apply()["changed"]
    (1, [])
    >>> fs.get_online_features({"driver_id": 1000}, features=["driver_daily:rating"]).to_dict()
    {'features': {'driver_daily__rating': None}, 'status': {'driver_daily__rating': 'NOT_FOUND'}}

The whole walk-through (``docs/features.md``), with Ray doing the reading::

    fs = FeatureStore("repo.yaml")
    fs.apply()                                                   # validate, record a version
    fs.get_historical_features("entities.parquet", service="driver_model", out="train.parquet")
    fs.materialize(end="2024-05-01T00:00:00")                    # or fs.materialize_incremental()
    fs.get_online_features([{"driver_id": 5}], service="driver_model").rows()
"""

from __future__ import annotations

import hashlib
import os
import time
import uuid
from functools import partial
from collections.abc import Mapping, Sequence
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from raymlops.core import coltypes
from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.data.artifacts import dataset_artifact
from raymlops.features.binding import ServiceBinding, check_columns
from raymlops.features.checks import check_files
from raymlops.features.local import LOCAL_BYTES, local_join, local_range_join, read_table
from raymlops.features.materialize import next_state, plan_window
from raymlops.features.online import OnlineRow, OnlineStore, encode_key, open_online_store
from raymlops.features.online_read import OnlineReader, OnlineResult
from raymlops.features.partition import CREATED, ORD, TS
from raymlops.features.plan import ViewSpec, Window, file_schema, files_of, view_specs
from raymlops.features.repo import Repository, load_repo
from raymlops.features.times import NAT, arrow_to_us, format_us, now_us, parse_duration, to_us
from raymlops.features.versions import applied_version, record_version
from raymlops.metadata import Artifact, Context, MetadataAPI, connect
from raymlops.registry import ModelRegistry

__all__ = ["ENGINES", "FeatureStore"]

ENGINES = ("ray", "local", "auto")
"""Where a training set is joined: Ray Data, this process, or whichever fits the input size."""


class FeatureStore:
    """A feature repository with its metadata store and online store.

    Args:
        repo: a :class:`Repository` or the path of its YAML file.
        settings: raymlops settings (store, home, Ray address).
        store: the metadata store (from ``settings`` by default).
        online: the online store or its URI (``sqlite``, ``redis://...``, ``memory://``).
        name: names a repository built in Python (a file's path names it otherwise).
    """

    def __init__(self, repo: Repository | str | os.PathLike[str], *, settings: Settings | None = None,
                 store: MetadataAPI | None = None, online: OnlineStore | str | None = None, name: str | None = None):
        self.repo = repo if isinstance(repo, Repository) else load_repo(repo)
        self.uri = f"file://{self.repo.origin}" if not isinstance(repo, Repository) else f"feature-repo://{name or 'default'}"
        self.settings = settings or Settings.resolve()
        self.store = store or connect(self.settings)
        self._online = online if isinstance(online, OnlineStore) else None
        self._online_uri = None if isinstance(online, OnlineStore) else online

    @property
    def online(self) -> OnlineStore:
        if self._online is None:
            self._online = open_online_store(self._online_uri, self.settings)
        return self._online

    # ------------------------------------------------------------------ definitions
    def apply(self) -> dict[str, Any]:
        """Check the definitions against the files; record a version if anything changed."""
        found = check_files(self.repo)
        return record_version(self.store, self.repo, self.uri, checked=found)

    def _version(self) -> Artifact:
        return applied_version(self.store, self.repo, self.uri)

    def _ray(self) -> None:
        from raymlops.core import runtime  # heavy (Ray, about 1 s): Ray starts only for work that reads data

        self.settings.ensure_home()
        runtime.init(self.settings)

    def _sources(self, specs: Sequence[ViewSpec]) -> dict[str, Artifact]:
        """A ``Dataset`` artifact per source read, with its content hash.

        Files are re-hashed only when their sizes or modification times changed since the
        artifact recorded for the same uri (git's stat cache); otherwise that artifact is reused.
        """
        out = {}
        for s in specs:
            src = self.repo.view(s.name).source
            if src in out:
                continue
            path = self.repo.source_path(src)
            if "://" in path:
                out[src] = Artifact(type="Dataset", uri=path, name=src)
                continue
            uri = f"file://{os.path.abspath(path)}"
            stat = _stat(s.files.paths)
            known = [a for a in self.store.get_artifacts(type="Dataset", uri=uri) if a.custom_properties.get("stat") == stat]
            if known:
                out[src] = known[-1]
                continue
            art = dataset_artifact(path, name=src)
            art.custom_properties["stat"] = stat
            same = [a for a in self.store.get_artifacts(type="Dataset", uri=art.uri) if a.sha256 == art.sha256]
            out[src] = same[-1] if same else art
        return out

    # ------------------------------------------------------------------ offline
    def get_historical_features(
        self,
        entities: Any = None,
        *,
        features: Sequence[str] | None = None,
        service: str | None = None,
        out: str,
        timestamp_col: str = "event_timestamp",
        start: Any = None,
        end: Any = None,
        partitions: int | None = None,
        broadcast_bytes: int | None = None,
        engine: str = "ray",
    ) -> dict[str, Any]:
        """Write a point-in-time-correct training set to ``out`` (Parquet) and record it.

        Every entity row is kept, in order: its columns (the timestamp as UTC), then one
        ``view__feature`` column per feature. Without ``entities``, the rows are every
        distinct (keys, event time) of the views between ``start`` and ``end``.

        Args:
            entities: a CSV/Parquet path, folder or glob, a DataFrame or an Arrow table.
            features: ``view:feature`` references (or ``service``).
            service: a feature service name.
            out: the Parquet file to write.
            timestamp_col: the entity rows' timestamp column.
            start, end: the time range when there is no entity table.
            partitions: shuffle partitions (default from the data size).
            broadcast_bytes: feature files up to this size are broadcast, not shuffled.
            engine: ``"ray"`` (default: Ray Data, broadcast or hash-partitioned),
                ``"local"`` (this process, no Ray: :mod:`raymlops.features.local`) or
                ``"auto"`` (local when the inputs total at most ``LOCAL_BYTES``).

        Returns:
            rows, columns, the output artifact id and the lineage it recorded.
        """
        if engine not in ENGINES:
            raise InvalidInputError(f"engine {engine!r}: use one of {', '.join(ENGINES)}")
        selection = self.repo.resolve(features, service=service)
        version = self._version()
        specs = view_specs(self.repo, selection)
        feature_cols = Repository.columns(selection)
        feature_bytes = sum(s.files.bytes for s in specs)
        inputs: dict[str, Artifact] = {"definitions": version}
        cleanup: list[str] = []
        if entities is None:
            if start is None and end is None:
                raise InvalidInputError("pass an entity table, or --start and --end to retrieve by time range")
            window = Window(start=to_us(start) if start is not None else None, end=to_us(end) if end is not None else None)
            keys = list(specs[0].join_keys)
            columns = {k: k for k in keys} | {TS: timestamp_col} | {c: c for c in feature_cols}
            schema = pa.schema([pa.field(k, t) for k, t in specs[0].join_keys.items()] + [pa.field(timestamp_col, pa.timestamp("us", "UTC"))]
                               + [pa.field(o, t) for s in specs for o, t in s.features.values()])
            if engine == "local" or (engine == "auto" and feature_bytes <= LOCAL_BYTES):
                path = "local"
                write = partial(_write_local, partial(local_range_join, specs, start=window.start, end=window.end, timestamp_col=timestamp_col), out, schema)
            else:
                from raymlops.features import ray_ops  # heavy (Ray Data, about 1 s): the Ray shell, only for the Ray paths

                self._ray()
                ds = ray_ops.range_join(specs, window, partitions=partitions)
                write = partial(ray_ops.write_ordered, ds, out, columns, [TS] + keys, schema)
                path = "shuffle"
        else:
            all_keys = list(dict.fromkeys(k for s in specs for k in s.join_keys))
            if isinstance(entities, (pd.DataFrame, pa.Table)):
                table = pa.Table.from_pandas(entities, preserve_index=False) if isinstance(entities, pd.DataFrame) else entities
                staged = self.settings.home / "features" / "entities" / f"{uuid.uuid4().hex}.parquet"
                staged.parent.mkdir(parents=True, exist_ok=True)
                pq.write_table(table, staged)  # tasks on any node read the rows from the file
                cleanup.append(str(staged))
                entities = str(staged)
            files = files_of(os.fspath(entities))
            raw = file_schema(files)
            if timestamp_col not in raw.names:
                raise InvalidInputError(f"{entities} has no timestamp column {timestamp_col!r} (it has {', '.join(raw.names)}); pass --timestamp-col")
            layout = pa.schema([pa.field(ORD, pa.int64()), pa.field(TS, pa.timestamp("us", "UTC"))] + [f for f in raw if f.name != timestamp_col])
            _check_entity_keys(layout, specs)
            names, entity_bytes = raw.names, files.bytes
            if not cleanup:
                inputs["entities"] = dataset_artifact(files.uri if os.path.exists(files.uri) else files.paths[0], name="entities")
            columns = {(TS if c == timestamp_col else c): c for c in names} | {c: c for c in feature_cols}
            types = {f.name: f.type for f in layout} | {o: t for s in specs for o, t in s.features.values()}
            schema = pa.schema([pa.field(out_name, types[c]) for c, out_name in columns.items()])
            local = engine == "local" or (engine == "auto" and feature_bytes + entity_bytes <= LOCAL_BYTES)
            if not local:
                # heavy (Ray Data, about 1 s): the Ray shell is imported only for the Ray paths
                from raymlops.features import ray_ops
                from raymlops.features.ray_read import entity_reader, read_entities  # heavy: Ray Data, as above

                self._ray()
                full = read_entities(files, layout, timestamp_col)
                lean = (files, entity_reader(files, layout, timestamp_col, keys=all_keys))
                bb = ray_ops.BROADCAST_BYTES if broadcast_bytes is None else broadcast_bytes
            if local:
                path = "local"
                write = partial(_write_local, lambda: local_join(specs, read_table(files), timestamp_col), out, schema)
            elif feature_bytes <= bb:
                path, ds = "broadcast", ray_ops.broadcast_join(specs, full)
                write = partial(ray_ops.write_ordered, ds, out, columns, [], schema)
            else:
                path, results = "shuffle", ray_ops.partitioned_join(specs, lean, entity_bytes=entity_bytes, partitions=partitions)
                write = partial(ray_ops.write_merged, full, results, out, columns, schema)
        sources = self._sources(specs)
        inputs |= {f"source:{k}": v for k, v in sources.items()}
        try:
            rows = write()
        finally:
            for path_ in cleanup:
                os.remove(path_)
        cols = [{"name": f.name, "type": coltypes.from_arrow(f.type) or "string"} for f in schema]
        art = dataset_artifact(out, name=os.path.basename(out), rows=rows, columns=cols, properties={
            "definition_version": version.properties["version"],
            "features": [f"{v}:{f}" for v, fs in selection.items() for f in fs],
            "sources": {k: v.sha256 for k, v in sources.items()},
            "join": path,
        })
        with self.store.run_execution("GetHistoricalFeatures", inputs=inputs, contexts=[Context(type="FeatureRepository", name=self.uri)]) as step:
            step.add_output(art, role="training_set")
        return {"out": os.path.abspath(out), "rows": rows, "columns": [c["name"] for c in cols], "artifact_id": art.id,
                "definition_version": version.properties["version"], "sources": {k: v.sha256 for k, v in sources.items()}, "join": path}

    # ------------------------------------------------------------------ online
    def materialize(self, *, end: Any = None, start: Any = None, views: Sequence[str] | None = None,
                    incremental: bool = False, lookback: Any = "1h") -> dict[str, Any]:
        """Load each view's newest row per key (event time up to ``end``) into the online store.

        Incremental runs read only new rows, late ones included (see
        :mod:`raymlops.features.materialize`). Returns per view: rows read and written,
        the window, and the freshness after the run.
        """
        from raymlops.features import ray_ops  # heavy (Ray Data, about 1 s): the Ray shell, only when there is data to read

        version = self._version()
        end_us = to_us(end) if end is not None else now_us()
        start_us = to_us(start) if start is not None else None
        lookback_s = parse_duration(lookback) or 0
        names = list(views) if views else [v.name for v in self.repo.feature_views]
        selection = {n: self.repo.view(n).feature_names for n in names}
        specs = view_specs(self.repo, selection)
        sources = self._sources(specs)
        self._ray()
        report = {}
        for spec in specs:
            t0 = time.perf_counter()
            state = self.online.get_state(spec.name)
            window, why = plan_window(state, end_us=end_us, start_us=start_us, incremental=incremental,
                                      lookback_s=lookback_s, has_created=spec.created_column is not None)
            read = written = 0
            newest = newest_created = None
            for batch in ray_ops.latest_rows(spec, window):
                rows = _online_rows(batch, spec)
                read += len(rows)
                written += self.online.write(spec.name, rows)
                ev = arrow_to_us(batch.column(TS))
                newest = max(newest or NAT, int(ev.max()))
                if spec.created_column:
                    cr = arrow_to_us(batch.column(CREATED))
                    newest_created = max(newest_created or NAT, int(cr.max()))
            key_types = {k: coltypes.from_arrow(t) for k, t in spec.join_keys.items()}
            state = next_state(state, window, end_us=end_us, newest_event_us=newest, newest_created_us=newest_created,
                               rows=read, written=written, now_us=now_us(), key_types=key_types,
                               definition_version=version.properties["version"])
            self.online.set_state(spec.name, state)
            seconds = time.perf_counter() - t0
            out_art = Artifact(type="OnlineFeatures", uri=f"{self.online.uri}#{spec.name}", name=spec.name,
                               properties={"rows_read": read, "rows_written": written, "end": format_us(end_us)})
            src = sources[self.repo.view(spec.name).source]
            with self.store.run_execution("MaterializeFeatures", name=spec.name, inputs={"definitions": version, "source": src},
                                          contexts=[Context(type="FeatureRepository", name=self.uri)]) as step:
                step.add_output(out_art, role="online")
            report[spec.name] = {"rows_read": read, "rows_written": written, "seconds": round(seconds, 3), "window": why,
                                 "end": format_us(end_us), "newest_event": format_us(state["newest_event_us"]),
                                 "freshness_s": _freshness(state)}
        return {"online": self.online.uri, "definition_version": version.properties["version"], "views": report}

    def materialize_incremental(self, *, end: Any = None, lookback: Any = "1h") -> dict[str, Any]:
        """:meth:`materialize` with ``incremental=True``."""
        return self.materialize(end=end, incremental=True, lookback=lookback)

    def get_online_features(self, entity_rows: Mapping[str, Any] | Sequence[Mapping[str, Any]], *,
                            features: Sequence[str] | None = None, service: str | None = None, now: Any = None) -> OnlineResult:
        """Online values of the features for each entity row, with statuses; TTL enforced at ``now``."""
        rows = [entity_rows] if isinstance(entity_rows, Mapping) else list(entity_rows)
        selection = self.repo.resolve(features, service=service)
        return self.reader(selection)(rows, now_us=to_us(now) if now is not None else None)

    def reader(self, selection: Mapping[str, Sequence[str]]) -> OnlineReader:
        """A fast reader for a fixed selection: ``reader(entity_rows, now_us=None) -> OnlineResult``.

        Raises:
            RepositoryChangedError: the definitions are not the applied version.
        """
        self._version()
        keys = {v: self.repo.join_keys(v) for v in selection}
        ttls = {v: self.repo.view(v).ttl_seconds for v in selection}
        return OnlineReader(self.online, selection, keys, ttls)

    def bind_model(self, ref: str, *, service: str, registry: ModelRegistry | None = None) -> ServiceBinding:
        """Serve the model version ``ref`` by entity key with the feature service ``service``.

        Attaches a :class:`~raymlops.features.binding.ServiceBinding` (the service's
        features, join keys, TTLs and this store's online URI) to the version in the
        registry; its model servers then join the online features into every request.

        Raises:
            RepositoryChangedError: the definitions are not the applied version.
            InvalidInputError: an unknown service, or a model that takes none of its features.
        """
        version = self._version()
        selection = self.repo.resolve(service=service)
        binding = ServiceBinding(
            repo=self.uri, definition_version=version.properties["version"], service=service, selection=selection,
            join_keys={v: self.repo.join_keys(v) for v in selection}, ttls={v: self.repo.view(v).ttl_seconds for v in selection},
            online=self.online.uri,
        )
        registry = registry or ModelRegistry.connect(self.settings)
        rec = registry.get(ref)
        exact = f"{rec['name']}@{rec['version']}"
        check_columns(binding, [i["name"] for i in rec["signature"].get("inputs", [])], model=exact)
        registry.attach(exact, binding.to_attachment())
        return binding

    def status(self) -> list[dict[str, Any]]:
        """Per view: online rows, newest event, freshness (now − newest event), last materialization."""
        self._version()
        out = []
        for view in self.repo.feature_views:
            state = self.online.get_state(view.name) or {}
            last = state.get("last_run") or {}
            out.append({
                "view": view.name, "online_rows": self.online.count(view.name),
                "newest_event": format_us(state.get("newest_event_us")), "freshness_s": _freshness(state),
                "ttl": view.to_dict()["ttl"], "last_materialization": format_us(last.get("at_us")),
                "materialized_to": format_us(last.get("end_us")), "rows_written": last.get("rows_written"),
            })
        return out


def _write_local(join: Any, out: str, schema: pa.Schema) -> int:
    """Join in this process and write ``out`` (through a temporary name); the rows written."""
    table = join().select(schema.names).cast(schema)
    tmp = f"{out}.tmp-{os.getpid()}"
    os.makedirs(os.path.dirname(os.path.abspath(out)) or ".", exist_ok=True)
    pq.write_table(table, tmp)
    os.replace(tmp, out)
    return table.num_rows


def _stat(paths: Sequence[str]) -> str:
    """Sizes and modification times of files: a cheap fingerprint that says when to re-hash."""
    h = hashlib.sha256()
    for p in sorted(paths):
        st = os.stat(p)
        h.update(f"{p}\0{st.st_size}\0{st.st_mtime_ns}\n".encode())
    return h.hexdigest()


def _freshness(state: dict[str, Any]) -> float | None:
    newest = state.get("newest_event_us")
    return None if newest is None else round((now_us() - newest) / 1e6, 3)


def _check_entity_keys(layout: pa.Schema, specs: Sequence[ViewSpec]) -> None:
    for s in specs:
        for k, t in s.join_keys.items():
            if k not in layout.names:
                raise InvalidInputError(f"the entity rows have no column {k!r}, a join key of feature view {s.name!r}")
            have, want = coltypes.from_arrow(layout.field(k).type), coltypes.from_arrow(t)
            if have is not None and have != want:
                raise InvalidInputError(f"join key {k!r} is {have} in the entity rows but {want} in the source of feature view {s.name!r}; write it as {want}")


def _online_rows(batch: pa.Table, spec: ViewSpec) -> dict[str, OnlineRow]:
    keys = [batch.column(k).to_pylist() for k in spec.join_keys]
    ev = arrow_to_us(batch.column(TS))
    cr = arrow_to_us(batch.column(CREATED)) if spec.created_column else None
    pos = batch.column(ORD).to_numpy()
    values = {}
    for src, (col, t) in spec.features.items():
        c = batch.column(col)
        values[src] = arrow_to_us(c).tolist() if pa.types.is_timestamp(t) else c.to_pylist()
    names = list(values)
    cols = [values[n] for n in names]
    out = {}
    for i, key in enumerate(zip(*keys)):
        out[encode_key(key)] = OnlineRow(event_us=int(ev[i]), created_us=int(cr[i]) if cr is not None else NAT, pos=int(pos[i]),
                                         values={n: c[i] for n, c in zip(names, cols)})
    return out
