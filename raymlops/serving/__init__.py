"""Serving on Ray Serve: routing, rollout strategies and rollouts, gates, A/B statistics, the HTTP protocol.

The logic lives in pure modules, unit-tested without Ray: :mod:`~raymlops.serving.routing`
(routing tables and decisions), :mod:`~raymlops.serving.strategies` (recreate,
blue-green, canary, A/B and shadow, one plug-in each), :mod:`~raymlops.serving.rollout`
(plans and the state machine), :mod:`~raymlops.serving.gates`,
:mod:`~raymlops.serving.abtest`, :mod:`~raymlops.serving.protocol`,
:mod:`~raymlops.serving.shadow`, :mod:`~raymlops.serving.manager`. The Ray shell only
moves data into and out of them, in files named for what they are: the ingress
deployment (:mod:`~raymlops.serving.ingress_deployment`), the model-server deployment
(:mod:`~raymlops.serving.server_deployment`), the controller actor
(:mod:`~raymlops.serving.controller_actor`) and the app builder
(:mod:`~raymlops.serving.app`, ``raymlops.serving.app:build_app``).

Example:
    >>> from raymlops.serving import ErrorRateGate, Rollout, RolloutPlan
    >>> plan = RolloutPlan(model="iris", strategy="canary", from_version=1, to_version=2,
    ...                    steps=[25, 100], bake_s=60, gates=[ErrorRateGate(max_rate=0.01)])
    >>> r = Rollout(plan)
    >>> r.start(now=0).reason
    'version 2 gets 25% of traffic'
    >>> [(x.version, x.percent) for x in r.routing_table().routes]
    [(2, 25.0), (1, 75.0)]
"""

from __future__ import annotations

from typing import Any

from raymlops.serving.abtest import two_proportion_ztest, welch_ttest
from raymlops.serving.controller_actor import get_controller
from raymlops.serving.gates import (
    GATE_TYPES,
    AccuracyGate,
    DriftGate,
    ErrorRateGate,
    Gate,
    GateCheck,
    GateStatus,
    GateVerdict,
    LatencyGate,
    ShadowAgreementGate,
    VersionStats,
    evaluate_gates,
    gate_from_dict,
)
from raymlops.serving.manager import RolloutManager
from raymlops.serving.protocol import (
    ClientError,
    InvalidInstancesError,
    InvalidRequestError,
    MalformedRequestError,
    ModelNotServedError,
    PayloadTooLargeError,
    SignatureError,
    UnauthorizedError,
)
from raymlops.serving.rollout import Rollout, RolloutPlan, RolloutRecord, RolloutState, RolloutStateError
from raymlops.serving.routing import Decision, RoutingTable, route
from raymlops.serving.shadow import ShadowComparator
from raymlops.serving.strategies import STRATEGIES, RolloutStrategy, register_strategy

__all__ = [
    "GATE_TYPES",
    "STRATEGIES",
    "AccuracyGate",
    "ClientError",
    "Decision",
    "DriftGate",
    "ErrorRateGate",
    "Gate",
    "GateCheck",
    "GateStatus",
    "GateVerdict",
    "InvalidInstancesError",
    "InvalidRequestError",
    "LatencyGate",
    "MalformedRequestError",
    "ModelNotServedError",
    "PayloadTooLargeError",
    "Rollout",
    "RolloutManager",
    "RolloutPlan",
    "RolloutRecord",
    "RolloutState",
    "RolloutStateError",
    "RolloutStrategy",
    "RoutingTable",
    "ShadowAgreementGate",
    "ShadowComparator",
    "SignatureError",
    "UnauthorizedError",
    "VersionStats",
    "build_app",
    "deploy",
    "evaluate_gates",
    "gate_from_dict",
    "get_controller",
    "register_strategy",
    "route",
    "two_proportion_ztest",
    "welch_ttest",
]

_APP_BUILDER = ("build_app", "deploy")


def __getattr__(name: str) -> Any:
    """``build_app`` and ``deploy``, from the app builder on first use."""
    if name in _APP_BUILDER:
        from raymlops.serving import app  # heavy (Ray Serve and FastAPI, about 1 s): only deploying needs them

        return getattr(app, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
