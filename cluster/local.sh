#!/usr/bin/env bash
# A local Ray head for trying raymlops jobs the way a cluster runs them.
#
#   cluster/local.sh start            start a head (own port, temp dir, dashboard port)
#   cluster/local.sh submit [JOB.py] [ARGS]
#                                     submit a job (default jobs/train_baseline.py) and wait
#   cluster/local.sh stop             stop the head this script started (and nothing else)
#
# Settings (environment): RAY_PORT (6390), RAY_DASHBOARD_PORT (8270), RAY_CLIENT_PORT (23091),
# RAY_AGENT_PORT (52391),
# RAY_TMP (/tmp/raymlops-cluster), RAYMLOPS_HOME (./.raymlops), RAY_NUM_CPUS (2), RAY_START_ATTEMPTS (3).
# `ray start --head` turns token authentication on: clients need RAY_AUTH_MODE=token,
# which this script exports; the token itself is in ~/.ray/auth_token.
set -euo pipefail

here="$(cd "$(dirname "$0")/.." && pwd)"
venv_bin="${VENV_BIN:-$here/.venv/bin}"
export PATH="$venv_bin:$PATH"          # job entrypoints must find the venv's python
export RAY_AUTH_MODE=token
export RAY_USAGE_STATS_ENABLED=0
RAY_PORT="${RAY_PORT:-6390}"
RAY_DASHBOARD_PORT="${RAY_DASHBOARD_PORT:-8270}"
RAY_CLIENT_PORT="${RAY_CLIENT_PORT:-23091}"
RAY_AGENT_PORT="${RAY_AGENT_PORT:-52391}"
RAY_TMP="${RAY_TMP:-/tmp/raymlops-cluster}"
RAY_NUM_CPUS="${RAY_NUM_CPUS:-2}"
RAYMLOPS_HOME="$(mkdir -p "${RAYMLOPS_HOME:-$here/.raymlops}" && cd "${RAYMLOPS_HOME:-$here/.raymlops}" && pwd)"
export RAYMLOPS_HOME
pgid_file="$RAY_TMP/head.pgid"

start() {
  mkdir -p "$RAY_TMP"
  # `ray start` gives the raylet a fixed 30 s (not configurable in Ray 2.60) to register
  # with the GCS; on a busy machine it can miss that and the start fails with "timed out
  # during startup". That failure is retried (RAY_START_ATTEMPTS, default 3), any other is not.
  local attempt=1 attempts="${RAY_START_ATTEMPTS:-3}" pid
  while :; do
    # setsid: the head's processes share one new process group, which `stop` ends.
    setsid ray start --head --port "$RAY_PORT" --dashboard-port "$RAY_DASHBOARD_PORT" \
      --ray-client-server-port "$RAY_CLIENT_PORT" \
      --dashboard-agent-listen-port "$RAY_AGENT_PORT" --temp-dir "$RAY_TMP" --num-cpus "$RAY_NUM_CPUS" \
      --disable-usage-stats >"$RAY_TMP/start.log" 2>&1 &
    pid=$!
    echo "$pid" >"$pgid_file"
    wait "$pid" && break
    if [ "$attempt" -lt "$attempts" ] && grep -q "timed out during startup" "$RAY_TMP/start.log"; then
      echo "ray start timed out during startup (attempt $attempt of $attempts); retrying" >&2
      stop >/dev/null
      attempt=$((attempt + 1))
      continue
    fi
    cat "$RAY_TMP/start.log" >&2
    stop
    exit 1
  done
  echo "ray head on 127.0.0.1:$RAY_PORT, dashboard http://127.0.0.1:$RAY_DASHBOARD_PORT (process group $pid)"
}

submit() {
  local job="$here/jobs/train_baseline.py"
  if [[ "${1:-}" == *.py ]]; then job="$(cd "$(dirname "$1")" && pwd)/$(basename "$1")"; shift; fi
  ray job submit --address "http://127.0.0.1:$RAY_DASHBOARD_PORT" \
    --runtime-env-json "{\"env_vars\": {\"RAYMLOPS_HOME\": \"$RAYMLOPS_HOME\"}}" \
    -- python "$job" "$@"
}

stop() {
  [ -f "$pgid_file" ] || { echo "no head started from $RAY_TMP"; return 0; }
  local pgid
  pgid="$(cat "$pgid_file")"
  kill -TERM -- "-$pgid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    pgrep -g "$pgid" >/dev/null || break
    sleep 0.2
  done
  kill -KILL -- "-$pgid" 2>/dev/null || true
  rm -f "$pgid_file"
  echo "stopped the ray head of process group $pgid"
}

case "${1:-}" in
  start) start ;;
  submit) shift; submit "$@" ;;
  stop) stop ;;
  *) echo "usage: $0 start|submit [job args]|stop" >&2; exit 2 ;;
esac
