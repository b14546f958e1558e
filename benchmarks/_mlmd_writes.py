"""Baseline for bench_metadata.py: ML Metadata writing the same executions to SQLite.

Runs in a separate virtualenv (ml-metadata pins its own protobuf); prints one JSON line.
"""

import json
import sys
import tempfile
import time

from ml_metadata.metadata_store import metadata_store
from ml_metadata.proto import metadata_store_pb2 as pb

n = int(sys.argv[1]) if len(sys.argv) > 1 else 2000
cfg = pb.ConnectionConfig()
cfg.sqlite.filename_uri = tempfile.mkdtemp() + "/mlmd.db"
cfg.sqlite.connection_mode = 3  # READWRITE_OPENCREATE
store = metadata_store.MetadataStore(cfg)

at = pb.ArtifactType(name="Dataset")
at.properties["rows"] = pb.INT
at_id = store.put_artifact_type(at)
et = pb.ExecutionType(name="Step")
et.properties["i"] = pb.INT
et_id = store.put_execution_type(et)
ct_id = store.put_context_type(pb.ContextType(name="PipelineRun"))
ctx = pb.Context(type_id=ct_id, name="bench")
[ctx_id] = store.put_contexts([ctx])
ctx.id = ctx_id

t0 = time.perf_counter()
for i in range(n):
    ex = pb.Execution(type_id=et_id, last_known_state=pb.Execution.COMPLETE)
    ex.properties["i"].int_value = i
    a_in = pb.Artifact(type_id=at_id, uri=f"in/{i}")
    a_in.properties["rows"].int_value = i
    a_out = pb.Artifact(type_id=at_id, uri=f"out/{i}")
    a_out.properties["rows"].int_value = i
    store.put_execution(
        ex,
        artifact_and_events=[
            (a_in, pb.Event(type=pb.Event.INPUT)),
            (a_out, pb.Event(type=pb.Event.OUTPUT)),
        ],
        contexts=[ctx],
    )
dt = time.perf_counter() - t0
print(json.dumps({"executions": n, "seconds": dt, "per_s": n / dt}))
