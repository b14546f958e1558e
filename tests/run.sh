#!/usr/bin/env bash
# The whole suite, as `make test` runs it (about 11 minutes on 2 cores).
#
# Most cluster tests wait on Ray and subprocesses rather than compute, so they run in two
# lanes side by side: (1) the unit tests, doctests, multi-node tests and the `ray start` +
# job-submission test, (2) the other cluster tests. The serving tests, which assert
# latencies and failover within seconds, run last and alone. Each pytest process has its
# own Ray (a multi-node Cluster cannot share a process with an embedded Ray); the
# job-submission test starts and stops its own `ray start --head` cluster.
set -u
py="${1:-.venv/bin/python}"
log="$(mktemp)"
(
  "$py" -m pytest -q -p no:cacheprovider tests/unit raymlops &&
    "$py" -m pytest -q -p no:cacheprovider tests/multinode &&
    "$py" -m pytest -q -p no:cacheprovider --durations=3 tests/cluster/test_ray_job.py
) >"$log" 2>&1 &
bg=$!
"$py" -m pytest -q --durations=8 tests/cluster --ignore=tests/cluster/test_serving.py --ignore=tests/cluster/test_ray_job.py; a=$?
wait "$bg"; b=$?
echo "== unit tests, doctests, multi-node tests and the job-submission test (ran alongside):"
cat "$log"; rm -f "$log"
"$py" -m pytest -q --durations=8 tests/cluster/test_serving.py; c=$?
echo "== exit codes: cluster $a, unit+multinode+job $b, serving $c"
[ "$a" -eq 0 ] && [ "$b" -eq 0 ] && [ "$c" -eq 0 ]
