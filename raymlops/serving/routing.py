"""Traffic routing: which live version answers a request, and which version shadows it.

Ray Serve has no traffic splitting, so every ingress replica holds a :class:`RoutingTable`
(pushed by the rollout controller; newer tables have a higher ``revision``) and calls
:func:`route` for each request. The function is pure: the caller supplies the sticky key
(the value of the table's ``sticky_header``, e.g. ``x-user-id``) and a uniform random
number ``u`` in ``[0, 1)``, so a test can replay any decision.

Buckets. A key's bucket is BLAKE2b (RFC 7693, :func:`hashlib.blake2b`, 8-byte digest) of
the UTF-8 bytes ``salt + "\\x1f" + key``, read as a big-endian unsigned 64-bit integer
``h``, scaled to ``bucket = (h * 10000) >> 64``, a number in ``[0, 10000)`` (the salt may
not contain ``"\\x1f"``, so the message is unambiguous). The hash is the same in every
process and Python version, unlike ``hash()``. A request without a key uses
``u * 10000`` instead, so it is not sticky.

Splits. The table's routes are an ordered list of ``(version, percent)`` pairs (percents
in steps of 0.01, summing to 100; a route at 0 % is deployed and kept warm but gets no
traffic). Route ``i`` receives the positions in ``[c[i-1], c[i])`` where ``c`` is the
running sum of ``percent * 100``. A rollout lists the new version first, so a canary at
``P`` % gets exactly the buckets below ``P * 100``: the set of canary users at 5 % is a
subset of the set at 10 % and at 50 % (monotone bucketing), and a user never flips back
and forth while the canary grows. A different salt (the rollout uses ``NAME@VERSION`` of
the new version) gives an independent draw, so the same users are not always first.

Strategies. ``recreate``: one route. ``blue-green``: the active colour at 100 % and the
idle one at 0 % (or a schedule of percents); switching back is a new table.
``canary`` and ``ab``: two or more routes, sticky by key. ``shadow``: one route (the
primary answers every request). Any table may name a ``shadow`` version: a
``mirror_percent`` share of requests is also sent there, its answers never returned. The
mirror decision uses an independent hash (BLAKE2b personalised with ``b"mirror"``) of the
key, or without a key the fractional part of ``u * 10000``, so which requests are
mirrored is independent of which version answers them.

Example:
    >>> table = RoutingTable(model="iris", strategy="canary", routes=[(4, 10), (3, 90)], salt="iris@4")
    >>> bucket("user-7", "iris@4")
    7544
    >>> route(table, key="user-7", u=0.5)  # bucket 7544 is not below 10 * 100
    Decision(version=3, shadow=None)
    >>> route(table.replace(routes=[(4, 80), (3, 20)]), key="user-7", u=0.5)  # but below 80 * 100
    Decision(version=4, shadow=None)
    >>> route(table, key=None, u=0.05)  # no key: 10 % of requests by u
    Decision(version=4, shadow=None)
"""

from __future__ import annotations

import bisect
import hashlib
import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, NamedTuple

from raymlops.core.errors import InvalidInputError
from raymlops.core.names import NAME_RE
from raymlops.serving._checks import percent_cut, version
from raymlops.serving.strategies import BUCKETS, STRATEGIES, strategy_for

__all__ = [
    "BUCKETS",
    "DEFAULT_STICKY_HEADER",
    "STRATEGIES",
    "Decision",
    "Route",
    "RoutingTable",
    "bucket",
    "mirror_bucket",
    "route",
]

DEFAULT_STICKY_HEADER = "x-user-id"

_SEP = "\x1f"
_MIRROR_PERSON = b"mirror"
_HEADER_RE = re.compile(r"^[A-Za-z0-9!#$%&'*+.^_`|~-]{1,64}$")  # an HTTP header name (RFC 9110 token)
_TABLE_KEYS = frozenset(
    {"model", "strategy", "routes", "sticky_header", "shadow", "mirror_percent", "salt", "revision"}
)


class Route(NamedTuple):
    """One live version and its share of traffic in percent."""

    version: int
    percent: float


class Decision(NamedTuple):
    """Where one request goes: the answering ``version``, and a ``shadow`` version or None."""

    version: int
    shadow: int | None


def _digest(key: str, salt: str, person: bytes) -> int:
    msg = (salt + _SEP + key).encode("utf-8", "surrogatepass")
    return int.from_bytes(hashlib.blake2b(msg, digest_size=8, person=person).digest(), "big")


