#!/usr/bin/env bash
# The sampling half of profile-peer.sh: waits until generator PID has DEVICES sockets open (all connected), lets it
# settle 5 s, then records SECONDS of perf (all threads, kernel included), dotnet-counters and /proc per-thread
# snapshots into OUT. The generator should run with DOTNET_PerfMapEnabled=1 (profile-peer.sh sets it).
#
#   bench/profile/profile-pid.sh PID DEVICES SECONDS OUT
set -euo pipefail
pid=${1:?pid}
devices=${2:?devices}
seconds=${3:?seconds}
out=${4:?out dir}
here=$(cd "$(dirname "$0")" && pwd)
counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
mkdir -p "$out"
echo "generator pid $pid"
for _ in $(seq 1 600); do # connected: one socket per device
  kill -0 "$pid" 2>/dev/null || { echo "generator $pid ended" >&2; exit 3; }
  sockets=$(find /proc/$pid/fd -lname 'socket:*' 2>/dev/null | wc -l)
  (( sockets >= devices )) && break
  sleep 0.5
done
sleep 5 # past the first messages: the steady window
echo "load average at start of sampling: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
python3 "$here/threads.py" snapshot "$pid" >"$out/threads-before.json"
"$counters" collect -p "$pid" --counters System.Runtime --refresh-interval 1 --format csv -o "$out/counters.csv" --duration "00:00:$(printf %02d "$seconds")" >/dev/null 2>&1 &
counters_job=$!
perf record -e cpu-clock -F 999 -g -p "$pid" -o "$out/perf.data" -- sleep "$seconds" >/dev/null 2>"$out/perf-record.txt"
python3 "$here/threads.py" snapshot "$pid" >"$out/threads-after.json"
echo "load average at end of sampling: $(cat /proc/loadavg)" | tee -a "$out/load.txt"
wait $counters_job || true
perf script -i "$out/perf.data" -F comm,tid,period,ip,sym,dso 2>/dev/null >"$out/perf.txt"
# JIT-compiled code is double-mapped (W^X): keep the mmap events and the perf map to name it (perf-breakdown.py)
perf script -i "$out/perf.data" --show-mmap-events 2>/dev/null | grep 'PERF_RECORD_MMAP' >"$out/mmaps.txt" || true
cp "/tmp/perf-$pid.map" "$out/perf.map" 2>/dev/null || true
