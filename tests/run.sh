#!/usr/bin/env bash
# The whole suite, as `make test` runs it (about 12 minutes on 2 cores).
#
# Most cluster tests wait on Ray and subprocesses rather than compute, so the unit tests
# and the multi-node tests run alongside them; the serving tests, which assert latencies
# and failover within seconds, run last and alone. Each pytest process has its own Ray
# (a multi-node Cluster cannot share a process with an embedded Ray).
set -u
py="${1:-.venv/bin/python}"
log="$(mktemp)"
( "$py" -m pytest -q -p no:cacheprovider tests/unit raymlops && "$py" -m pytest -q -p no:cacheprovider tests/multinode ) >"$log" 2>&1 &
bg=$!
"$py" -m pytest -q tests/cluster --ignore=tests/cluster/test_serving.py; a=$?
wait "$bg"; b=$?
echo "== unit tests, doctests and multi-node tests (ran alongside):"
cat "$log"; rm -f "$log"
"$py" -m pytest -q tests/cluster/test_serving.py; c=$?
echo "== exit codes: cluster $a, unit+multinode $b, serving $c"
[ "$a" -eq 0 ] && [ "$b" -eq 0 ] && [ "$c" -eq 0 ]
