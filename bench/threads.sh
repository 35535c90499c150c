#!/usr/bin/env bash
# Where a process's CPU and wake-ups go, by thread: reads /proc/PID/task/*/stat (utime, stime) and
# /proc/PID/task/*/status (voluntary and involuntary context switches) twice, SECONDS apart, and prints per thread
# name (threads of one name summed; the kernel keeps 15 characters of a name) CPU ms per second (user, system) and
# context switches per second. A voluntary switch is the thread going to sleep (waiting for work, a timer, a socket),
# so it counts wake-ups. Threads born or gone between the two reads count from 0 or are left out.
# Usage: bench/threads.sh PID [SECONDS]   (read only; it never signals the process)
set -u
pid=${1:?usage: bench/threads.sh PID [SECONDS]}
seconds=${2:-30}
tick=$(getconf CLK_TCK)
snap() {
  for t in /proc/"$pid"/task/*; do
    [ -r "$t/stat" ] || continue
    stat=$(cat "$t/stat" 2>/dev/null) || continue
    name=${stat#*(}; name=${name%)*}
    rest=${stat##*) }
    vol=$(awk '/^voluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)
    inv=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "$t/status" 2>/dev/null)
    # rest: field 3 onwards; utime is field 14 (rest[12]), stime field 15 (rest[13])
    set -- $rest
    printf '%s\t%s\t%s\t%s\t%s\n' "${t##*/}" "${name// /_}" "${12}" "${13}" "${vol:-0} ${inv:-0}"
  done
}
a=$(snap); load0=$(cut -d' ' -f1-3 /proc/loadavg)
sleep "$seconds"
b=$(snap); load1=$(cut -d' ' -f1-3 /proc/loadavg)
echo "pid $pid, $seconds s, load average $load0 -> $load1"
join -t $'\t' -a 2 -e 0 -o '2.2,1.3,1.4,1.5,2.3,2.4,2.5' <(echo "$a" | sort -k1,1) <(echo "$b" | sort -k1,1) |
  awk -F'\t' -v s="$seconds" -v t="$tick" '
    { split($4, v0, " "); split($7, v1, " ");
      n[$1]++; u[$1] += $5 - $2; k[$1] += $6 - $3; vc[$1] += v1[1] - v0[1]; ic[$1] += v1[2] - v0[2] }
    END {
      printf "%-16s %7s %10s %10s %12s %12s\n", "thread", "threads", "user ms/s", "sys ms/s", "vol. cs/s", "invol. cs/s"
      for (x in n) { tu += u[x]; tk += k[x]; tv += vc[x]; ti += ic[x]
        printf "%-16s %7d %10.2f %10.2f %12.1f %12.1f\n", x, n[x], u[x]*1000/t/s, k[x]*1000/t/s, vc[x]/s, ic[x]/s | "sort -k3,3nr -k5,5nr" }
      close("sort -k3,3nr -k5,5nr")
      printf "%-16s %7s %10.2f %10.2f %12.1f %12.1f\n", "total", "", tu*1000/t/s, tk*1000/t/s, tv/s, ti/s }'
