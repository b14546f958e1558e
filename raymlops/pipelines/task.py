"""Running one step where it is scheduled (a Ray worker, or a thread in tests).

The step writes its outputs into a staging folder of its own; nothing it writes is
visible to anyone else until the driver publishes the folder (see
:mod:`raymlops.pipelines.run_state`). The worker hashes what was written (every output is
read once anyway), sets exactly the declared environment variables the key was computed
with, and reports the package versions it really ran with.

Example:
    >>> import tempfile
    >>> from raymlops.pipelines.step import step
    >>> @step(outputs=["greeting"])
    ... def hello(ctx, who: str):
    ...     (ctx.output("greeting") / "hello.txt").write_text(f"hello {who}")
    ...     return {"chars": 6 + len(who)}
    >>> out = execute(StepCall(step=hello, run_id="r1", params={"who": "ray"}, stage_dir=tempfile.mkdtemp()))
    >>> out["result"], out["outputs"]["greeting"]["files"][0][0], out["outputs"]["greeting"]["bytes"]
    ({'chars': 9}, 'hello.txt', 9)
"""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
import socket
import time
from typing import Any

from raymlops.core.errors import InvalidInputError
from raymlops.pipelines.cache_key import package_versions
from raymlops.pipelines.hashing import dir_digest, hash_file, list_files
from raymlops.pipelines.step import ArtifactRef, Step, StepContext

__all__ = ["StepCall", "StepOutputError", "execute"]


class StepOutputError(InvalidInputError):
    """A step did not write a declared output, or returned something that is not JSON."""

    code = "step_output"


@dataclasses.dataclass
class StepCall:
    """Everything a worker needs to run one step (it travels to the worker pickled)."""

    step: Step
    run_id: str
    params: dict[str, Any]
    stage_dir: str
    inputs: dict[str, ArtifactRef | list[ArtifactRef]] = dataclasses.field(default_factory=dict)
    env: dict[str, str | None] = dataclasses.field(default_factory=dict)
    packages: dict[str, str | None] = dataclasses.field(default_factory=dict)
    settings: dict[str, Any] | None = None


def execute(call: StepCall) -> dict[str, Any]:
    """Run the step, then hash its outputs; returns what the driver needs to publish them."""
    t0 = time.time()
    spec = call.step.spec
    shutil.rmtree(call.stage_dir, ignore_errors=True)  # a retried attempt starts clean
    os.makedirs(call.stage_dir)
    ctx = StepContext(run_id=call.run_id, step=call.step.name, stage_dir=call.stage_dir, outputs=spec.outputs, settings=call.settings)
    kwargs = {**call.params, **call.inputs}
    if call.step.takes_ctx:
        kwargs["ctx"] = ctx
    saved = {k: os.environ.get(k) for k in call.env}
    try:
        for k, v in call.env.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        result = call.step.fn(**kwargs)
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    if result is not None:
        try:
            result = json.loads(json.dumps(result, allow_nan=False))
        except (TypeError, ValueError) as exc:
            raise StepOutputError(f"step {call.step.name!r} returned a value that is not plain JSON ({exc}); return a small dict of numbers and strings, write data to an output") from None
    outputs = {}
    for local in spec.outputs:
        d = os.path.join(call.stage_dir, local)
        if not os.path.isdir(d):
            raise StepOutputError(
                f"step {call.step.name!r} did not write its output {local!r}: write files into the folder ctx.output({local!r})"
            )
        files = [[rel, hash_file(os.path.join(d, rel)), os.path.getsize(os.path.join(d, rel))] for rel in list_files(d)]
        outputs[local] = {"sha256": dir_digest((r, s) for r, s, _ in files), "files": files, "bytes": sum(f[2] for f in files)}
    worker_pkgs = package_versions(list(call.packages), fresh=True)
    mismatch = sorted(p for p in call.packages if worker_pkgs.get(p) != call.packages[p])
    return {
        "outputs": outputs,
        "result": result,
        "seconds": time.time() - t0,
        "host": socket.gethostname(),
        "pid": os.getpid(),
        "package_mismatch": [f"{p}: driver {call.packages[p]}, worker {worker_pkgs.get(p)}" for p in mismatch],
    }
