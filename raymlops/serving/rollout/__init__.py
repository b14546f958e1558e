"""The rollout state machine: from one model version to another, gated on live metrics.

A :class:`RolloutPlan` says how (strategy, steps, bake time, gates); a :class:`Rollout`
holds where the rollout is and every decision taken, and gives the
:class:`~raymlops.serving.routing.RoutingTable` for its current state. It is pure: the
controller actor calls :meth:`Rollout.tick` every gate interval with the clock and the
:class:`~raymlops.serving.gates.GateVerdict` of the new version's stats, pushes
:meth:`Rollout.routing_table` to the ingress replicas when its ``revision`` changes,
and stores :meth:`Rollout.to_dict` in the metadata store.

States and transitions::

    PENDING --start--> RUNNING(step 0) --tick: bake passed, gates PASS--> RUNNING(step i+1)
    RUNNING(last step at 100 %) --tick: bake passed, gates PASS--> PROMOTED
    RUNNING(last step below 100 %, or shadow) --tick: bake passed, gates PASS--> HOLDING
    RUNNING | HOLDING --tick: gates FAIL (at once, even mid-bake)--> ROLLED_BACK
    RUNNING | HOLDING --set_percent--> HOLDING
    RUNNING | HOLDING --promote--> PROMOTED;  PENDING | RUNNING | HOLDING --rollback--> ROLLED_BACK

``tick`` waits (action ``hold``) while gates report INSUFFICIENT_DATA, while the step's
bake time has not passed, and in HOLDING. PROMOTED and ROLLED_BACK are final.

Every decision is a :class:`RolloutRecord` ``{time, step, percent, action, reason, state,
numbers}`` appended to :attr:`Rollout.history`; ``action`` is one of :data:`ACTIONS`
(``start``, ``ready``, ``advance``, ``hold``, ``promote``, ``rollback``,
``manual_promote``, ``manual_rollback``, ``set_percent``). A ``hold`` identical to the
previous record (same step, percent, state and reason) is returned but not appended
again, so a controller ticking every few seconds does not grow the history.

Strategies (:mod:`raymlops.serving.strategies`; ``percent`` is the new version's share
of traffic) are plug-ins, one file each; the plan names one and the rollout consults it
for its stages, routes, percents and words:

* ``recreate``: one step to 100 %; the old version leaves the table at once (the shell
  measures the downtime). A rollback routes everything back to the old version.
* ``blue-green``: the new version is deployed at 0 % and gets traffic only after
  :meth:`Rollout.mark_ready` (a ``ready_timeout_s`` without it rolls back); then all
  traffic (or a schedule of percents) moves to it while the old version stays deployed at
  0 %, warm, for an instant switch back. It is retired (leaves the table) when the bake of
  the final step ends and the rollout is promoted.
* ``canary``: steps such as 10, 50, 100 %, sticky by key with monotone buckets (see
  :mod:`raymlops.serving.routing`); the old version stays deployed until promotion.
* ``ab``: a fixed split (default 50 %), sticky by key, that HOLDs after its bake until an
  operator promotes or rolls back (decide with :mod:`raymlops.serving.abtest`); failing
  gates still roll back.
* ``shadow``: the old version answers everything; ``mirror_percent`` of requests are also
  sent to the new one. After the bake it HOLDs; promoting sends all traffic to the new
  version. ``set_percent`` changes the mirror share.

The package holds the plan (:mod:`~raymlops.serving.rollout.plan`), the records and
states (:mod:`~raymlops.serving.rollout.record`) and the state machine
(:mod:`~raymlops.serving.rollout.machine`).

Example:
    >>> from raymlops.serving.gates import GateStatus
    >>> plan = RolloutPlan(model="iris", strategy="canary", from_version=3, to_version=4, steps=[10, 100], bake_s=60)
    >>> r = Rollout(plan)
    >>> r.start(now=0).percent
    10.0
    >>> [(x.version, x.percent) for x in r.routing_table().routes]
    [(4, 10.0), (3, 90.0)]
    >>> r.tick(now=30, verdict=GateStatus.PASS).reason
    'baking step 1/2 at 10% for 60s; gates pass'
    >>> r.tick(now=60, verdict=GateStatus.PASS).action
    'advance'
    >>> rec = r.tick(now=70, verdict=GateStatus.FAIL)
    >>> rec.action, rec.state.value, r.routing_table().live_versions
    ('rollback', 'ROLLED_BACK', (3,))
"""

from __future__ import annotations

from raymlops.serving.rollout.machine import Rollout
from raymlops.serving.rollout.plan import RolloutPlan
from raymlops.serving.rollout.record import ACTIONS, RolloutRecord, RolloutState, RolloutStateError
from raymlops.serving.strategies import DEFAULT_STEPS

__all__ = [
    "ACTIONS",
    "DEFAULT_STEPS",
    "Rollout",
    "RolloutPlan",
    "RolloutRecord",
    "RolloutState",
    "RolloutStateError",
]
