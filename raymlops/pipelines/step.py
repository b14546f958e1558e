"""Steps: plain Python functions with declared inputs, outputs, resources and cache rules.

A step reads its inputs (the outputs of other steps, as :class:`ArtifactRef` folders),
its ``files`` (paths outside the pipeline, hashed by content) and its parameters, and
writes each declared output into the folder ``ctx.output(name)`` gives it. The
pipeline wires steps by these names (:mod:`raymlops.pipelines.dag`); a step's cache key
(:mod:`raymlops.pipelines.cache_key`) covers its code, parameters, input contents,
declared environment variables and declared package versions.

Example:
    >>> @step(inputs=["numbers"], outputs=["total"], resources={"num_cpus": 0.5})
    ... def add(ctx, numbers, *, offset: int = 0):
    ...     '''Sum the numbers file.'''
    ...     return {"offset": offset}
    >>> add.name, add.spec.inputs, add.spec.outputs, add.parameters
    ('add', ('numbers',), ('total',), {'offset': 0})
    >>> b = add.options(name="add2", params={"offset": 3}, inputs={"numbers": "other"})
    >>> b.name, b.params, b.input_map, add.params
    ('add2', {'offset': 3}, {'numbers': 'other'}, {})
"""

from __future__ import annotations

import dataclasses
import inspect
import json
import os
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from raymlops.core.config import Settings
from raymlops.core.errors import InvalidInputError
from raymlops.core.names import NAME_RE
from raymlops.metadata import MetadataAPI, connect

__all__ = ["ArtifactRef", "Step", "StepContext", "StepSpec", "StepDefinitionError", "step"]

_RESOURCE_KEYS = ("num_cpus", "num_gpus", "memory", "resources")
_MISSING = inspect.Parameter.empty


class StepDefinitionError(InvalidInputError):
    """A step or a pipeline is defined wrongly (bad name, unknown input, cycle, ...)."""

    code = "pipeline_definition"


@dataclasses.dataclass(frozen=True)
class StepSpec:
    """What a step declares (validated by :func:`step`).

    Attributes:
        inputs: parameters bound to other steps' outputs (an :class:`ArtifactRef` each,
            or a list of them when bound to several outputs).
        outputs: the folders the step writes (``ctx.output(name)``).
        files: parameters holding paths outside the pipeline; their content is hashed.
        resources: Ray task options (``num_cpus``, ``num_gpus``, ``memory``, ``resources``).
        deterministic: False: never cached (it reads a clock, a random source, a service).
        cache_ttl: seconds a cached result stays reusable (None: forever).
        env: environment variables the step reads (their values are in the key, and the
            step sees exactly those values).
        packages: distributions whose installed versions are in the key.
        retries: how often Ray retries a failed task.
    """

    inputs: tuple[str, ...] = ()
    outputs: tuple[str, ...] = ()
    files: tuple[str, ...] = ()
    resources: tuple[tuple[str, Any], ...] = ()
    deterministic: bool = True
    cache_ttl: float | None = None
    env: tuple[str, ...] = ()
    packages: tuple[str, ...] = ()
    retries: int = 0
    output_types: tuple[tuple[str, str], ...] = ()

    @property
    def resource_options(self) -> dict[str, Any]:
        return dict(self.resources)

    def output_type(self, local: str) -> str:
        return dict(self.output_types).get(local, "PipelineArtifact")


