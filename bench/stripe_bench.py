#!/usr/bin/env python3
"""Throughput by stripe count and by block size, beside libfuse's own
passthrough_ll over the same disk in the same run.

One engine with 8 OSTs on 4 OSSes; for each stripe count (1, 2, 4, 8) a
directory with that default layout (1 MiB stripes) gets a sequential 1 MiB
write (fsync at the end) and a cold read. Then for each block size
(4 KiB .. 4 MiB) the same on a 4-stripe directory and on passthrough_ll,
interleaved. Then 1, 2 and 4 mounts of the same file system write and read
their own 8-stripe files at once (aggregate MiB/s: scale by clients). Medians of BENCH_REPS (QUICK=1: one rep, smaller files).

Writes bench/results/stripe-<date>.json; bench/report.py plots it."""
import datetime
import json
import os
import statistics
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, HERE)
import engine_bench as eb  # noqa: E402
from tests.fs import engine as eng  # noqa: E402

QUICK = os.environ.get('QUICK') == '1'
REPS = int(os.environ.get('BENCH_REPS', '1' if QUICK else '3'))
SIZE_MB = int(os.environ.get('BENCH_STRIPE_MB', '128' if QUICK else '512'))
COUNTS = [1, 2, 4, 8]
BLOCKS_K = [4, 64, 1024, 4096] if QUICK else [4, 16, 64, 256, 1024, 4096]
MiB = 1024 * 1024


def wr(d, bs_k, size_mb):
    f = os.path.join(d, 'stripe.dat')
    if os.path.exists(f):
        os.unlink(f)
    w = eb.fio('w', f, 'write', '%dk' % bs_k, size_mb, ['--end_fsync=1'])
    eb.drop_caches()
    r = eb.fio('r', f, 'read', '%dk' % bs_k, size_mb)
    os.unlink(f)
    return w['mbps'], r['mbps']


def clients(mounts, k, size_mb):
    """k mounts each write then read their own file at once (8 stripes);
    aggregate MiB/s of each direction."""
    import concurrent.futures as cf
    files = [os.path.join(m, 'c8', 'cl%d.dat' % j) for j, m in enumerate(mounts[:k])]

    def one(f, rw):
        return eb.fio('cl', f, rw, '1024k', size_mb, ['--end_fsync=1'] if rw == 'write' else [])
    with cf.ThreadPoolExecutor(k) as ex:
        t0 = time.perf_counter()
        list(ex.map(lambda f: one(f, 'write'), files))
        tw = time.perf_counter() - t0
    eb.drop_caches()
    with cf.ThreadPoolExecutor(k) as ex:
        t0 = time.perf_counter()
        list(ex.map(lambda f: one(f, 'read'), files))
        tr = time.perf_counter() - t0
    for f in files:
        os.unlink(f)
    return k * size_mb / tw, k * size_mb / tr


def main():
    if os.geteuid() != 0:
        sys.exit('stripe bench: run as root')
    work = tempfile.mkdtemp(prefix='fsx-stripe-', dir=eb.BASE)
    res = dict(date=datetime.datetime.now().isoformat(timespec='seconds'),
               host=os.uname().nodename, reps=REPS, size_mb=SIZE_MB,
               stripe_counts=COUNTS, block_sizes_k=BLOCKS_K, figures={}, samples={})
    got = {}
    e = pt = None
    extra = []
    try:
        e = eng.Engine(n_ost=8, n_oss=4, ost_capacity=64 * 1024 ** 3, base=work).start()
        mnt = e.mount('fsx')
        pt = eb.Passthrough(os.path.join(work, 'ptsrc'), os.path.join(work, 'pt'))
        dirs = {}
        for c in COUNTS:
            dirs[c] = os.path.join(mnt, 'c%d' % c)
            os.mkdir(dirs[c])
            eng.set_layout(dirs[c], c, MiB)
        for i in range(REPS):
            for c in COUNTS:
                w, r = wr(dirs[c], 1024, SIZE_MB)
                got.setdefault('write_mibps.c%d.bs1024k' % c, []).append(w)
                got.setdefault('read_mibps.c%d.bs1024k' % c, []).append(r)
                eb.log('stripes %d rep %d: write %.0f read %.0f MiB/s' % (c, i, w, r))
            for k in BLOCKS_K:
                size = min(SIZE_MB, 64) if k < 64 else SIZE_MB
                for who, d in (('c4', dirs[4]), ('pt', pt.mnt)):
                    w, r = wr(d, k, size)
                    got.setdefault('write_mibps.%s.bs%dk' % (who, k), []).append(w)
                    got.setdefault('read_mibps.%s.bs%dk' % (who, k), []).append(r)
                    eb.log('bs %dk %s rep %d: write %.0f read %.0f MiB/s' % (k, who, i, w, r))
            extra = [mnt] + [e.mount('fsx%d' % j) for j in range(2, 5)] if i == 0 else extra
            for k in (1, 2, 4):
                w, r = clients(extra, k, max(16, SIZE_MB // k))
                got.setdefault('write_mibps.clients%d' % k, []).append(w)
                got.setdefault('read_mibps.clients%d' % k, []).append(r)
                eb.log('clients %d rep %d: write %.0f read %.0f MiB/s' % (k, i, w, r))
    finally:
        if pt:
            pt.stop()
        if e:
            e.stop()
    for k, xs in got.items():
        res['figures'][k] = statistics.median(xs)
        res['samples'][k] = xs
    print('stripe count (1 MiB I/O): ' + ', '.join(
        '%d: write %.0f read %.0f' % (c, res['figures']['write_mibps.c%d.bs1024k' % c],
                                      res['figures']['read_mibps.c%d.bs1024k' % c])
        for c in COUNTS))
    print('block size (4 stripes | passthrough_ll), MiB/s: ' + ', '.join(
        '%dk: %.0f/%.0f | %.0f/%.0f' % (k, res['figures']['write_mibps.c4.bs%dk' % k],
                                        res['figures']['read_mibps.c4.bs%dk' % k],
                                        res['figures']['write_mibps.pt.bs%dk' % k],
                                        res['figures']['read_mibps.pt.bs%dk' % k])
        for k in BLOCKS_K))
    print('mounts writing at once (8 stripes), aggregate MiB/s: ' + ', '.join(
        '%d: write %.0f read %.0f' % (k, res['figures']['write_mibps.clients%d' % k],
                                      res['figures']['read_mibps.clients%d' % k])
        for k in (1, 2, 4)))
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    path = os.path.join(HERE, 'results', 'stripe-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    with open(path, 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print('results: ' + path)


if __name__ == '__main__':
    main()
