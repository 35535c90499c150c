#!/usr/bin/env python3
"""Means of a dotnet-counters CSV (System.Runtime) over the recording, per message at MSGS_PER_SECOND.

  counters.py counters.csv MSGS_PER_SECOND
"""
import collections
import csv
import sys

WANTED = {
    "dotnet.gc.heap.total_allocated (By / 1 sec)": ("allocated bytes per message", True),
    "dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen0]": ("gen0 GCs per second", False),
    "dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen1]": ("gen1 GCs per second", False),
    "dotnet.gc.collections ({collection} / 1 sec)[gc.heap.generation=gen2]": ("gen2 GCs per second", False),
    "dotnet.thread_pool.work_item.count ({work_item} / 1 sec)": ("thread-pool work items per message", True),
    "dotnet.monitor.lock_contentions ({contention} / 1 sec)": ("lock contentions per message", True),
    "dotnet.jit.compiled_methods ({method} / 1 sec)": ("methods JIT-compiled per second", False),
    "dotnet.process.cpu.time (s / 1 sec)[cpu.mode=user]": ("CPU user (cores)", False),
    "dotnet.process.cpu.time (s / 1 sec)[cpu.mode=system]": ("CPU system (cores)", False),
}

rate = float(sys.argv[2])
values = collections.defaultdict(list)
for row in csv.DictReader(open(sys.argv[1])):
    if row["Counter Name"] in WANTED:
        values[row["Counter Name"]].append(float(row["Mean/Increment"]))
for name, (label, per_message) in WANTED.items():
    if values[name]:
        mean = sum(values[name]) / len(values[name])
        print(f"- {label}: {mean / rate if per_message else mean:.3g}")