def _names(value: Iterable[str] | str | None, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        value = [value]
    out = tuple(value)
    for v in out:
        if not isinstance(v, str) or not v.isidentifier():
            raise StepDefinitionError(f"{what} {v!r} is not a Python identifier")
    if len(set(out)) != len(out):
        raise StepDefinitionError(f"{what} lists a name twice: {list(out)}")
    return out


class Step:
    """A step function plus how a pipeline binds it (name, parameters, input wiring).

    Build with :func:`step`; change a copy with :meth:`options`. Calling a step calls the
    function itself (handy in tests).
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        spec: StepSpec,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        input_map: Mapping[str, str | Sequence[str]] | None = None,
        output_map: Mapping[str, str] | None = None,
    ):
        self.fn = fn
        self.spec = spec
        self.name = name or fn.__name__
        if not NAME_RE.match(self.name.replace("[", "-").replace("]", "")):
            raise StepDefinitionError(f"invalid step name {self.name!r}: use letters, digits, '.', '_', '-' and [ ]")
        sig = inspect.signature(fn)
        self.takes_ctx = "ctx" in sig.parameters
        self.parameters: dict[str, Any] = {}
        self.required: tuple[str, ...] = ()
        required = []
        for p in sig.parameters.values():
            if p.name == "ctx" or p.name in spec.inputs:
                continue
            if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                raise StepDefinitionError(f"step {self.name!r}: *args/**kwargs are not allowed; name every parameter")
            if p.default is _MISSING:
                required.append(p.name)
            else:
                self.parameters[p.name] = p.default
        self.required = tuple(required)
        for what, names in (("input", spec.inputs), ("file", spec.files)):
            for n in names:
                if n not in sig.parameters:
                    raise StepDefinitionError(f"step {self.name!r} declares {what} {n!r} but the function has no parameter {n!r}")
        self.params = dict(params or {})
        unknown = set(self.params) - set(self.parameters) - set(self.required)
        if unknown:
            raise StepDefinitionError(
                f"step {self.name!r} has no parameter(s) {sorted(unknown)}; it takes {sorted(set(self.parameters) | set(self.required))}"
            )
        self.input_map = {k: (v if isinstance(v, str) else tuple(v)) for k, v in (input_map or {}).items()}
        for k in self.input_map:
            if k not in spec.inputs:
                raise StepDefinitionError(f"step {self.name!r} has no input {k!r}; its inputs are {list(spec.inputs)}")
        self.output_map = dict(output_map or {})
        for k in self.output_map:
            if k not in spec.outputs:
                raise StepDefinitionError(f"step {self.name!r} has no output {k!r}; its outputs are {list(spec.outputs)}")

    # ------------------------------------------------------------------ binding
    def options(
        self,
        *,
        name: str | None = None,
        params: Mapping[str, Any] | None = None,
        inputs: Mapping[str, str | Sequence[str]] | None = None,
        outputs: Mapping[str, str] | None = None,
        **spec_changes: Any,
    ) -> Step:
        """A copy with a new name, more fixed parameters, rewired inputs or renamed outputs.

        Args:
            name: the step's name in the pipeline.
            params: parameter values fixed for this step (they win over run parameters).
            inputs: ``{input: output name or list of output names}``.
            outputs: ``{declared output: name in the pipeline}``.
            spec_changes: :class:`StepSpec` fields to change (``resources``, ``cache_ttl``, ...).
        """
        spec = self.spec
        if spec_changes:
            spec = _make_spec(**{**_spec_kwargs(spec), **spec_changes})
        return Step(
            self.fn,
            spec,
            name=name or self.name,
            params={**self.params, **(params or {})},
            input_map={**self.input_map, **(inputs or {})},
            output_map={**self.output_map, **(outputs or {})},
        )

    def input_names(self, param: str) -> str | tuple[str, ...]:
        """The pipeline output name(s) an input parameter is bound to."""
        return self.input_map.get(param, param)

    def output_name(self, local: str) -> str:
        return self.output_map.get(local, local)

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.fn(*args, **kwargs)

    def __repr__(self) -> str:
        return f"Step({self.name!r}, inputs={list(self.spec.inputs)}, outputs={list(self.spec.outputs)})"

    def __reduce__(self):
        return (_rebuild, (self.fn, self.spec, self.name, self.params, self.input_map, self.output_map))


def _rebuild(fn, spec, name, params, input_map, output_map) -> Step:
    return Step(fn, spec, name=name, params=params, input_map=input_map, output_map=output_map)


def _spec_kwargs(spec: StepSpec) -> dict[str, Any]:
    d = {f.name: getattr(spec, f.name) for f in dataclasses.fields(spec)}
    d["resources"] = dict(spec.resources)
    d["outputs"] = dict(spec.output_types) if spec.output_types else list(spec.outputs)
    d.pop("output_types")
    return d


def _make_spec(
    *,
    inputs: Iterable[str] | str | None = None,
    outputs: Iterable[str] | Mapping[str, str] | str | None = None,
    files: Iterable[str] | str | None = None,
    resources: Mapping[str, Any] | None = None,
    deterministic: bool = True,
    cache_ttl: float | None = None,
    env: Iterable[str] | str | None = None,
    packages: Iterable[str] | str | None = None,
    retries: int = 0,
) -> StepSpec:
    types: tuple[tuple[str, str], ...] = ()
    if isinstance(outputs, Mapping):
        types = tuple((k, str(v)) for k, v in outputs.items())
        outputs = list(outputs)
    res = dict(resources or {})
    bad = set(res) - set(_RESOURCE_KEYS)
    if bad:
        raise StepDefinitionError(f"unknown resource option(s) {sorted(bad)}: use {', '.join(_RESOURCE_KEYS)}")
    if cache_ttl is not None and not (isinstance(cache_ttl, (int, float)) and cache_ttl > 0):
        raise StepDefinitionError(f"cache_ttl must be a number of seconds above 0, got {cache_ttl!r}")
    if not isinstance(deterministic, bool):
        raise StepDefinitionError(f"deterministic must be True or False, got {deterministic!r}")
    env_names = tuple(env) if isinstance(env, (list, tuple)) else ((env,) if env else ())
    pkgs = tuple(packages) if isinstance(packages, (list, tuple)) else ((packages,) if packages else ())
    spec = StepSpec(
        inputs=_names(inputs, "input"),
        outputs=_names(outputs, "output"),
        files=_names(files, "file"),
        resources=tuple(sorted(res.items())),
        deterministic=deterministic,
        cache_ttl=None if cache_ttl is None else float(cache_ttl),
        env=tuple(sorted(set(env_names))),
        packages=tuple(sorted(set(pkgs))),
        retries=int(retries),
        output_types=types,
    )
    both = set(spec.inputs) & set(spec.files)
    if both:
        raise StepDefinitionError(f"{sorted(both)} cannot be both an input and a file")
    return spec


def step(
    fn: Callable[..., Any] | None = None,
    *,
    name: str | None = None,
    inputs: Iterable[str] | str | None = None,
    outputs: Iterable[str] | Mapping[str, str] | str | None = None,
    files: Iterable[str] | str | None = None,
    resources: Mapping[str, Any] | None = None,
    deterministic: bool = True,
    cache_ttl: float | None = None,
    env: Iterable[str] | str | None = None,
    packages: Iterable[str] | str | None = None,
    retries: int = 0,
) -> Any:
    """Make a function a pipeline step (usable as ``@step`` or ``@step(...)``).

    The function may take ``ctx`` (a :class:`StepContext`); the other parameters are its
    inputs, files and parameters. It may return a small JSON-able dict: the step's result,
    kept with its execution and returned again on a cache hit.

    Args:
        outputs: output names, or ``{name: artifact type}`` (``Dataset``, ``Model``, ...).
        Other arguments: see :class:`StepSpec`.

    Raises:
        StepDefinitionError: a declared name is not a parameter, or a bad option.
    """

    def wrap(f: Callable[..., Any]) -> Step:
        spec = _make_spec(
            inputs=inputs, outputs=outputs, files=files, resources=resources, deterministic=deterministic,
            cache_ttl=cache_ttl, env=env, packages=packages, retries=retries,
        )  # fmt: skip
        return Step(f, spec, name=name)

    return wrap(fn) if fn is not None else wrap


@dataclasses.dataclass(frozen=True)
class ArtifactRef:
    """An input artifact as a step sees it: a read-only folder, addressed by its content.

    ``os.fspath(ref)`` is the folder, so ``pd.read_parquet(ref)`` works.
    """

    name: str
    path: str
    sha256: str
    artifact_id: int | None = None
    type: str = "PipelineArtifact"

    def __fspath__(self) -> str:
        return self.path

    def __truediv__(self, other: str) -> Path:
        return Path(self.path) / other

    def files(self) -> list[str]:
        """Every file under the folder, sorted, relative to it."""
        out = []
        for d, _, fs in os.walk(self.path):
            out += [os.path.relpath(os.path.join(d, f), self.path) for f in fs]
        return sorted(out)

    def file(self, name: str | None = None) -> str:
        """The path of ``name`` in the folder, or of its only file."""
        if name is not None:
            return os.path.join(self.path, name)
        files = self.files()
        if len(files) != 1:
            raise InvalidInputError(f"artifact {self.name!r} holds {len(files)} files; name the one you want")
        return os.path.join(self.path, files[0])

    def read_json(self, name: str) -> Any:
        with open(os.path.join(self.path, name)) as f:
            return json.load(f)


class StepContext:
    """What a running step gets as ``ctx``: where to write its outputs, its run, settings."""

    def __init__(self, *, run_id: str, step: str, stage_dir: str, outputs: Sequence[str], settings: dict[str, Any] | None = None):
        self.run_id = run_id
        self.step = step
        self.stage_dir = stage_dir
        self._outputs = tuple(outputs)
        self._settings = settings

    @property
    def settings(self) -> Settings:
        return Settings(**self._settings) if self._settings else Settings.resolve()

    def output(self, name: str) -> Path:
        """The (new, empty) folder for output ``name``; write the output's files into it."""
        if name not in self._outputs:
            raise InvalidInputError(f"step {self.step!r} declares no output {name!r}; its outputs are {list(self._outputs)}")
        p = Path(self.stage_dir) / name
        p.mkdir(parents=True, exist_ok=True)
        return p

    def store(self) -> MetadataAPI:
        """The metadata store (through the store actor inside Ray workers)."""
        return connect(self.settings)
