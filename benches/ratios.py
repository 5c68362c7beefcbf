#!/usr/bin/env python3
"""Prints corio/tokio median ratios from criterion's results.

Reads <target>/criterion/<group>/{corio,tokio}/new/estimates.json, where
<target> is $CARGO_TARGET_DIR if set, else the repository's `target`
directory (or the path given as the first argument). Run it after
`cargo bench --bench scheduler` (or `--bench time`, `--bench net`,
`--bench tasks`, `--bench queue`, `--bench sync`, `--bench process`, or plain `cargo bench`). A ratio below 1
means corio is faster. Groups that also measure another library (the `EXTRA`
functions, e.g. `async_channel`) get a median and a ratio column for it.

The ratio is of median times per iteration. For groups that declare a
throughput (the `net` groups: round trips or connections per iteration) that
is also the inverse ratio of throughputs, and the median throughput of each
runtime is printed after the table.
"""

import json
import os
import sys
from pathlib import Path

# The groups of benches/scheduler.rs, time.rs, net.rs, tasks.rs, queue.rs,
# sync.rs and process.rs, in the order they run.
GROUPS = [
    # scheduler.rs
    "spawn_many_local",
    "spawn_many_remote_idle",
    "spawn_many_remote_busy1",
    "yield_many",
    "ping_pong",
    "chained_spawn",
    # time.rs
    "timers_100k",
    "timeout_create_cancel",
    "cross_thread_wake_latency",
    # net.rs
    "tcp_echo_1conn",
    "tcp_echo_100conn",
    "tcp_churn",
    # tasks.rs
    "gather_all_ready",
    "gather_all_pending",
    "task_group_10k",
    "to_thread_1k",
    "promise_round_trip",
    # queue.rs
    "queue_bounded_100",
    "queue_unbounded",
    # sync.rs
    "semaphore_uncontended",
    "semaphore_contended",
    "mutex_contended",
    "event_broadcast_500",
    # process.rs
    "communicate_1mib",
]

# Functions some groups have besides `corio` and `tokio` (the groups of
# queue.rs also measure async-channel). Each one found gets a column of its
# medians and one of corio's ratio to it.
EXTRA = ["async_channel"]


def criterion_dir():
    if len(sys.argv) > 1:
        return Path(sys.argv[1])
    target = os.environ.get("CARGO_TARGET_DIR")
    if target:
        target = Path(target)
        if not target.is_absolute():
            # cargo resolves a relative CARGO_TARGET_DIR against the working
            # directory it is started from.
            target = Path.cwd() / target
    else:
        target = Path(__file__).resolve().parent.parent / "target"
    return target / "criterion"


def median_ns(path):
    """The median point estimate in nanoseconds, or None if absent."""
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"]
    except FileNotFoundError:
        return None


def elements(path):
    """(count, unit) of the throughput a benchmark declared per iteration
    (elements, or bytes for the process groups), or None."""
    try:
        with open(path) as f:
            throughput = json.load(f).get("throughput") or {}
    except FileNotFoundError:
        return None
    if throughput.get("Elements"):
        return throughput["Elements"], "elem"
    if throughput.get("Bytes"):
        return throughput["Bytes"], "B"
    return None


def fmt_rate(per_s, unit="elem"):
    for prefix, scale in (("M", 1e6), ("K", 1e3)):
        if per_s >= scale:
            return f"{per_s / scale:.1f} {prefix}{unit}/s"
    return f"{per_s:.0f} {unit}/s"


def fmt_time(ns):
    if ns is None:
        return "-"
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("µs", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.3f} {unit}"
    return f"{ns:.1f} ns"


def ratio(corio, other):
    return f"{corio / other:.2f}" if corio is not None and other else "-"


def print_table(header, rows):
    """Left-aligned first column, right-aligned others, two spaces apart."""
    widths = [max(len(r[i]) for r in list(rows) + [header]) for i in range(len(header))]
    print(f"{header[0]:<{widths[0]}}  " + "  ".join(f"{h:>{w}}" for h, w in zip(header[1:], widths[1:])))
    for row in rows:
        print(f"{row[0]:<{widths[0]}}  " + "  ".join(f"{c:>{w}}" for c, w in zip(row[1:], widths[1:])))


def main():
    root = criterion_dir()
    if not root.is_dir():
        sys.exit(f"no criterion results in {root}; run `cargo bench` first")
    # Known groups first, then any other group that has both functions.
    others = sorted(
        p.name
        for p in root.iterdir()
        if p.name not in GROUPS and (p / "corio").is_dir() and (p / "tokio").is_dir()
    )
    extras = [
        name
        for name in EXTRA
        if any((root / group / name / "new" / "estimates.json").is_file() for group in GROUPS + others)
    ]
    rows = []
    rates = []
    for group in GROUPS + others:
        corio = median_ns(root / group / "corio" / "new" / "estimates.json")
        tokio = median_ns(root / group / "tokio" / "new" / "estimates.json")
        if corio is None and tokio is None:
            continue
        row = [group, fmt_time(corio), fmt_time(tokio), ratio(corio, tokio)]
        for name in extras:
            other = median_ns(root / group / name / "new" / "estimates.json")
            row += [fmt_time(other), ratio(corio, other)]
        rows.append(row)
        declared = elements(root / group / "corio" / "new" / "benchmark.json")
        if declared and corio and tokio:
            n, unit = declared
            rates.append((group, fmt_rate(n * 1e9 / corio, unit), fmt_rate(n * 1e9 / tokio, unit)))
    if not rows:
        sys.exit(f"no corio/tokio results under {root}")
    header = ["group", "corio median", "tokio median", "corio/tokio"]
    for name in extras:
        header += [f"{name} median", f"corio/{name}"]
    print_table(header, rows)
    if rates:
        print()
        print_table(("throughput (median)", "corio", "tokio"), rates)


if __name__ == "__main__":
    main()
