#!/usr/bin/env python3
"""Idle scale: N idle file systems, what they cost while nothing happens.

Starts fsxd (quotas raised by flag so N fit) in a fresh state dir, creates
N SCRATCH_2 file systems of 1,200 GiB and waits until every one is
AVAILABLE, lets them settle, then over a window of WINDOW seconds measures
  - CPU: the run time of fsxd and every engine process, as a percentage
    of one core: the scheduler's own count in nanoseconds, summed over
    every thread (/proc/PID/task/TID/schedstat), where the kernel keeps it;
    else utime + stime from /proc/PID/stat. The tick counts are kept
    beside it (cpu_pct_ticks): they charge a whole tick to whatever runs
    when the tick fires, and the few timer wake-ups of idle processes run
    just then, so on some kernels (this project's 6.18 VM) they showed 5x
    the real figure, on others 0 for every engine process;
  - memory: the sum of Pss (proportional set size: shared pages counted
    once in total, from /proc/PID/smaps_rollup: the memory these processes
    take), the sum of Rss (shared libraries counted once per process), and
    the drop of the machine's MemAvailable;
  - wake-ups: voluntary + involuntary context switches per second, summed,
    and the top processes by wake-ups (what is still waking up);
  - processes and threads.
Target (issue 14): 1,000 idle file systems in <= 4 GiB and < 5% of one core.

    python3 bench/idle_bench.py [N] [--window S] [--tag TEXT]

FSX_BIN selects the binaries (default build/bin). Writes
bench/results/idle-<date>-<N>.json and prints one line per figure.
Everything it started is stopped at the end."""
import argparse
import datetime
import json
import os
import socket
import sys
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)
from tests.fsxlib import Fsxd, SCRATCH2  # noqa: E402

TICK = os.sysconf('SC_CLK_TCK')
SCHEDSTAT = os.path.exists('/proc/self/schedstat')    # CONFIG_SCHED_INFO


def thread_ctx(pid):
    """({thread name: context switches} over every thread of pid, run
    time in ns summed over them or None where schedstat is missing)."""
    out, run_ns = {}, 0 if SCHEDSTAT else None
    for tid in os.listdir('/proc/%d/task' % pid):
        try:
            name, ctx = '?', 0
            with open('/proc/%d/task/%s/status' % (pid, tid)) as f:
                for line in f:
                    if line.startswith('Name:'):
                        name = line.split(None, 1)[1].strip()
                    elif line.startswith(('voluntary_ctxt_switches',
                                          'nonvoluntary_ctxt_switches')):
                        ctx += int(line.split()[1])
            out[name] = out.get(name, 0) + ctx
            if run_ns is not None:
                with open('/proc/%d/task/%s/schedstat' % (pid, tid)) as f:
                    run_ns += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass        # the thread ended meanwhile
    return out, run_ns


def proc_stat(pid):
    """(cpu seconds, ctx switches, threads, pss KiB, rss KiB, {thread: ctx},
    cpu seconds by ticks) or None."""
    try:
        with open('/proc/%d/stat' % pid) as f:
            st = f.read().rsplit(')', 1)[1].split()
        ticks = (int(st[11]) + int(st[12])) / TICK
        threads = int(st[17])
        per, run_ns = thread_ctx(pid)
        cpu = run_ns / 1e9 if run_ns is not None else ticks
        ctx = sum(per.values())
        pss = rss = 0
        with open('/proc/%d/smaps_rollup' % pid) as f:
            for line in f:
                if line.startswith('Pss:'):
                    pss = int(line.split()[1])
                elif line.startswith('Rss:'):
                    rss = int(line.split()[1])
        return cpu, ctx, threads, pss, rss, per, ticks
    except (OSError, IndexError, ValueError):
        return None


def snapshot(d):
    procs = {d.proc.pid: 'fsxd'}
    for pid, kind in d.engine_pids():
        procs[pid] = kind
    out = {}
    for pid, kind in procs.items():
        s = proc_stat(pid)
        if s:
            out[pid] = (kind,) + s
    return out


MEMINFO = ('MemAvailable', 'Cached', 'Shmem', 'SUnreclaim', 'PageTables', 'KernelStack')


