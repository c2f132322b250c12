#!/usr/bin/env bash
# The figures of durable work (issue 13) that BenchmarkDotNet does not give.
# 1. The latency probe (DurableLatencyProbe.cs): start to the work's first line, durable in process against Hangfire's
#    Enqueue picked up by a server, on a SQLite file and on PostgreSQL, jobs one after another. Three runs per storage:
#    the server in the enqueueing process (Hangfire's best case), the server in a second process (the usual web and
#    worker split), both with the 200 ms queue poll interval of the tests, and the second process again with the
#    storage's default interval (15 s for both storages; fewer jobs, as each waits seconds).
# 2. The hand-off throughput with two processes on PostgreSQL (A starts JOBS durable jobs whose in-process delivery fails
#    at once, so every one is handed off; B's Hangfire server, 10 workers, runs them all).
# It starts a throwaway PostgreSQL server (the Debian package, as the `postgres` user, on a loopback port, data under
# /tmp) as the tests do, and stops it at the end. Run from the repository root, as root:
#   bash tests/TaskSupervisor.Benchmarks/durable-figures.sh [LATENCY_JOBS=200] [HANDOFF_JOBS=1000] [DEFAULT_POLL_JOBS=20]
set -euo pipefail
latency_jobs=${1:-200}
handoff_jobs=${2:-1000}
default_poll_jobs=${3:-20}
root=$(pwd)
work=$(mktemp -d /tmp/task-supervisor-durable-figures-XXXXXX)
chmod 755 "$work"

dotnet build "$root/tests/TaskSupervisor.Benchmarks" -c Release -v q -nologo >/dev/null
dotnet build "$root/tests/TaskSupervisor.Hangfire.Worker" -c Release -v q -nologo >/dev/null
bench="$root/tests/TaskSupervisor.Benchmarks/bin/Release/net10.0/TaskSupervisor.Benchmarks.dll"
worker="$root/tests/TaskSupervisor.Hangfire.Worker/bin/Release/net10.0/TaskSupervisor.Hangfire.Worker.dll"

bash "$root/.ci/ensure-packages" postgresql
bin=$(ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)
data="$work/pg"
mkdir "$data" && chown postgres:postgres "$data"
port=$(( 20000 + RANDOM % 20000 ))
runuser -u postgres -- "$bin/initdb" -D "$data" -U postgres -A trust -E UTF8 --no-sync >/dev/null
runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
  -o "-p $port -k $data -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c synchronous_commit=off" start >/dev/null
pids=()
cleanup() {
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m immediate -w stop >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT
conn="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=50"

echo "## Latency: start to the work's first line (median, p95)"
echo "| Storage | Path | Median | p95 |"
echo "|---|---|---|---|"
dotnet "$bench" --durable-latency sqlite "$work/latency-same.db" "$latency_jobs" same 200
dotnet "$bench" --durable-latency sqlite "$work/latency-cross.db" "$latency_jobs" cross 200
dotnet "$bench" --durable-latency sqlite "$work/latency-default.db" "$default_poll_jobs" cross default
dotnet "$bench" --durable-latency pg "$conn" "$latency_jobs" same 200
dotnet "$bench" --durable-latency pg "$conn" "$latency_jobs" cross 200
dotnet "$bench" --durable-latency pg "$conn" "$default_poll_jobs" cross default

echo "## Hand-off throughput, two processes on PostgreSQL, $handoff_jobs jobs"
echo "# load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
mkdir "$work/results"
wait_line() { # file, prefix
  for _ in $(seq 1 6000); do grep -q "^$2" "$1" 2>/dev/null && return 0; sleep 0.05; done
  echo "timed out waiting for '$2' in $1" >&2; return 1
}
dotnet "$worker" pg "$conn" hf_handoff "$work/results" B workers=10 quiet=1 lease-ms=60000 >"$work/b.out" 2>&1 &
pids+=($!)
wait_line "$work/b.out" ready
dotnet "$worker" pg "$conn" hf_handoff "$work/results" A "produce=$handoff_jobs" handoff=1 server=0 concurrency=64 quiet=1 lease-ms=60000 >"$work/a.out" 2>&1 &
pids+=($!)
wait_line "$work/a.out" ready
start=$(date +%s.%N)
wait_line "$work/a.out" stored
stored=$(date +%s.%N)
for _ in $(seq 1 12000); do
  done_count=$(cat "$work"/results/B-*.log 2>/dev/null | grep -c '^done' || true)
  [ "$done_count" -ge "$handoff_jobs" ] && break
  sleep 0.05
done
end=$(date +%s.%N)
handed=$(cat "$work"/results/A-*.log | grep -c '^start' || true)
echo "A started $handed jobs in process (every one failed at once and was handed off); B ran $done_count of them"
awk -v s="$start" -v t="$stored" -v e="$end" -v n="$handoff_jobs" 'BEGIN {
  printf "| all %d starts returned in A | %.2f s |\n| the last job done in B | %.2f s |\n| jobs per second through the hand-off | %.0f |\n", n, t - s, e - s, n / (e - s) }'
echo "# load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
