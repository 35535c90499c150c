#!/usr/bin/env python3
"""Shares of a .NET process's CPU by component, from `perf script -F comm,tid,period,ip,sym,dso` of a call-graph
recording (profile-peer.sh makes one). Each sample goes to one bucket:

- kernel: the sample is in the kernel (system calls, network stack, scheduler); also split by the code that called it;
- GC: in the GC library (DOTNET_GCName); JIT: in the JIT;
- TLS: OpenSSL (libssl, libcrypto, .NET's OpenSSL shim) or SslStream (System.Net.Security);
- MQTTnet, Akka, FleetSim, FleetSim metrics (FleetSim.Metrics, HdrHistogram), sockets (System.Net.Sockets: the epoll
  thread and socket calls), thread pool (the pool's dispatch loop, its semaphore and timers);
- a sample in a helper (libc, the runtime's native code, the base class library, tasks and async machinery) goes to the
  nearest caller in one of the buckets above (its stack is walked from the leaf up), else to "other".
"""
import bisect
import collections
import re
import sys

HEADER = re.compile(r"^(\S.*?)\s+(\d+)\s+(\d+)\s*$")
FRAME = re.compile(r"^\s+([0-9a-f]+)\s+(.*?)\s+\((.*)\)\s*$")
ASSEMBLY = re.compile(r"\[([A-Za-z0-9_.]+)\] [^ ]*::")  # the method's own assembly: "... [MQTTnet] MQTTnet.MqttClient::PublishAsync(...)"
MMAP = re.compile(r"\[0x([0-9a-f]+)\(0x([0-9a-f]+)\) @ (0x[0-9a-f]+|0) .*\]: r-x. .*doublemapper")
POOL = re.compile(r"System\.Threading\.(PortableThreadPool|ThreadPoolWorkQueue|LowLevelLifoSemaphore|WorkerThread|ThreadPool\b|TimerQueue|ThreadInt64PersistentCounter)")
NAMED = ("TLS", "MQTTnet", "Akka", "FleetSim", "FleetSim metrics", "sockets", "thread pool")


def bucket(sym, dso):
    if dso.startswith("[kernel"):
        return "kernel"
    base = dso.rsplit("/", 1)[-1]
    if "libssl" in base or "libcrypto" in base or "Cryptography.Native" in base or "Net.Security.Native" in base:
        return "TLS"
    if "libclrgc" in base:
        return "GC"
    if "libclrjit" in base:
        return "JIT"
    if "libcoreclr" in base:
        return "runtime"
    m = ASSEMBLY.search(sym)
    if m is not None:
        asm = m.group(1)
    elif base.endswith(".dll"):
        asm = base[:-4]  # precompiled (ReadyToRun) framework code: perf names the image, not the method
    else:
        return "libc" if ("libc" in base or "ld-linux" in base or "vdso" in base or "libSystem.Native" in base) else "unknown"
    if asm.startswith("System.Net.Security") or asm.startswith("System.Security.Cryptography"):
        return "TLS"
    if asm.startswith("MQTTnet"):
        return "MQTTnet"
    if asm.startswith("Akka"):
        return "Akka"
    if asm.startswith("FleetSim.Metrics") or asm.startswith("HdrHistogram"):
        return "FleetSim metrics"
    if asm.startswith("FleetSim"):
        return "FleetSim"
    if asm.startswith("System.Net.Sockets"):
        return "sockets"
    if POOL.search(sym):
        return "thread pool"
    return "BCL"


def owner(frames, start):
    """The first named bucket from frames[start] up the stack, or 'other'."""
    for sym, dso in frames[start:]:
        b = bucket(sym, dso)
        if b in NAMED or b in ("GC", "JIT"):
            return b
    return "other"


