"""Triggers, the pure part: when should a pipeline run, and why.

Kinds (:class:`TriggerSpec`):

* ``every``: an interval (``--every 1h``);
* ``cron``: a five-field cron expression (``--cron "0 * * * *"``, UTC), parsed by
  :class:`CronSchedule` (written here: the five fields with ``*``, lists, ranges and
  steps are 80 lines, not worth a dependency);
* ``new_data``: a new or changed file in a watched folder or glob, counted once its size
  and mtime have held still for one poll (a file still being written does not fire);
* ``drift``: a new FIRING ``DriftAlert`` execution of a served model in the metadata
  store (the drift monitor records one per alert change; subjects ``dataset``,
  ``prediction`` and ``concept`` by default, ``feature`` to include single features).

Events accumulate as *pending* causes; :func:`due` fires once the cooldown since the
last firing has passed and fewer than ``max_concurrent`` of the trigger's runs are still
running, with every pending cause merged into one. So a storm of 50 alerts is one run
(and at most one more after the cooldown), not 50. The cause goes with the run and is
recorded with it.

Example:
    >>> spec = TriggerSpec(id="t1", pipeline="retrain", kind="drift", model="iris", cooldown_s=600)
    >>> st = TriggerState()
    >>> observe_alerts(spec, st, [{"id": 3, "subject": "dataset", "state": "FIRING"}], now=0.0)  # existing alerts: baseline
    >>> observe_alerts(spec, st, [{"id": 7, "subject": "dataset", "state": "FIRING"}, {"id": 8, "subject": "feature:x", "state": "FIRING"}], now=10.0)
    >>> due(spec, st, now=11.0, running=0)["alerts"]
    [7]
    >>> observe_alerts(spec, st, [{"id": 9, "subject": "concept", "state": "FIRING"}], now=12.0)
    >>> due(spec, st, now=13.0, running=0) is None, due(spec, st, now=700.0, running=0)["alerts"]
    (True, [9])
"""

from __future__ import annotations

import calendar
import datetime as dt
import glob
import os
import re
from collections.abc import Iterable, Mapping
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from raymlops.core.errors import InvalidInputError

__all__ = ["CronSchedule", "TriggerSpec", "TriggerState", "due", "list_files", "observe_alerts", "observe_files", "observe_schedule", "parse_every"]

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800}


def parse_every(text: str | float) -> float:
    """``90s``, ``15m``, ``1h``, ``2d``, ``1w`` (or a number of seconds) in seconds.

    >>> parse_every("1h"), parse_every("90s"), parse_every(30)
    (3600.0, 90.0, 30.0)
    """
    if isinstance(text, (int, float)):
        value = float(text)
    else:
        m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([smhdw]?)\s*", str(text))
        if not m:
            raise InvalidInputError(f"--every {text!r}: use a number and a unit, e.g. 90s, 15m, 1h, 2d")
        value = float(m.group(1)) * _UNITS[m.group(2) or "s"]
    if value <= 0:
        raise InvalidInputError(f"--every {text!r}: the interval must be above 0")
    return value


