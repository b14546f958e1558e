#!/usr/bin/env bash
# The whole suite, as `make test` runs it.
#
# Most cluster tests wait on Ray and subprocesses rather than compute, so they run in three
# lanes side by side: (1) the unit tests, doctests, multi-node tests and the `ray start` +
# job-submission test, (2) the cluster tests of the newer packages (labeling, pipelines,
# features), (3) the other cluster tests (the demo among them). The serving tests, which
# assert latencies and failover within seconds, run last and alone. Each pytest process
# has its own Ray (a multi-node Cluster cannot share a process with an embedded Ray); the
# job-submission test starts and stops its own `ray start --head` cluster.
set -u
py="${1:-.venv/bin/python}"
log_a="$(mktemp)"
log_b="$(mktemp)"
(
  "$py" -m pytest -q -p no:cacheprovider tests/unit raymlops &&
    "$py" -m pytest -q -p no:cacheprovider tests/multinode &&
    "$py" -m pytest -q -p no:cacheprovider --durations=3 tests/cluster/test_ray_job.py
) >"$log_a" 2>&1 &
bg_a=$!
newer=()
for d in features labeling pipelines; do
  [ -d "tests/cluster/$d" ] && newer+=("tests/cluster/$d")
done
"$py" -m pytest -q -p no:cacheprovider --durations=5 "${newer[@]}" >"$log_b" 2>&1 &
bg_b=$!
# the demo first: the longest test, done before the other lanes reach their heaviest tests
others=(tests/cluster/test_demo.py)
for f in tests/cluster/test_*.py; do
  case "$f" in tests/cluster/test_demo.py | tests/cluster/test_serving.py | tests/cluster/test_ray_job.py) ;; *) others+=("$f") ;; esac
done
"$py" -m pytest -q --durations=8 "${others[@]}"; c=$?
wait "$bg_a"; a=$?
wait "$bg_b"; b=$?
echo "== unit tests, doctests, multi-node tests and the job-submission test (ran alongside):"
cat "$log_a"; rm -f "$log_a"
echo "== cluster tests of labeling, pipelines and features (ran alongside):"
cat "$log_b"; rm -f "$log_b"
"$py" -m pytest -q --durations=8 tests/cluster/test_serving.py; s=$?
echo "== exit codes: unit+multinode+job $a, labeling/pipelines/features $b, other cluster $c, serving $s"
[ "$a" -eq 0 ] && [ "$b" -eq 0 ] && [ "$c" -eq 0 ] && [ "$s" -eq 0 ]