def meminfo_mib():
    out = {}
    with open('/proc/meminfo') as f:
        for line in f:
            k = line.split(':')[0]
            if k in MEMINFO:
                out[k] = int(line.split()[1]) / 1024
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('n', type=int, nargs='?', default=100)
    ap.add_argument('--window', type=float, default=30.0)
    ap.add_argument('--settle', type=float, default=10.0)
    ap.add_argument('--tag', default='')
    a = ap.parse_args()
    t0 = time.time()
    mem0 = meminfo_mib()
    d = Fsxd('--quota-file-systems', str(a.n + 10),
             '--quota-storage', str((a.n + 10) * 1200), '--log-level', 'warn')
    try:
        c = d.client()
        ids = []
        for i in range(a.n):
            ids.append(c.create_file_system(**SCRATCH2)['FileSystem']['FileSystemId'])
            if (i + 1) % 100 == 0:
                print('idle_bench: %d created (%.0f s)' % (i + 1, time.time() - t0),
                      flush=True)
        pending = set(ids)
        deadline = time.time() + 60 + a.n * 0.5
        pages = c.get_paginator('describe_file_systems')
        while pending and time.time() < deadline:
            for page in pages.paginate():
                for fs in page['FileSystems']:
                    if fs['Lifecycle'] == 'AVAILABLE':
                        pending.discard(fs['FileSystemId'])
            if pending:
                time.sleep(1)
        if pending:
            raise SystemExit('idle_bench: %d never AVAILABLE' % len(pending))
        created = time.time() - t0
        print('idle_bench: %d AVAILABLE after %.0f s; settling %.0f s' %
              (a.n, created, a.settle), flush=True)
        time.sleep(a.settle)
        mem1 = meminfo_mib()
        s0, w0 = snapshot(d), time.time()
        time.sleep(a.window)
        s1, w1 = snapshot(d), time.time()
        wall = w1 - w0
        both = [p for p in s1 if p in s0]
        cpu = sum(s1[p][1] - s0[p][1] for p in both) / wall * 100
        cpu_fsxd = sum(s1[p][1] - s0[p][1] for p in both if s1[p][0] == 'fsxd') / wall * 100
        cpu_ticks = sum(s1[p][7] - s0[p][7] for p in both) / wall * 100
        wakes = {p: (s1[p][2] - s0[p][2]) / wall for p in both}
        by_kind = {}
        for p in both:
            k = s1[p][0]
            by_kind.setdefault(k, []).append(wakes[p])
        by_thread = {}
        for p in both:
            for name, n in s1[p][6].items():
                key = s1[p][0] + ':' + name
                by_thread[key] = by_thread.get(key, 0) + (n - s0[p][6].get(name, 0)) / wall
        top = sorted(by_thread.items(), key=lambda kv: -kv[1])[:8]
        pss = sum(s1[p][4] for p in s1) / 1024
        rss = sum(s1[p][5] for p in s1) / 1024
        res = {
            'n_file_systems': a.n, 'processes': len(s1),
            'threads': sum(s1[p][3] for p in s1),
            'cpu_pct_of_one_core': round(cpu, 2),
            'cpu_pct_fsxd': round(cpu_fsxd, 2),
            'cpu_pct_ticks': round(cpu_ticks, 2),
            'pss_mib': round(pss, 1), 'rss_mib': round(rss, 1),
            # the machine's MemAvailable drop: also counts page cache and
            # whatever else ran meanwhile (a shared machine)
            'meminfo_delta_mib': {k: round(mem1[k] - mem0[k], 1) for k in MEMINFO},
            'wakeups_per_s': round(sum(wakes.values()), 1),
            'wakeups_per_s_by_kind': {k: round(sum(v), 1) for k, v in by_kind.items()},
            'wakeups_per_s_top_threads': {k: round(v, 1) for k, v in top},
            'window_s': round(wall, 1), 'create_s': round(created, 1),
            'target': {'n': 1000, 'mem_gib': 4, 'cpu_pct': 5},
            'host': socket.gethostname(), 'cores': os.cpu_count(),
            'date': datetime.datetime.now(datetime.timezone.utc).isoformat(),
            'tag': a.tag,
        }
        for k, v in res.items():
            print('idle_bench: %s = %s' % (k, v))
        os.makedirs(os.path.join(TOP, 'bench', 'results'), exist_ok=True)
        out = os.path.join(TOP, 'bench', 'results', 'idle-%s-%d%s.json' % (
            datetime.datetime.now().strftime('%Y%m%d-%H%M%S'), a.n,
            '-' + a.tag if a.tag else ''))
        with open(out, 'w') as f:
            json.dump(res, f, indent=1)
            f.write('\n')
        print('idle_bench: wrote %s' % os.path.relpath(out, TOP))
    finally:
        d.stop()


if __name__ == '__main__':
    main()
