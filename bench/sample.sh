#!/usr/bin/env bash
# Samples every fleetsim process (the run, its worker nodes and hub partitions) every INTERVAL seconds:
# RSS (VmRSS), CPU seconds so far (utime+stime), open files and threads, plus the load average.
# Usage: bench/sample.sh OUT.tsv [INTERVAL]   (stop it with Ctrl+C or kill; it never sends traffic)
set -u
out=${1:?usage: bench/sample.sh OUT.tsv [INTERVAL]}
interval=${2:-5}
tick=$(getconf CLK_TCK)
printf 'time\tpid\trole\trss_mb\tcpu_s\tfds\tthreads\tload1\n' >"$out"
while true; do
  now=$(date -u +%H:%M:%S)
  load=$(cut -d' ' -f1 /proc/loadavg)
  for p in $(pgrep -f 'FleetSim.Simulator|fleetsim' || true); do
    [ -r "/proc/$p/stat" ] || continue
    cmd=$(tr '\0' ' ' <"/proc/$p/cmdline" 2>/dev/null) || continue
    case "$cmd" in
      *" node "*) role=worker ;;
      *" hub-partition "*) role=partition ;;
      *" hub "*) role=hub ;;
      *" run "*) role=run ;;
      *) continue ;;
    esac
    rss=$(awk '/^VmRSS/ {printf "%.0f", $2/1024}' "/proc/$p/status" 2>/dev/null)
    cpu=$(awk -v t="$tick" '{printf "%.1f", ($14+$15)/t}' "/proc/$p/stat" 2>/dev/null)
    fds=$(ls "/proc/$p/fd" 2>/dev/null | wc -l)
    thr=$(awk '/^Threads/ {print $2}' "/proc/$p/status" 2>/dev/null)
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$now" "$p" "$role" "$rss" "$cpu" "$fds" "$thr" "$load" >>"$out"
  done
  sleep "$interval"
done
