"""Lineage queries against a brute-force walk on generated DAGs."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from raymlops.metadata import Artifact, Execution, MetadataStore
from raymlops.metadata.lineage import node_key


def brute_force(edges: list[tuple[str, str, str]], start: str, direction: str, hops: int):
    """Reachable nodes and walked edges by repeated relaxation over the full edge list."""
    if direction == "both":
        n1, e1 = brute_force(edges, start, "up", hops)
        n2, e2 = brute_force(edges, start, "down", hops)
        return n1 | n2, e1 | e2
    dist = {start: 0}
    walked = set()
    for h in range(1, hops + 1):
        for s, t, ty in edges:
            frm, to = (t, s) if direction == "up" else (s, t)
            if dist.get(frm) == h - 1:
                walked.add((s, t, ty))
                dist.setdefault(to, h)
    return set(dist), walked


@st.composite
def dags(draw):
    n_sources = draw(st.integers(1, 4))
    n_exec = draw(st.integers(0, 12))
    artifacts = list(range(n_sources))
    plan = []
    for _ in range(n_exec):
        k = draw(st.integers(0, min(3, len(artifacts))))
        ins = draw(st.lists(st.sampled_from(artifacts), min_size=k, max_size=k, unique=True)) if k else []
        n_out = draw(st.integers(0, 3))
        outs = list(range(len(artifacts), len(artifacts) + n_out))
        artifacts.extend(outs)
        plan.append((ins, outs))
    return len(artifacts), plan


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(dag=dags(), data=st.data())
def test_lineage_equals_brute_force_bfs(dag, data):
    n_art, plan = dag
    store = MetadataStore("sqlite://")
    arts = [Artifact(type="D", uri=f"a{i}") for i in range(n_art)]
    for a in arts[: n_art - sum(len(o) for _, o in plan)]:
        store.put_artifact(a)
    edges = []
    for ins, outs in plan:
        ex = store.put_execution(
            Execution(type="E", state="COMPLETE"), inputs=[arts[i] for i in ins], outputs=[arts[i] for i in outs]
        )
        e = f"execution:{ex.id}"
        edges += [(f"artifact:{arts[i].id}", e, "INPUT") for i in ins]
        edges += [(e, f"artifact:{arts[i].id}", "OUTPUT") for i in outs]
    nodes = [("artifact", a.id) for a in arts] + [("execution", i + 1) for i in range(len(plan))]
    start = data.draw(st.sampled_from(nodes))
    direction = data.draw(st.sampled_from(["up", "down", "both"]))
    hops = data.draw(st.integers(0, 8))

    graph = store.lineage(start, direction=direction, hops=hops)
    want_nodes, want_edges = brute_force(edges, node_key(start), direction, hops)
    assert set(graph.nodes) == want_nodes
    assert graph.edges == want_edges
    store.close()


def test_lineage_graph_json_shape(store):
    raw = Artifact(type="Dataset", uri="file:///raw.csv")
    model = Artifact(type="Model", uri="file:///m.pkl")
    ex = store.put_execution(Execution(type="Train", state="COMPLETE"), inputs=[raw], outputs=[model])
    d = store.lineage(("artifact", model.id), direction="up", hops=5).to_dict()
    kinds = {n["id"]: (n["kind"], n["type"], n["uri"]) for n in d["nodes"]}
    assert kinds == {
        f"artifact:{raw.id}": ("artifact", "Dataset", "file:///raw.csv"),
        f"artifact:{model.id}": ("artifact", "Model", "file:///m.pkl"),
        f"execution:{ex.id}": ("execution", "Train", None),
    }
    assert d["edges"] == [
        {"source": f"artifact:{raw.id}", "target": f"execution:{ex.id}", "type": "INPUT"},
        {"source": f"execution:{ex.id}", "target": f"artifact:{model.id}", "type": "OUTPUT"},
    ]
