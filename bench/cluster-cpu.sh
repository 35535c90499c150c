#!/usr/bin/env bash
# CPU per connected device in a local cluster run (fleetsim run --nodes N): waits until every device is connected
# (the run's Prometheus gauge), lets it settle, then measures the worker processes' CPU (utime+stime) and the run
# process's (coordinator and embedded hub) over WINDOW seconds, and prints both per 1,000 devices with the load average.
# It starts the run itself and waits for it to end. bench/SCALE.md has the results.
# Usage: bench/cluster-cpu.sh 'COMMAND' DEVICES NODES WINDOW [fleetsim run options...]
#   COMMAND runs fleetsim, e.g. 'dotnet src/Simulator/bin/Release/net10.0/fleetsim.dll'
#   bench/cluster-cpu.sh 'dotnet src/Simulator/bin/Release/net10.0/fleetsim.dll' 2000 2 60 bench/cluster-2k.yaml
set -eu
command=${1:?usage: bench/cluster-cpu.sh COMMAND DEVICES NODES WINDOW SCENARIO [options]}
devices=$2 nodes=$3 window=$4
shift 4
tick=$(getconf CLK_TCK)
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
dir=$(mktemp -d /tmp/fleetsim-cluster-cpu-XXXXXX)
# shellcheck disable=SC2086
$command run "$@" --nodes "$nodes" --out "$dir/report" --quiet --prometheus-port "$port" >"$dir/run.log" 2>&1 &
run=$!
trap 'kill "$run" 2>/dev/null || true' INT TERM

connected() {
  curl -s --max-time 5 "http://127.0.0.1:$port/metrics" 2>/dev/null \
    | awk '/^fleetsim_gauge\{/ && /name="devices\.connected"/ {printf "%d", $NF; found=1} END {if (!found) printf "-1"}'
}
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
workers() { pgrep -P "$run" -f ' node ' || true; }

deadline=$((SECONDS + 900))
until [ "$(connected)" -ge "$devices" ]; do
  kill -0 "$run" 2>/dev/null || { echo "the run ended before all $devices devices connected"; cat "$dir/run.log"; exit 1; }
  [ "$SECONDS" -lt "$deadline" ] || { echo "not all $devices devices connected within 15 min"; exit 1; }
  sleep 1
done
sleep 15 # settle: the last connects' handshakes and first messages
load_start=$(cut -d' ' -f1-3 /proc/loadavg)
pids=$(workers)
start_workers=0
for p in $pids; do start_workers=$((start_workers + $(cpu_ticks "$p"))); done
start_run=$(cpu_ticks "$run")
start=$(date +%s.%N)
sleep "$window"
end=$(date +%s.%N)
end_workers=0
for p in $pids; do end_workers=$((end_workers + $(cpu_ticks "$p"))); done
end_run=$(cpu_ticks "$run")
still=$(connected)
load_end=$(cut -d' ' -f1-3 /proc/loadavg)
wait "$run" && code=0 || code=$?
python3 - "$tick" "$start" "$end" "$start_workers" "$end_workers" "$start_run" "$end_run" "$devices" "$still" "$code" "$load_start" "$load_end" "$dir" <<'EOF'
import sys
tick, t0, t1, w0, w1, r0, r1, devices, still, code = (float(x) for x in sys.argv[1:11])
seconds = t1 - t0
workers = (w1 - w0) / tick / seconds
run = (r1 - r0) / tick / seconds
per = devices / 1000
print(f"window {seconds:.0f} s, {devices:.0f} devices connected ({still:.0f} at the end), run exit code {code:.0f}")
print(f"workers: {workers:.3f} cores = {workers * 1000 / per:.1f} ms/s per 1,000 devices")
print(f"run process (coordinator + embedded hub): {run:.3f} cores = {run * 1000 / per:.1f} ms/s per 1,000 devices")
print(f"load average at start: {sys.argv[11]}; at end: {sys.argv[12]}; report and log: {sys.argv[13]}")
EOF