class CronSchedule:
    """A five-field cron expression (minute hour day-of-month month day-of-week), in UTC.

    As in cron, when both day fields are restricted a day matching either runs.

    >>> c = CronSchedule("*/15 9-17 * * mon-fri")
    >>> dt.datetime.fromtimestamp(c.next_after(calendar.timegm((2026, 12, 5, 12, 0, 0))), dt.timezone.utc).isoformat()
    '2026-12-07T09:00:00+00:00'
    """

    _RANGES = ((0, 59), (0, 23), (1, 31), (1, 12), (0, 6))
    _NAMES = (None, None, None, "jan feb mar apr may jun jul aug sep oct nov dec", "sun mon tue wed thu fri sat")

    def __init__(self, expr: str):
        self.expr = expr
        fields = expr.split()
        if len(fields) != 5:
            raise InvalidInputError(f"cron {expr!r}: use five fields: minute hour day-of-month month day-of-week")
        self.sets = [self._field(f, i) for i, f in enumerate(fields)]
        self.sets[4] = {0 if d == 7 else d for d in self.sets[4]}
        self.dom_any, self.dow_any = fields[2] == "*", fields[4] == "*"

    def _field(self, text: str, i: int) -> set[int]:
        lo, hi = self._RANGES[i]
        names = self._NAMES[i].split() if self._NAMES[i] else []
        hi_ok = 7 if i == 4 else hi

        def num(tok: str) -> int:
            t = tok.lower()
            if t in names:
                return names.index(t) + (1 if i == 3 else 0)
            if not t.isdigit() or not lo <= int(t) <= hi_ok:
                raise InvalidInputError(f"cron {self.expr!r}: {tok!r} is not a valid value ({lo}-{hi})")
            return int(t)

        out: set[int] = set()
        for part in text.split(","):
            rng, _, step = part.partition("/")
            stride = int(step) if step.isdigit() and int(step) > 0 else None
            if step and stride is None:
                raise InvalidInputError(f"cron {self.expr!r}: bad step in {part!r}")
            if rng == "*":
                a, b = lo, hi
            elif "-" in rng:
                a, b = (num(x) for x in rng.split("-", 1))
            else:
                a = b = num(rng)
                if stride:
                    b = hi
            if a > b:
                raise InvalidInputError(f"cron {self.expr!r}: range {rng!r} runs backwards")
            out.update(range(a, b + 1, stride or 1))
        return out

    def _day_ok(self, d: dt.datetime) -> bool:
        dom = d.day in self.sets[2]
        dow = (d.isoweekday() % 7) in self.sets[4]
        if self.dom_any or self.dow_any:
            return dom and dow
        return dom or dow

    def next_after(self, t: float) -> float:
        """The first matching minute strictly after ``t`` (epoch seconds)."""
        d = dt.datetime.fromtimestamp(t, dt.timezone.utc).replace(second=0, microsecond=0) + dt.timedelta(minutes=1)
        for _ in range(366 * 24 * 60 * 5):
            if d.month not in self.sets[3]:
                d = (d.replace(day=1, hour=0, minute=0) + dt.timedelta(days=32)).replace(day=1)
                continue
            if not self._day_ok(d):
                d = d.replace(hour=0, minute=0) + dt.timedelta(days=1)
                continue
            if d.hour not in self.sets[1]:
                d = d.replace(minute=0) + dt.timedelta(hours=1)
                continue
            if d.minute not in self.sets[0]:
                d += dt.timedelta(minutes=1)
                continue
            return calendar.timegm(d.timetuple())
        raise InvalidInputError(f"cron {self.expr!r} never matches")


class TriggerSpec(BaseModel):
    """One trigger: what starts which pipeline with which parameters (``extra="forbid"``)."""

    model_config = ConfigDict(extra="forbid")

    id: str
    pipeline: str
    kind: Literal["every", "cron", "new_data", "drift"]
    params: dict[str, Any] = Field(default_factory=dict)
    every_s: float | None = None
    cron: str | None = None
    path: str | None = None
    model: str | None = None
    subjects: list[str] = Field(default_factory=lambda: ["dataset", "prediction", "concept"])
    cooldown_s: float = Field(300.0, ge=0)
    max_concurrent: int = Field(1, ge=1)
    loop: str | None = None

    @model_validator(mode="after")
    def _kind_fields(self) -> TriggerSpec:
        need = {"every": "every_s", "cron": "cron", "new_data": "path", "drift": "model"}[self.kind]
        if getattr(self, need) in (None, ""):
            raise ValueError(f"a {self.kind} trigger needs {need}")
        if self.cron:
            CronSchedule(self.cron)
        return self


class TriggerState(BaseModel):
    """What a trigger remembers between ticks (checkpointed by the trigger actor)."""

    started: bool = False
    next_due: float | None = None
    last_alert_id: int = 0
    snapshot: dict[str, list[int]] = Field(default_factory=dict)
    settling: dict[str, list[int]] = Field(default_factory=dict)
    pending: list[dict[str, Any]] = Field(default_factory=list)
    last_fired: float | None = None
    fired: int = 0
    coalesced: int = 0