def bucket(key: str, salt: str = "") -> int:
    """The routing bucket of a sticky key, in ``[0, 10000)``.

    Args:
        key: the sticky key (e.g. a user id).
        salt: the table's salt.

    Returns:
        ``(blake2b(salt + "\\x1f" + key, 8 bytes) * 10000) >> 64``.

    Example:
        >>> import hashlib
        >>> h = int.from_bytes(hashlib.blake2b(b"s\\x1fu1", digest_size=8).digest(), "big")
        >>> bucket("u1", "s") == (h * 10_000) >> 64
        True
    """
    return (_digest(key, salt, b"") * BUCKETS) >> 64


def mirror_bucket(key: str, salt: str = "") -> int:
    """The shadow-mirroring bucket of a key: like :func:`bucket`, personalised with ``b"mirror"``."""
    return (_digest(key, salt, _MIRROR_PERSON) * BUCKETS) >> 64


def _routes(routes: Any) -> tuple[Route, ...]:
    if isinstance(routes, Mapping):
        items = list(routes.items())
    elif isinstance(routes, Sequence) and not isinstance(routes, (str, bytes)):
        items = list(routes)
    else:
        raise InvalidInputError(f"routes must be a list of (version, percent) pairs, got {routes!r}")
    out = []
    for item in items:
        if isinstance(item, Mapping):
            if set(item) != {"version", "percent"}:
                raise InvalidInputError(f"a route must have exactly 'version' and 'percent', got {dict(item)!r}")
            item = (item["version"], item["percent"])
        if not isinstance(item, Sequence) or isinstance(item, (str, bytes)) or len(item) != 2:
            raise InvalidInputError(f"a route must be a (version, percent) pair, got {item!r}")
        version_ = version(item[0], "a route's version")
        share = percent_cut(item[1], f"the percent of version {version_}") / 100
        out.append(Route(version_, share))
    return tuple(out)


