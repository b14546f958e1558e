"""A pipeline: steps wired by the names of their inputs and outputs.

Nobody draws edges: a step that takes input ``train`` depends on the step that outputs
``train``. Building a :class:`Pipeline` checks the wiring once: every output has one
producer, every input has a producer, there is no cycle, every required parameter has a
value; each problem is one clear error that names the step and what to do.

Example:
    >>> from raymlops.pipelines.step import step
    >>> @step(outputs=["raw"])
    ... def load(ctx, path: str): ...
    >>> @step(inputs=["raw"], outputs=["clean"])
    ... def clean(ctx, raw): ...
    >>> @step(inputs=["clean"], outputs=["model"])
    ... def fit(ctx, clean, *, C: float = 1.0): ...
    >>> p = Pipeline("toy", [fit, clean, load])
    >>> p.order, p.parents("fit"), sorted(p.descendants("load"))
    (['load', 'clean', 'fit'], ['clean'], ['clean', 'fit'])
    >>> p.resolve_params({"path": "x.csv"})["fit"]
    {'C': 1.0}
    >>> Pipeline("bad", [fit])
    Traceback (most recent call last):
    ...
    raymlops.pipelines.step.StepDefinitionError: step 'fit' needs input 'clean' but no step of pipeline 'bad' outputs it (outputs: model); add the step that writes 'clean' or rewire the input with step.options(inputs={'clean': ...})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from raymlops.pipelines.step import Step, StepDefinitionError

__all__ = ["Pipeline"]


class Pipeline:
    """Steps and the DAG their inputs and outputs imply.

    Args:
        name: the pipeline's name (recorded with every run).
        steps: the steps, in any order.
        params: default values of run parameters (a run's parameters win).
        description: one line for people.

    Raises:
        StepDefinitionError: duplicate step names or outputs, a missing input, a cycle.
    """

    def __init__(self, name: str, steps: Sequence[Step], *, params: Mapping[str, Any] | None = None, description: str = ""):
        self.name = name
        self.description = description
        self.defaults = dict(params or {})
        self.steps: dict[str, Step] = {}
        for s in steps:
            if not isinstance(s, Step):
                raise StepDefinitionError(f"pipeline {name!r}: {s!r} is not a step; decorate the function with @step")
            if s.name in self.steps:
                raise StepDefinitionError(f"pipeline {name!r} has two steps named {s.name!r}; rename one with .options(name=...)")
            self.steps[s.name] = s
        self.producer: dict[str, tuple[str, str]] = {}  # output name -> (step, local output)
        for s in self.steps.values():
            for local in s.spec.outputs:
                out = s.output_name(local)
                if out in self.producer:
                    raise StepDefinitionError(
                        f"steps {self.producer[out][0]!r} and {s.name!r} both output {out!r}; "
                        "rename one with .options(outputs={...})"
                    )
                self.producer[out] = (s.name, local)
        self._parents: dict[str, list[str]] = {}
        for s in self.steps.values():
            ps: list[str] = []
            for param in s.spec.inputs:
                for out in _as_tuple(s.input_names(param)):
                    if out not in self.producer:
                        raise StepDefinitionError(
                            f"step {s.name!r} needs input {out!r} but no step of pipeline {name!r} outputs it "
                            f"(outputs: {', '.join(sorted(self.producer)) or 'none'}); add the step that writes {out!r} "
                            f"or rewire the input with step.options(inputs={{{param!r}: ...}})"
                        )
                    p = self.producer[out][0]
                    if p not in ps:
                        ps.append(p)
            self._parents[s.name] = ps
        self.order = self._topological()

    def _topological(self) -> list[str]:
        """Steps in dependency order, ties broken by declaration order; a cycle is an error."""
        order: list[str] = []
        state: dict[str, int] = {}  # 1 visiting, 2 done

        def visit(n: str, path: list[str]) -> None:
            if state.get(n) == 2:
                return
            if state.get(n) == 1:
                cycle = path[path.index(n) :] + [n]
                raise StepDefinitionError(
                    f"pipeline {self.name!r} has a cycle: {' -> '.join(cycle)}; a step cannot depend on its own outputs"
                )
            state[n] = 1
            for p in self._parents[n]:
                visit(p, path + [n])
            state[n] = 2
            order.append(n)

        for n in self.steps:
            visit(n, [])
        return order

    def parents(self, name: str) -> list[str]:
        return list(self._parents[name])

    def children(self, name: str) -> list[str]:
        return [n for n in self.order if name in self._parents[n]]

    def descendants(self, name: str) -> set[str]:
        out: set[str] = set()
        todo = [name]
        while todo:
            for c in self.children(todo.pop()):
                if c not in out:
                    out.add(c)
                    todo.append(c)
        return out

    def resolve_params(self, params: Mapping[str, Any] | None = None, *, strict: bool = True) -> dict[str, dict[str, Any]]:
        """Each step's parameter values: fixed by the step > run parameter > pipeline default > function default.

        Raises:
            StepDefinitionError: a required parameter has no value, or (``strict``) a run
                parameter no step takes.
        """
        given = {**self.defaults, **dict(params or {})}
        used: set[str] = set()
        out: dict[str, dict[str, Any]] = {}
        for n in self.order:
            s = self.steps[n]
            values = {}
            for p in (*s.required, *s.parameters):
                if p in s.params:
                    values[p] = s.params[p]
                elif p in given:
                    values[p] = given[p]
                    used.add(p)
                elif p in s.parameters:
                    values[p] = s.parameters[p]
                else:
                    raise StepDefinitionError(
                        f"step {n!r} of pipeline {self.name!r} needs parameter {p!r}; pass --param {p}=VALUE"
                    )
            out[n] = values
        unknown = set(dict(params or {})) - used
        if strict and unknown:
            takes = sorted({p for s in self.steps.values() for p in (*s.required, *s.parameters) if p not in s.params})
            raise StepDefinitionError(
                f"pipeline {self.name!r} takes no parameter(s) {sorted(unknown)}; it takes: {', '.join(takes) or 'none'}"
            )
        return out

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "steps": [
                {
                    "name": n,
                    "parents": self._parents[n],
                    "outputs": [self.steps[n].output_name(o) for o in self.steps[n].spec.outputs],
                    "deterministic": self.steps[n].spec.deterministic,
                }
                for n in self.order
            ],
        }

    def __repr__(self) -> str:
        return f"Pipeline({self.name!r}, steps={self.order})"


def _as_tuple(v: str | Sequence[str]) -> tuple[str, ...]:
    return (v,) if isinstance(v, str) else tuple(v)