def observe_schedule(spec: TriggerSpec, st: TriggerState, now: float) -> None:
    """A pending cause when the interval or cron time has come."""
    nxt = (lambda t: t + float(spec.every_s)) if spec.kind == "every" else CronSchedule(spec.cron or "").next_after
    if st.next_due is None:
        st.next_due, st.started = nxt(now), True
        return
    if now >= st.next_due:
        st.pending.append({"kind": "schedule", "scheduled": st.next_due, "every_s": spec.every_s, "cron": spec.cron})
        st.next_due = nxt(now)


def list_files(path: str) -> dict[str, list[int]]:
    """``{file: [size, mtime_ns]}`` under a folder (recursively) or matching a glob."""
    if glob.has_magic(path):
        paths = [p for p in glob.glob(path, recursive=True) if os.path.isfile(p)]
    elif os.path.isdir(path):
        paths = [os.path.join(d, f) for d, _, fs in os.walk(path) for f in fs if not f.startswith((".", "_"))]
    else:
        paths = [path] if os.path.isfile(path) else []
    out = {}
    for p in paths:
        try:
            s = os.stat(p)
        except OSError:
            continue
        out[os.path.abspath(p)] = [s.st_size, s.st_mtime_ns]
    return out


def observe_files(spec: TriggerSpec, st: TriggerState, listing: Mapping[str, list[int]], now: float) -> None:
    """Pending causes for files new or changed since the last look that have settled."""
    if not st.started:
        st.snapshot, st.started = {k: list(v) for k, v in listing.items()}, True
        return
    landed = []
    for p, stat in listing.items():
        if st.snapshot.get(p) == list(stat):
            st.settling.pop(p, None)
            continue
        if st.settling.get(p) == list(stat):
            landed.append(p)
            st.snapshot[p] = list(stat)
            st.settling.pop(p)
        else:
            st.settling[p] = list(stat)
    if landed:
        st.pending.append({"kind": "new_data", "files": sorted(landed), "at": now})


def observe_alerts(spec: TriggerSpec, st: TriggerState, alerts: Iterable[Mapping[str, Any]], now: float) -> None:
    """Pending causes for new FIRING alerts of the watched subjects (the first look sets the baseline)."""
    alerts = sorted(alerts, key=lambda a: int(a["id"]))
    if not st.started:
        st.last_alert_id = max((int(a["id"]) for a in alerts), default=0)
        st.started = True
        return
    new = [a for a in alerts if int(a["id"]) > st.last_alert_id]
    if new:
        st.last_alert_id = int(new[-1]["id"])
    firing = [a for a in new if a.get("state") == "FIRING" and str(a.get("subject", "")).split(":")[0] in spec.subjects]
    if firing:
        st.pending.append({"kind": "drift", "model": spec.model, "alerts": [int(a["id"]) for a in firing], "subjects": sorted({str(a["subject"]) for a in firing}), "at": now})


def due(spec: TriggerSpec, st: TriggerState, *, now: float, running: int) -> dict[str, Any] | None:
    """The merged cause of a firing now, or None (nothing pending, cooling down, or at the cap)."""
    if not st.pending:
        return None
    if st.last_fired is not None and now - st.last_fired < spec.cooldown_s:
        return None
    if running >= spec.max_concurrent:
        return None
    events, st.pending = st.pending, []
    cause: dict[str, Any] = {"kind": events[0]["kind"], "trigger": spec.id, "at": now, "events": len(events)}
    if spec.loop:
        cause["loop"] = spec.loop
    for key in ("alerts", "files", "subjects"):
        merged = sorted({x for e in events for x in e.get(key, [])})
        if merged:
            cause[key] = merged
    for key in ("model", "scheduled", "every_s", "cron"):
        vals = [e[key] for e in events if e.get(key) is not None]
        if vals:
            cause[key] = vals[-1]
    st.last_fired, st.fired = now, st.fired + 1
    st.coalesced += len(events) - 1
    return cause
