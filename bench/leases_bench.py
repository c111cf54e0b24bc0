#!/usr/bin/env python3
"""Leases past the cap (docs/leases.md, "Giving leases back"): a mount that
has touched more files than its session may lease must keep caching what
it uses now.

One engine (1 MDS, 4 OSTs on 2 OSSes). Mount A creates N files (8/7 of
the cap, in directories of 10,000: each file is two leases, its name and
its attributes, so the session is granted 16/7 of its cap at creation
and as much again when it stats every file); then it stats the last
RECENT files (an eighth of N, at most 20,000) twice, the second pass
timed. Mount B, a session that
only ever touched those RECENT files, does the same: its figure is what
the stats cost under the cap. Before leases were given back, A's second
pass made two MDS round trips per file (3,637 stats/s against B's
~190,000 on this VM); the figure is A's rate beside B's, in the same run,
interleaved, medians of BENCH_REPS, with A's round trips per stat.

  BENCH_LEASE_MAX  --lease-max of the MDS (default 131072, the default
                   cap; QUICK=1: 4096)
  BENCH_REPS       repetitions (default 3; QUICK=1: 1)

Writes bench/results/leases-<date>.json.
"""
import datetime
import json
import os
import shutil
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, TOP)
from tests.fs import engine as eng  # noqa: E402
from tests.fs.test_coherence import mds_stats  # noqa: E402

QUICK = os.environ.get('QUICK') == '1'
REPS = int(os.environ.get('BENCH_REPS', '1' if QUICK else '3'))
CAP = int(os.environ.get('BENCH_LEASE_MAX', '4096' if QUICK else '131072'))
PER_DIR = 10000
NFILES = CAP * 8 // 7 + 1
if NFILES > PER_DIR:
    NFILES = -(-NFILES // PER_DIR) * PER_DIR
RECENT = min(20000, NFILES // 8)


def log(msg):
    print('[leases %s] %s' % (time.strftime('%H:%M:%S'), msg), flush=True)


def stat_all(paths):
    for p in paths:
        os.stat(p)


def timed_stats(mount, paths):
    """Warm pass, then a timed pass: (stats/s, MDS round trips per stat)."""
    stat_all(paths)
    a = mount.counters()
    t0 = time.perf_counter()
    stat_all(paths)
    dt = time.perf_counter() - t0
    b = mount.counters()
    trips = sum(b[k] - a.get(k, 0) for k in b if k.startswith('rt_'))
    return len(paths) / dt, trips / len(paths)


def main():
    if os.geteuid() != 0:
        sys.exit('lease bench: run as root (FUSE mounts)')
    t_start = time.monotonic()
    work = tempfile.mkdtemp(prefix='fsx-leases-', dir='/var/tmp')
    os.chmod(work, 0o755)
    res = dict(date=datetime.datetime.now().isoformat(timespec='seconds'),
               host=os.uname().nodename, cpus=os.cpu_count(), reps=REPS,
               lease_max=CAP, files=NFILES, recent=RECENT, figures={},
               samples={})
    e = None
    try:
        e = eng.Engine(n_ost=4, n_oss=2, ost_capacity=64 * 1024 ** 3,
                       base=work, mds_args=('--lease-max', str(CAP))).start()
        mnt_a = e.mount('a')
        ma = e.mounts[-1]
        mnt_b = e.mount('b')
        mb = e.mounts[-1]
        names = []
        t0 = time.perf_counter()
        for d in range(-(-NFILES // PER_DIR)):
            rel = 'd%03d' % d
            os.mkdir(os.path.join(mnt_a, rel))
            for i in range(min(PER_DIR, NFILES - d * PER_DIR)):
                names.append(os.path.join(rel, 'f%05d' % i))
                os.close(os.open(os.path.join(mnt_a, names[-1]),
                                 os.O_CREAT | os.O_WRONLY, 0o644))
        log('%d files created on mount A in %.1f s' % (
            NFILES, time.perf_counter() - t0))
        recent = names[-RECENT:]
        got = {k: [] for k in ('past_cap', 'under_cap', 'past_cap_trips')}
        for rep in range(REPS):
            stat_all([os.path.join(mnt_a, n) for n in names])
            rate, trips = timed_stats(ma, [os.path.join(mnt_a, n)
                                           for n in recent])
            got['past_cap'].append(rate)
            got['past_cap_trips'].append(trips)
            rate_b, _ = timed_stats(mb, [os.path.join(mnt_b, n)
                                         for n in recent])
            got['under_cap'].append(rate_b)
            log('rep %d: past the cap %.0f stats/s (%.2f round trips '
                'each), under it %.0f' % (rep, rate, trips, rate_b))
        st = mds_stats(e)
        for k, xs in got.items():
            key = 'recent_stat_ops.' + k
            res['figures'][key] = statistics.median(xs)
            res['samples'][key] = xs
        res['mds'] = {k: st.get(k) for k in ('mds_leases', 'mds_leases_shed',
                                             'mds_leases_granted')}
        res['rss_kib'] = dict(mds=e.mds.vmhwm_kib())
    finally:
        if e is not None:
            e.stop()
        shutil.rmtree(work, ignore_errors=True)
    res['elapsed_s'] = round(time.monotonic() - t_start, 1)
    f = res['figures']
    log('stat of the %d most recent of %d files, lease cap %d: %.0f/s '
        '(%.2f MDS round trips each) vs %.0f/s under the cap: %.2fx; MDS %s'
        % (RECENT, NFILES, CAP, f['recent_stat_ops.past_cap'],
           f['recent_stat_ops.past_cap_trips'],
           f['recent_stat_ops.under_cap'],
           f['recent_stat_ops.past_cap'] / f['recent_stat_ops.under_cap'],
           res['mds']))
    out = os.path.join(TOP, 'bench', 'results', 'leases-%s.json' %
                       datetime.datetime.now().strftime('%Y%m%d-%H%M%S'))
    with open(out, 'w') as fh:
        json.dump(res, fh, indent=1, sort_keys=True)
    log('wrote %s (%.0f s)' % (os.path.relpath(out, TOP), res['elapsed_s']))


if __name__ == '__main__':
    main()