class JitSymbols:
    """
    JIT-compiled code lives in the runtime's double-mapped memfd (W^X), which perf reports as a file offset in
    "/memfd:doublemapper" instead of resolving it with the perf map: this maps the offset back to the address through
    the recording's executable mmap events of that memfd, and the address to a method through /tmp/perf-PID.map.
    """

    def __init__(self, mmaps_path, perfmap_path):
        self.maps = []
        for line in open(mmaps_path, errors="replace"):
            m = MMAP.search(line)
            if m:
                self.maps.append((int(m.group(3), 16), int(m.group(2), 16), int(m.group(1), 16)))  # pgoff, len, start
        self.starts, self.symbols = [], []
        for line in open(perfmap_path, errors="replace"):
            parts = line.rstrip("\n").split(" ", 2)
            if len(parts) == 3:
                self.starts.append(int(parts[0], 16))
                self.symbols.append((int(parts[1], 16), parts[2]))
        order = sorted(range(len(self.starts)), key=self.starts.__getitem__)
        self.starts = [self.starts[i] for i in order]
        self.symbols = [self.symbols[i] for i in order]

    def resolve(self, offset):
        for pgoff, length, start in self.maps:
            if pgoff <= offset < pgoff + length:
                address = start + offset - pgoff
                i = bisect.bisect_right(self.starts, address) - 1
                if i >= 0 and address < self.starts[i] + self.symbols[i][0]:
                    return self.symbols[i][1]
                return None
        return None


def main(path, jit=None):
    attributed = collections.Counter()
    kernel_by_caller = collections.Counter()
    leaf_bucket = collections.Counter()
    by_thread = collections.defaultdict(collections.Counter)
    leaves = collections.Counter()
    total = 0
    comm, frames = None, []

    def flush():
        nonlocal total
        if comm is None or not frames:
            return
        total += 1
        sym, dso = frames[0]
        leaf = bucket(sym, dso)
        leaf_bucket[leaf] += 1
        leaves[(leaf, sym[:110])] += 1
        if leaf == "kernel":
            user = next((i for i, (_, d) in enumerate(frames) if not d.startswith("[kernel")), None)
            kernel_by_caller[owner(frames, user) if user is not None else "kernel only"] += 1
            b = "kernel"
        elif leaf in NAMED or leaf in ("GC", "JIT"):
            b = leaf
        else:
            b = owner(frames, 1)
        attributed[b] += 1
        by_thread[re.sub(r"\d+$", "", comm).strip()][b] += 1

    for line in open(path, errors="replace"):
        if not line.strip():
            flush()
            comm, frames = None, []
            continue
        m = FRAME.match(line)
        if m and comm is not None:
            sym, dso = m.group(2), m.group(3)
            if jit is not None and "doublemapper" in dso:
                sym = jit.resolve(int(m.group(1), 16)) or sym
                dso = "jit"
            frames.append((sym, dso))
            continue
        h = HEADER.match(line)
        if h:
            flush()
            comm, frames = h.group(1), []
    flush()

    pct = lambda n: f"{100.0 * n / max(total, 1):.1f} %"
    print(f"{total} samples")
    print()
    print("| where | share of CPU samples |")
    print("|---|---:|")
    for b, n in attributed.most_common():
        print(f"| {b} | {pct(n)} |")
    print()
    print("kernel time by the user-space code that entered the kernel:")
    print()
    print("| caller | share of all samples |")
    print("|---|---:|")
    for b, n in kernel_by_caller.most_common():
        print(f"| {b} | {pct(n)} |")
    print()
    print("by thread (share of all samples; top buckets):")
    print()
    for t, c in sorted(by_thread.items(), key=lambda kv: -sum(kv[1].values())):
        n = sum(c.values())
        print(f"- {t}: {pct(n)} ({', '.join(f'{b} {pct(v)}' for b, v in c.most_common(6))})")
    print()
    print("leaf buckets (no attribution to callers): " + ", ".join(f"{b} {pct(n)}" for b, n in leaf_bucket.most_common()))
    print()
    print("top leaf functions:")
    print()
    for (b, sym), n in leaves.most_common(30):
        print(f"- {pct(n)} [{b}] {sym}")


if __name__ == "__main__":
    # perf-breakdown.py PERF_SCRIPT_TXT [MMAP_EVENTS_TXT PERF_PID_MAP]
    main(sys.argv[1], JitSymbols(sys.argv[2], sys.argv[3]) if len(sys.argv) > 3 else None)
