"""Serving on Ray Serve: routing strategies, rollouts, gates, A/B statistics, the HTTP protocol.

The logic lives in pure modules (``routing``, ``rollout``, ``gates``, ``abtest``,
``protocol``, ``shadow``), unit-tested without Ray; the Serve ingress, deployments and the
rollout controller actor only move data into and out of them.
"""

from __future__ import annotations

__all__: list[str] = []
