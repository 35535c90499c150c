#!/usr/bin/env python3
"""Per-thread CPU (user/system) and context switches of a process from /proc, and the difference of two snapshots.

  threads.py snapshot PID > before.json
  threads.py diff before.json after.json SECONDS DEVICES   (a Markdown table; one message per device per second)
"""
import json
import os
import re
import sys

TICK_MS = 1000.0 / os.sysconf("SC_CLK_TCK")


def stat_times(path):
    text = open(path).read()
    fields = text[text.rindex(")") + 2:].split()
    return int(fields[11]), int(fields[12])  # utime, stime (fields 14 and 15 of stat)


def snapshot(pid):
    threads = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            base = f"/proc/{pid}/task/{tid}"
            comm = open(f"{base}/comm").read().strip()
            utime, stime = stat_times(f"{base}/stat")
            status = open(f"{base}/status").read()
            vol = int(re.search(r"^voluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
            invol = int(re.search(r"^nonvoluntary_ctxt_switches:\s+(\d+)", status, re.M).group(1))
            threads[tid] = {"comm": comm, "utime": utime, "stime": stime, "vol": vol, "invol": invol}
        except (FileNotFoundError, ProcessLookupError, AttributeError):
            pass  # the thread ended meanwhile
    utime, stime = stat_times(f"/proc/{pid}/stat")
    return {"pid": pid, "utime": utime, "stime": stime, "threads": threads}


def group(comm):
    return re.sub(r"\d+$", "", comm).strip() or comm


def diff(before, after, seconds, devices):
    messages = seconds * devices
    rows = {}
    for tid, t in after["threads"].items():
        b = before["threads"].get(tid, {"utime": 0, "stime": 0, "vol": 0, "invol": 0})
        r = rows.setdefault(group(t["comm"]), {"threads": 0, "u": 0, "s": 0, "vol": 0, "invol": 0})
        r["threads"] += 1
        r["u"] += t["utime"] - b["utime"]
        r["s"] += t["stime"] - b["stime"]
        r["vol"] += t["vol"] - b["vol"]
        r["invol"] += t["invol"] - b["invol"]
    total_u = (after["utime"] - before["utime"]) * TICK_MS
    total_s = (after["stime"] - before["stime"]) * TICK_MS
    total = total_u + total_s
    per = 1000.0 / messages
    print(f"process: {total:.0f} ms CPU in {seconds} s ({total * per:.1f} ms per 1,000 messages at {devices} msg/s): "
          f"user {total_u:.0f} ms ({100 * total_u / max(total, 1):.0f} %), system {total_s:.0f} ms ({100 * total_s / max(total, 1):.0f} %)")
    print()
    print("| threads | count | user ms | system ms | share of CPU | voluntary switches per message | involuntary per message |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for name, r in sorted(rows.items(), key=lambda kv: -(kv[1]["u"] + kv[1]["s"])):
        cpu = (r["u"] + r["s"]) * TICK_MS
        if cpu == 0 and r["vol"] == 0:
            continue
        print(f"| {name} | {r['threads']} | {r['u'] * TICK_MS:.0f} | {r['s'] * TICK_MS:.0f} | {100 * cpu / max(total, 1):.1f} % | "
              f"{r['vol'] / messages:.2f} | {r['invol'] / messages:.3f} |")
    vol = sum(r["vol"] for r in rows.values())
    print()
    print(f"all threads: {vol / messages:.2f} voluntary context switches (sleeps, so as many wake-ups) per message")


if __name__ == "__main__":
    if sys.argv[1] == "snapshot":
        json.dump(snapshot(int(sys.argv[2])), sys.stdout)
    elif sys.argv[1] == "diff":
        diff(json.load(open(sys.argv[2])), json.load(open(sys.argv[3])), float(sys.argv[4]), int(sys.argv[5]))
    else:
        sys.exit("usage: threads.py snapshot PID | diff BEFORE AFTER SECONDS DEVICES")
