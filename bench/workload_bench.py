#!/usr/bin/env python3
"""Real workloads on the mount, each beside ext4 (a directory on the same
disk) and libfuse's passthrough_ll over that disk, interleaved, medians of
BENCH_REPS:

  loader   an ML-style data loader: 4,000 files of 128 KiB read by 4
           reader processes with a cold cache (files/s; issue target
           >= 1.0x passthrough_ll)
  tar      tar -x of a source tarball (Debian's /usr/include, ~8,000
           headers; seconds)
  clone    git clone --no-hardlinks of a repository holding the same tree,
           then git status with a cold cache (seconds each)
  build    a build of this project (make -j2 all) on each subject (seconds;
           issue target <= 1.05x ext4; BENCH_BUILD_REPS runs, default 3;
           skipped with QUICK=1)

The fsx subject is 1 MDS + 4 OSTs on 2 OSSes with the default layout.
Writes bench/results/workload-<date>.json."""
import datetime
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TOP = os.path.dirname(HERE)
sys.path.insert(0, TOP)
sys.path.insert(0, HERE)
import engine_bench as eb  # noqa: E402
from tests.fs import engine as eng  # noqa: E402

QUICK = os.environ.get('QUICK') == '1'
REPS = int(os.environ.get('BENCH_REPS', '1' if QUICK else '3'))
NLOAD = int(os.environ.get('BENCH_LOADER_FILES', '500' if QUICK else '4000'))
# what the tar step extracts: /usr/include (~8,000 files), QUICK=1 its linux/
TAR_SUB = os.environ.get('BENCH_TAR_SUB', 'include/linux' if QUICK else 'include')
BUILD_REPS = int(os.environ.get('BENCH_BUILD_REPS', '3'))  # ~12 s each on a quiet machine
LOAD_KB = 128
READERS = 4
STEPS = (os.environ.get('BENCH_WORKLOADS') or
         ('loader,tar' if QUICK else 'loader,tar,clone,build')).split(',')


def read_all(paths):
    n = 0
    for p in paths:
        with open(p, 'rb') as f:
            while f.read(1 << 20):
                pass
        n += 1
    return n


def loader(d, i):
    top = os.path.join(d, 'loader%d' % i)
    os.makedirs(top)
    blob = os.urandom(LOAD_KB * 1024)
    paths = []
    for k in range(NLOAD):
        sub = os.path.join(top, 'c%02d' % (k % 40))
        if k < 40:
            os.mkdir(sub)
        p = os.path.join(sub, 's%05d.bin' % k)
        with open(p, 'wb') as f:
            f.write(blob)
        paths.append(p)
    os.sync()
    eb.drop_caches()
    t0 = time.perf_counter()
    with multiprocessing.Pool(READERS) as pool:
        n = sum(pool.map(read_all, [paths[r::READERS] for r in range(READERS)]))
    dt = time.perf_counter() - t0
    shutil.rmtree(top)
    return n / dt


def timed(argv, cwd, **kw):
    t0 = time.perf_counter()
    subprocess.run(argv, cwd=cwd, check=True, stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, **kw)
    return time.perf_counter() - t0


def tar_x(d, i, tarball):
    out = os.path.join(d, 'tar%d' % i)
    os.makedirs(out)
    eb.drop_caches()
    t = timed(['tar', '-xf', tarball], out)
    os.sync()
    shutil.rmtree(out)
    return t


def clone(d, i, repo):
    out = os.path.join(d, 'clone%d' % i)
    eb.drop_caches()
    t1 = timed(['git', 'clone', '-q', '--no-hardlinks', repo, out], d)
    os.sync()
    eb.drop_caches()
    t2 = timed(['git', 'status', '--porcelain'], out)
    shutil.rmtree(out)
    return t1, t2


def build(d, i, tarball):
    out = os.path.join(d, 'build%d' % i)
    os.makedirs(out)
    subprocess.run(['tar', '-xf', tarball], cwd=out, check=True)
    os.sync()
    eb.drop_caches()
    t = timed(['make', '-j2', 'all'], out)
    shutil.rmtree(out)
    return t


def main():
    if os.geteuid() != 0:
        sys.exit('workload bench: run as root')
    work = tempfile.mkdtemp(prefix='fsx-work-', dir=eb.BASE)
    res = dict(date=datetime.datetime.now().isoformat(timespec='seconds'),
               host=os.uname().nodename, reps=REPS, loader_files=NLOAD, tar_tree='/usr/' + TAR_SUB,
               figures={}, samples={})
    got = {}
    e = pt = None
    try:
        inc = os.path.join(work, 'include.tar')
        subprocess.run(['tar', '-C', '/usr', '-cf', inc, TAR_SUB], check=True)
        repo = os.path.join(work, 'repo')
        os.makedirs(repo)
        subprocess.run(['tar', '-xf', inc], cwd=repo, check=True)
        for argv in (['git', 'init', '-q'], ['git', 'add', '-A'],
                     ['git', '-c', 'user.name=b', '-c', 'user.email=b@b', 'commit', '-qm', 'x']):
            subprocess.run(argv, cwd=repo, check=True)
        src = os.path.join(work, 'src.tar')
        subprocess.run('git -C %s archive --format=tar HEAD > %s' % (TOP, src), shell=True,
                       check=True)
        e = eng.Engine(n_ost=4, n_oss=2, ost_capacity=64 * 1024 ** 3, base=work).start()
        fsx = e.mount('fsx')
        ext4 = os.path.join(work, 'ext4')
        os.mkdir(ext4)
        pt = eb.Passthrough(os.path.join(work, 'ptsrc'), os.path.join(work, 'pt'))
        subjects = {'ext4': ext4, 'passthrough': pt.mnt, 'fsx': fsx}

        def add(k, v):
            got.setdefault(k, []).append(v)
        for i in range(REPS):
            for name, d in subjects.items():
                if 'loader' in STEPS:
                    add('loader_files_s.' + name, loader(d, i))
                if 'tar' in STEPS:
                    add('tar_x_s.' + name, tar_x(d, i, inc))
                if 'clone' in STEPS:
                    c, s = clone(d, i, repo)
                    add('git_clone_s.' + name, c)
                    add('git_status_s.' + name, s)
                if 'build' in STEPS and i < BUILD_REPS:
                    add('build_s.' + name, build(d, i, src))
                eb.log('workloads %s rep %d: %s' % (name, i, ', '.join(
                    '%s %.2f' % (k.split('.')[0], v[-1]) for k, v in sorted(got.items())
                    if k.endswith('.' + name))))
    finally:
        if pt:
            pt.stop()
        if e:
            e.stop()
        shutil.rmtree(work, ignore_errors=True)
    for k, xs in got.items():
        res['figures'][k] = statistics.median(xs)
        res['samples'][k] = xs
    F = res['figures']
    print('%-16s %10s %12s %10s' % ('workload', 'fsx', 'passthrough', 'ext4'))
    for k in ('loader_files_s', 'tar_x_s', 'git_clone_s', 'git_status_s', 'build_s'):
        if k + '.fsx' in F:
            print('%-16s %10.2f %12.2f %10.2f' % (k, F[k + '.fsx'], F[k + '.passthrough'],
                                                  F[k + '.ext4']))
    os.makedirs(os.path.join(HERE, 'results'), exist_ok=True)
    path = os.path.join(HERE, 'results', 'workload-%s.json' % time.strftime('%Y%m%d-%H%M%S'))
    with open(path, 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
    print('results: ' + path)


if __name__ == '__main__':
    main()