@dataclass(frozen=True, kw_only=True)
class RoutingTable:
    """The traffic split of one model, pushed by the controller to every ingress replica.

    Args:
        model: the model name.
        strategy: the name of a registered strategy (:data:`~raymlops.serving.strategies.STRATEGIES`);
            a strategy whose tables have ``one_route`` (``recreate``, ``shadow``) allows one route.
        routes: ordered ``(version, percent)`` pairs (or a ``{version: percent}`` dict);
            percents have at most two decimals and sum to 100. A version at 0 % is
            deployed and warm but gets no traffic. Route ``i`` gets the hash buckets
            after those of routes ``0 .. i-1``, so list the new version first.
        sticky_header: the request header whose value is the sticky key (case-insensitive).
        shadow: a version that also receives a copy of mirrored requests, or None.
        mirror_percent: the share of requests mirrored to ``shadow`` (0 to 100).
        salt: mixed into the key hash; a new salt gives an independent assignment.
        revision: increases with every change; a replica ignores a table whose revision
            is not above the one it holds.

    Raises:
        InvalidInputError: on an invalid field, percents not summing to 100, a repeated
            version, a shadow that is also routed, more than one route for a strategy
            with ``one_route`` (``recreate``, ``shadow``).

    Example:
        >>> t = RoutingTable(model="iris", strategy="shadow", routes=[(3, 100)], shadow=4, mirror_percent=25)
        >>> t.deployed_versions, t.live_versions
        ((3, 4), (3,))
        >>> RoutingTable.from_dict(t.to_dict()) == t
        True
    """

    model: str
    strategy: str
    routes: tuple[Route, ...]
    sticky_header: str = DEFAULT_STICKY_HEADER
    shadow: int | None = None
    mirror_percent: float = 100.0
    salt: str = ""
    revision: int = 0
    _cuts: tuple[int, ...] = field(init=False, repr=False, compare=False)
    _mirror_cut: int = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if not isinstance(self.model, str) or not NAME_RE.match(self.model):
            raise InvalidInputError(
                f"invalid model name {self.model!r}: use letters, digits, '.', '_' or '-' (at most 64)"
            )
        strategy = strategy_for(self.strategy)
        routes = _routes(self.routes)
        if not routes:
            raise InvalidInputError("a routing table needs at least one route (version, percent)")
        versions = [r.version for r in routes]
        if len(set(versions)) != len(versions):
            raise InvalidInputError(f"each version may appear once in the routes, got versions {versions}")
        cuts, total = [], 0
        for r in routes:
            total += round(r.percent * 100)
            cuts.append(total)
        if total != BUCKETS:
            shares = ", ".join(f"v{r.version}: {r.percent:g}" for r in routes)
            raise InvalidInputError(f"route percents must sum to 100, got {total / 100:g} ({shares})")
        if strategy.one_route and len(routes) != 1:
            raise InvalidInputError(
                f"a {self.strategy} table routes every request to one version, got {len(routes)} routes"
            )
        if not isinstance(self.sticky_header, str) or not _HEADER_RE.match(self.sticky_header):
            raise InvalidInputError(f"sticky_header must be an HTTP header name, got {self.sticky_header!r}")
        if self.shadow is not None:
            version(self.shadow, "shadow")
            if self.shadow in versions:
                raise InvalidInputError(
                    f"shadow version {self.shadow} already answers traffic; mirror to a version that is not routed"
                )
        mirror_cut = percent_cut(self.mirror_percent, "mirror_percent")
        if not isinstance(self.salt, str) or _SEP in self.salt:
            raise InvalidInputError(f"salt must be a string without '\\x1f', got {self.salt!r}")
        if isinstance(self.revision, bool) or not isinstance(self.revision, int) or self.revision < 0:
            raise InvalidInputError(f"revision must be a non-negative integer, got {self.revision!r}")
        set_ = object.__setattr__
        set_(self, "routes", routes)
        set_(self, "sticky_header", self.sticky_header.lower())
        set_(self, "mirror_percent", mirror_cut / 100)
        set_(self, "_cuts", tuple(cuts))
        set_(self, "_mirror_cut", mirror_cut)

    # -- views
    @property
    def live_versions(self) -> tuple[int, ...]:
        """Versions that receive traffic (percent above 0), in route order."""
        return tuple(r.version for r in self.routes if r.percent > 0)

    @property
    def deployed_versions(self) -> tuple[int, ...]:
        """Every version that must be deployed: all routes (0 % too) and the shadow."""
        extra = () if self.shadow is None else (self.shadow,)
        return tuple(r.version for r in self.routes) + extra

    def percent_of(self, version: int) -> float:
        """The share of traffic of ``version`` in percent (0 when it is not routed)."""
        return next((r.percent for r in self.routes if r.version == version), 0.0)

    def sticky_key(self, headers: Mapping[str, str]) -> str | None:
        """The sticky key from request headers (case-insensitive name); None when absent or blank.

        Example:
            >>> RoutingTable(model="m", strategy="recreate", routes=[(1, 100)]).sticky_key({"X-User-Id": " u1 "})
            'u1'
        """
        want = self.sticky_header
        for name, value in headers.items():
            if isinstance(name, str) and name.lower() == want and isinstance(value, str):
                return value.strip() or None
        return None

    # -- changes and serialisation
    def replace(self, **changes: Any) -> RoutingTable:
        """A changed copy; its ``revision`` is one higher unless ``revision`` is given."""
        fields = self.to_dict()
        fields["routes"] = self.routes
        fields["revision"] = self.revision + 1
        fields.update(changes)
        return RoutingTable(**fields)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable dict (what the controller pushes to the replicas)."""
        return {
            "model": self.model,
            "strategy": self.strategy,
            "routes": [{"version": r.version, "percent": r.percent} for r in self.routes],
            "sticky_header": self.sticky_header,
            "shadow": self.shadow,
            "mirror_percent": self.mirror_percent,
            "salt": self.salt,
            "revision": self.revision,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> RoutingTable:
        """Rebuild a table from :meth:`to_dict` output.

        Raises:
            InvalidInputError: on missing or unknown keys, or invalid values.
        """
        if not isinstance(data, Mapping) or set(data) != _TABLE_KEYS:
            got = sorted(data) if isinstance(data, Mapping) else type(data).__name__
            raise InvalidInputError(f"a routing table dict has exactly the keys {sorted(_TABLE_KEYS)}, got {got}")
        return cls(**dict(data))


def route(table: RoutingTable, *, key: str | None, u: float) -> Decision:
    """Pick the version that answers a request, and whether it is mirrored to the shadow.

    Args:
        table: the current routing table.
        key: the sticky key (see :meth:`RoutingTable.sticky_key`); None or ``""`` routes
            by ``u`` alone.
        u: a uniform random number in ``[0, 1)`` drawn by the caller for this request.

    Returns:
        The :class:`Decision`.

    Raises:
        InvalidInputError: if ``u`` is not in ``[0, 1)``.
    """
    if isinstance(u, bool) or not isinstance(u, (int, float)) or not 0 <= u < 1:
        raise InvalidInputError(f"u must be a uniform random number in [0, 1), got {u!r}")
    scaled = u * BUCKETS
    position = bucket(key, table.salt) if key else scaled
    i = bisect.bisect_right(table._cuts, position)
    if i >= len(table.routes):  # only u * 10000 rounding up to 10000.0 gets here
        i = max(j for j, r in enumerate(table.routes) if r.percent > 0)
    shadow = None
    if table.shadow is not None and table._mirror_cut:
        m = mirror_bucket(key, table.salt) if key else math.modf(scaled)[0] * BUCKETS
        if m < table._mirror_cut:
            shadow = table.shadow
    return Decision(table.routes[i].version, shadow)
