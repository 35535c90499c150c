#!/usr/bin/env bash
# Where a peer generator's CPU goes (bench/README.md, "peer", "Where the CPU per message goes"): runs the peer benchmark
# for one generator kind and, in its steady window, samples the generator child process with perf (all threads,
# kernel included), dotnet-counters (GC, allocation, thread pool) and /proc per-thread CPU and context switches.
#
#   bench/profile/profile-peer.sh fleetsim|raw [devices=1000] [profiled seconds=20] [out dir]
#
# Needs: a Release build of bench/FleetSim.Bench, perf (root), dotnet-counters on PATH or in ~/.dotnet/tools.
# The generator runs with DOTNET_PerfMapEnabled=1 (perf names JIT-compiled methods; precompiled framework code is
# named by its assembly) and DOTNET_GCName=libclrgcexp.so (the regions GC as its own library, so perf can tell GC
# time from the rest of the stripped runtime). FLEETSIM_PROFILE_ENV adds more (e.g. "DOTNET_ReadyToRun=0" to name
# framework methods too, at the cost of a long JIT warm-up). The shares are what this says; the absolute CPU is the
# peer benchmark's (run without them).
set -euo pipefail
kind=${1:?fleetsim or raw}
devices=${2:-1000}
seconds=${3:-20}
out=${4:-/tmp/fleetsim-profile-$kind}
here=$(cd "$(dirname "$0")" && pwd)
root=${FLEETSIM_ROOT:-$(cd "$here/../.." && pwd)} # FLEETSIM_ROOT: profile the build of another checkout
dll=$root/bench/FleetSim.Bench/bin/Release/net10.0/FleetSim.Bench.dll
counters=$(command -v dotnet-counters || echo "$HOME/.dotnet/tools/dotnet-counters")
[[ -f $dll ]] || { echo "build first: dotnet build -c Release bench/FleetSim.Bench" >&2; exit 2; }
[[ $kind == fleetsim || $kind == raw ]] || { echo "kind must be fleetsim or raw (found '$kind')" >&2; exit 2; }
mkdir -p "$out"
match="peer-gen $kind"
[[ $kind == raw ]] && match="peer-gen raw .*--mode aligned"

echo "load average at start: $(cat /proc/loadavg)" | tee "$out/load.txt"
env DOTNET_PerfMapEnabled=1 DOTNET_GCName=libclrgcexp.so ${FLEETSIM_PROFILE_ENV:-} \
  dotnet "$dll" peer --devices "$devices" --seconds $((seconds + 20)) --only "$kind" --no-node --no-connect >"$out/peer.txt" 2>&1 &
bench=$!

pid=""
for _ in $(seq 1 1200); do # the build of src/Simulator and the hub's start come first: up to 10 minutes
  pid=$(pgrep -P $bench -f -- "$match" | head -1 || true) # this benchmark's child (other peer runs may be going on)
  [[ -n $pid ]] && break
  kill -0 $bench 2>/dev/null || { echo "the benchmark ended before the generator started; see $out/peer.txt" >&2; exit 3; }
  sleep 0.5
done
[[ -n $pid ]] || { echo "no generator process after 10 minutes" >&2; exit 3; }
"$here/profile-pid.sh" "$pid" "$devices" "$seconds" "$out"
wait $bench || true
python3 "$here/threads.py" diff "$out/threads-before.json" "$out/threads-after.json" "$seconds" "$devices" | tee "$out/threads.md"
python3 "$here/counters.py" "$out/counters.csv" "$devices" | tee "$out/counters.md"
python3 "$here/perf-breakdown.py" "$out/perf.txt" "$out/mmaps.txt" "$out/perf.map" | tee "$out/breakdown.md"
