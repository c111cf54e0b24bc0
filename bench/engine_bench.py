#!/usr/bin/env python3
"""Engine benchmarks: fsx-mount (1 MDS + 4 OSTs) against the raw disk and
libfuse's own passthrough_ll example over the same disk, built from
Debian's libfuse3-dev examples into a temporary directory in the same run
(never committed).

Run through bench/run_engine.sh. Environment:
  FSX_BIN     engine binaries (default build/bin)
  BENCH_BIN   bench binaries (default build/bench)
  BENCH_DIR   scratch directory on the disk under test (default /var/tmp)
  BENCH_REPS  repetitions of the cheap figures (default 3; medians quoted)
  BENCH_SEQ_MB  size of the streaming file in MiB (default 2048)
  BENCH_FILES   files in the metadata test (default 20000)
  BENCH_RAND_SECS  runtime of each random 4 KiB test (default 5)
  BENCH_TMPFS   a tmpfs for the second metadata baseline (default /dev/shm;
                empty to skip)
  BENCH_PHASES  which phases to run, comma-separated (default
                seq,rand,meta,libfsx,coherence)
  BENCH_COH_FILES  files stat'ed in the coherence phase (default 2000)

The MDS's CPU time (user + system, from /proc/<pid>/stat around each
phase of the fsx subject) is reported per operation: per create, stat,
unlink, 4 KiB random read, per MiB written and read, and per chmod that
a second mount caching the file must see (the revocation).

Subjects are interleaved within each repetition (raw, passthrough, fsx,
then again), so a drift of this noisy VM over the run hits every subject
alike rather than whichever ran last.
"""
import datetime
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, REPO)
from tests.fs import engine as eng  # noqa: E402

BENCH_BIN = os.environ.get('BENCH_BIN') or os.path.join(REPO, 'build', 'bench')
BASE = os.environ.get('BENCH_DIR') or '/var/tmp'
REPS = int(os.environ.get('BENCH_REPS', '3'))
SEQ_MB = int(os.environ.get('BENCH_SEQ_MB', '2048'))
# The mdtest size. Not more: passthrough_ll keeps an O_PATH
# descriptor per inode the kernel knows, and at this machine's fixed limit
# of 20,000 descriptors a 20,000-file run made its creates fail (EBADF).
NFILES = int(os.environ.get('BENCH_FILES', '10000'))
RAND_SECS = int(os.environ.get('BENCH_RAND_SECS', '5'))
TMPFS = os.environ.get('BENCH_TMPFS', '/dev/shm')
PHASES = set((os.environ.get('BENCH_PHASES') or
              'seq,rand,meta,libfsx,coherence').split(','))
COH_FILES = int(os.environ.get('BENCH_COH_FILES', '2000'))
MiB = 1024 * 1024


def log(msg):
    print('[%s] %s' % (time.strftime('%H:%M:%S'), msg), file=sys.stderr, flush=True)


# MDS CPU time (user + system) per operation of the fsx subject, by
# phase: sampled from /proc/<fsx-mds pid>/stat around each phase.
MDS_PID = None
MDS_CPU = {}


def proc_cpu_s(pid):
    """user + system CPU seconds of a process so far."""
    with open('/proc/%d/stat' % pid) as f:
        fields = f.read().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


class MdsCpu:
    """with MdsCpu('phase', ops, on): MDS CPU us per op into MDS_CPU."""

    def __init__(self, phase, ops, on):
        self.phase, self.ops, self.on = phase, ops, on and MDS_PID

    def __enter__(self):
        if self.on:
            self.t0 = proc_cpu_s(MDS_PID)
        return self

    def __exit__(self, *exc):
        if self.on and exc[0] is None:
            ops = self.ops() if callable(self.ops) else self.ops
            if ops:
                MDS_CPU.setdefault(self.phase, []).append(
                    (proc_cpu_s(MDS_PID) - self.t0) * 1e6 / ops)


def drop_caches(level=3):
    os.sync()
    with open('/proc/sys/vm/drop_caches', 'w') as f:
        f.write('%d\n' % level)


def fio(name, filename, rw, bs, size_mb, extra=()):
    argv = ['fio', '--name=' + name, '--filename=' + filename, '--rw=' + rw,
            '--bs=' + bs, '--size=%dM' % size_mb, '--ioengine=psync',
            '--numjobs=1', '--fallocate=none', '--output-format=json'] + list(extra)
    r = subprocess.run(argv, capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError('fio %s failed: %s %s' % (name, r.stdout[-2000:], r.stderr[-2000:]))
    out = r.stdout
    j = json.loads(out[out.index('{'):])
    job = j['jobs'][0]
    side = job['write'] if rw in ('write', 'randwrite') else job['read']
    return dict(mbps=side['bw_bytes'] / MiB, iops=side['iops'])


def seq_write_read(d, direct=False, mds=False):
    """Sequential 1 MiB write with an fsync at the end, then a cold read;
    with direct, both O_DIRECT (the disk without its page cache). With
    mds, the MDS's CPU per MiB too."""
    f = os.path.join(d, 'seq.dat')
    if os.path.exists(f):
        os.unlink(f)
    extra = ['--direct=1'] if direct else []
    with MdsCpu('seq_write_per_mib', SEQ_MB, mds):
        w = fio('seqw', f, 'write', '1M', SEQ_MB, ['--end_fsync=1'] + extra)
    drop_caches()
    with MdsCpu('seq_read_per_mib', SEQ_MB, mds):
        r = fio('seqr', f, 'read', '1M', SEQ_MB, extra)
    os.unlink(f)
    return w['mbps'], r['mbps']


def rand_iops(d, mds=False):
    """4 KiB random reads (cold start) and writes over a 1 GiB file."""
    f = os.path.join(d, 'rand.dat')
    if not os.path.exists(f):
        fio('prep', f, 'write', '1M', 1024)
    drop_caches()
    got = {}
    with MdsCpu('rand4k_read', lambda: got['rr']['iops'] * RAND_SECS, mds):
        got['rr'] = fio('randr', f, 'randread', '4k', 1024,
                        ['--time_based', '--runtime=%d' % RAND_SECS])
    rw = fio('randw', f, 'randwrite', '4k', 1024,
             ['--time_based', '--runtime=%d' % RAND_SECS])
    return got['rr']['iops'], rw['iops']


def metadata(d, n, mds=False):
    """create, stat and unlink of n empty files in one directory; ops/s.
    Dentry and inode caches are dropped before stat and unlink so each
    phase reaches the file system. With mds, the MDS's CPU per op too."""
    os.mkdir(d)
    names = [os.path.join(d, 'f%06d' % i) for i in range(n)]
    flags = os.O_CREAT | os.O_EXCL | os.O_WRONLY
    with MdsCpu('create', n, mds):
        t0 = time.perf_counter()
        for p in names:
            os.close(os.open(p, flags, 0o644))
        t1 = time.perf_counter()
    drop_caches(2)
    with MdsCpu('stat', n, mds):
        t2 = time.perf_counter()
        for p in names:
            os.stat(p)
        t3 = time.perf_counter()
    drop_caches(2)
    with MdsCpu('unlink', n, mds):
        t4 = time.perf_counter()
        for p in names:
            os.unlink(p)
        t5 = time.perf_counter()
    os.rmdir(d)
    return n / (t1 - t0), n / (t3 - t2), n / (t5 - t4)


def med(xs):
    return statistics.median(xs) if xs else None


def coherence(writer, reader, plain, n, reps, pt=None):
    """docs/leases.md costs. writer and reader are two mounts with
    leases, plain a third without (-o noleases, the old behaviour), pt
    (if given) libfuse's passthrough_ll over the disk, with the same tree
    (the issue's baseline for stat and re-read of unchanged data).
    Returns figures:
      revoke_visible_us  a chmod on `writer` until `reader`, which has the
                         file cached under a lease, stats the new mode
                         (the chmod waits for the revocation)
      stat_us.*          a stat of an unchanged file whose attributes
                         were fetched over a second ago (past the 1 s
                         timeout that applies without a lease)
      reread_mibps.*     re-reading an unchanged 64 MiB file after
                         close and open"""
    names = ['f%05d' % i for i in range(n)]
    data = os.urandom(MiB) * 64
    for root in (writer, pt) if pt else (writer,):
        d = os.path.join(root, 'coh')
        os.mkdir(d)
        for nm in names:
            open(os.path.join(d, nm), 'w').close()
        with open(os.path.join(d, 'big'), 'wb') as f:
            f.write(data)
    d = os.path.join(writer, 'coh')
    out = {}
    # revocation: reader caches, writer changes, reader sees at once
    f_w, f_r = os.path.join(d, names[0]), os.path.join(reader, 'coh', names[0])
    lat = []
    with MdsCpu('revoke', reps * 100, True):
        for i in range(reps * 100):
            os.stat(f_r)
            mode = 0o600 | (i % 8)
            t0 = time.perf_counter()
            os.chmod(f_w, mode)
            while os.stat(f_r).st_mode & 0o777 != mode:
                pass
            lat.append((time.perf_counter() - t0) * 1e6)
    out['revoke_visible_us'] = med(lat)
    subjects = [('lease', reader), ('nolease', plain)]
    if pt:
        subjects.append(('passthrough', pt))
    for subj, mnt in subjects:
        per, rates = [], []
        for _ in range(reps):
            paths = [os.path.join(mnt, 'coh', nm) for nm in names]
            for p in paths:
                os.stat(p)
            time.sleep(1.1)
            t0 = time.perf_counter()
            for p in paths:
                os.stat(p)
            per.append((time.perf_counter() - t0) * 1e6 / len(paths))
            bp = os.path.join(mnt, 'coh', 'big')
            with open(bp, 'rb') as f:
                while f.read(MiB):
                    pass
            t0 = time.perf_counter()
            with open(bp, 'rb') as f:
                got = 0
                while True:
                    b = f.read(MiB)
                    if not b:
                        break
                    got += len(b)
            rates.append(got / MiB / (time.perf_counter() - t0))
        out['stat_us.' + subj] = med(per)
        out['reread_mibps.' + subj] = med(rates)
    return out


PTLL_SRC = '/usr/share/doc/libfuse3-dev/examples'


def passthrough_ll():
    """libfuse's passthrough_ll, compiled into a temporary directory."""
    out = os.path.join(tempfile.gettempdir(), 'fsx-bench-ptll')
    exe = os.path.join(out, 'passthrough_ll')
    if os.access(exe, os.X_OK):
        return exe
    os.makedirs(out, exist_ok=True)
    for f in ('passthrough_ll.c', 'passthrough_helpers.h'):
        src = os.path.join(PTLL_SRC, f)
        if not os.path.exists(src) and os.path.exists(src + '.gz'):
            subprocess.run('gzip -dc %s.gz > %s' % (src, os.path.join(out, f)),
                           shell=True, check=True)
        else:
            shutil.copy(src, out)
    flags = subprocess.run(['pkg-config', '--cflags', '--libs', 'fuse3'],
                           capture_output=True, text=True, check=True).stdout.split()
    subprocess.run(['cc', '-O2', '-o', exe, os.path.join(out, 'passthrough_ll.c')] + flags,
                   check=True)
    return exe


class Passthrough:
    def __init__(self, src, mnt):
        self.src, self.mnt = src, mnt
        os.makedirs(src, exist_ok=True)
        os.makedirs(mnt, exist_ok=True)
        subprocess.run([passthrough_ll(), '-o', 'source=%s' % src, mnt], check=True)
        eng.wait_for(lambda: eng.is_mounted(mnt), 10, 'passthrough mount')

    def stop(self):
        subprocess.run(['fusermount3', '-u', self.mnt], capture_output=True)


def fsc_stream(engine_, reps):
    """libfsx without FUSE, if the client's bench binary exists."""
    exe = os.path.join(BENCH_BIN, 'fsc_stream')
    if not os.access(exe, os.X_OK):
        return None
    res = []
    for _ in range(reps):
        r = subprocess.run([exe, '--mds', '127.0.0.1:%d' % engine_.mds.port,
                            '--secret-file', engine_.secret_file,
                            '--size-mb', str(SEQ_MB), '--stripe-count', '4',
                            '--drop-caches'], capture_output=True, text=True)
        if r.returncode != 0:
            log('fsc_stream failed: %s' % r.stderr[-500:])
            return None
        res.append(json.loads(r.stdout.strip().splitlines()[-1]))
    return dict(write_mbps=med([x['write_mbps'] for x in res]),
                read_mbps=med([x['read_mbps'] for x in res]))


def main():
    if os.geteuid() != 0:
        sys.exit('engine bench: run as root (drop_caches, FUSE mounts)')
    if shutil.which('fio') is None:
        sys.exit('engine bench: fio is not installed')
    t_start = time.monotonic()
    work = tempfile.mkdtemp(prefix='fsx-bench-', dir=BASE)
    os.chmod(work, 0o755)
    res = dict(date=datetime.datetime.now().isoformat(timespec='seconds'),
               host=os.uname().nodename, cpus=os.cpu_count(), reps=REPS,
               seq_mb=SEQ_MB, files=NFILES, rand_secs=RAND_SECS,
               stripe_count=4, stripe_size=MiB, figures={}, samples={})
    fig = res['figures']
    smp = res['samples']
    e = pt = ptt = ttmp = None
    try:
        e = eng.Engine(n_ost=4, n_oss=int(os.environ.get('BENCH_OSS', '2')),
                       ost_capacity=64 * 1024 ** 3, base=work).start()
        global MDS_PID
        MDS_PID = e.mds.proc.pid
        fsx = e.mount('fsx')
        raw = os.path.join(work, 'raw')
        os.mkdir(raw)
        pt = Passthrough(os.path.join(work, 'ptsrc'), os.path.join(work, 'pt'))
        bdir = os.path.join(fsx, 'bench')
        os.mkdir(bdir)
        eng.set_layout(bdir, 4, MiB)
        targets = dict(raw=raw, raw_direct=raw, passthrough=pt.mnt, fsx=bdir)

        def collect(phase, subjects, fn, names):
            """REPS rounds of fn(subject) over the subjects in turn; fn
            returns one value per name."""
            if phase not in PHASES:
                return
            got = {(t, n): [] for t in subjects for n in names}
            for i in range(REPS):
                for t in subjects:
                    vals = fn(t, i)
                    log('%s %s rep %d: %s' % (phase, t, i, ', '.join(
                        '%s %.0f' % (n, v) for n, v in zip(names, vals))))
                    for n, v in zip(names, vals):
                        got[(t, n)].append(v)
            for (t, n), xs in got.items():
                fig[n + '.' + t] = med(xs)
                smp[n + '.' + t] = xs

        # raw is the disk baseline (fio through the page cache);
        # raw_direct, the same with O_DIRECT, is the disk's own speed,
        # which the OSS's direct transfers can reach and raw may not.
        collect('seq', ('raw', 'raw_direct', 'passthrough', 'fsx'),
                lambda t, i: seq_write_read(targets[t],
                                            direct=(t == 'raw_direct'),
                                            mds=(t == 'fsx')),
                ('seq_write_mibps', 'seq_read_mibps'))
        collect('rand', ('passthrough', 'fsx'),
                lambda t, i: rand_iops(targets[t], mds=(t == 'fsx')),
                ('rand4k_read_iops', 'rand4k_write_iops'))
        for t in ('passthrough', 'fsx'):
            f = os.path.join(targets[t], 'rand.dat')
            if os.path.exists(f):
                os.unlink(f)
        # The passthrough over the disk is bounded by ext4's inode
        # allocator here (a profile shows recently_deleted and
        # find_inode_bit), not by FUSE; the same passthrough over tmpfs
        # shows what FUSE itself allows, and fsx is quoted against both.
        meta_subjects = ('passthrough', 'fsx')
        if 'meta' in PHASES and TMPFS and os.path.isdir(TMPFS):
            ttmp = tempfile.mkdtemp(prefix='fsx-bench-', dir=TMPFS)
            ptt = Passthrough(os.path.join(ttmp, 'src'),
                              os.path.join(work, 'pt_tmpfs'))
            targets['pt_tmpfs'] = ptt.mnt
            meta_subjects = ('passthrough', 'pt_tmpfs', 'fsx')
        collect('meta', meta_subjects,
                lambda t, i: metadata(os.path.join(targets[t], 'md%d' % i),
                                      NFILES, mds=(t == 'fsx')),
                ('create_ops', 'stat_ops', 'unlink_ops'))

        if 'coherence' in PHASES:
            r2 = e.mount('fsx2')
            plain = e.mount('fsx_plain', opts='noleases')
            got = coherence(fsx, r2, plain, COH_FILES, REPS,
                            pt=targets.get('passthrough'))
            log('coherence: %s' % ', '.join('%s %.1f' % kv
                                            for kv in sorted(got.items())))
            fig.update(got)

        st = fsc_stream(e, REPS) if 'libfsx' in PHASES else None
        if st is not None:
            fig['seq_write_mibps.libfsx'] = st['write_mbps']
            fig['seq_read_mibps.libfsx'] = st['read_mbps']

        for phase, xs in MDS_CPU.items():
            fig['mds_cpu_us.' + phase] = med(xs)
            smp['mds_cpu_us.' + phase] = xs
        res['rss_kib'] = dict(mds=e.mds.vmhwm_kib())
        for i, s in enumerate(e.oss):
            res['rss_kib']['oss%d' % i] = s.vmhwm_kib()
    finally:
        for p in (pt, ptt):
            if p is not None:
                p.stop()
        if ttmp is not None:
            shutil.rmtree(ttmp, ignore_errors=True)
        if e is not None:
            e.stop()
        shutil.rmtree(work, ignore_errors=True)
    res['elapsed_s'] = round(time.monotonic() - t_start, 1)
    with open('/proc/loadavg') as f:
        res['loadavg'] = ' '.join(f.read().split()[:3])
    report(res)


def report(res):
    fig = res['figures']
    lines = ['fsx-local engine benchmark, %s, %s, %d CPUs' % (res['date'], res['host'], res['cpus']),
             'stripe count %d x %d KiB; streaming file %d MiB; %d files; medians of %d'
             % (res['stripe_count'], res['stripe_size'] // 1024, res['seq_mb'],
                res['files'], res['reps']),
             'load average at the end: %s' % res.get('loadavg', '?'),
             '',
             '%-18s %-12s %10s   %-12s %10s %8s' % ('figure', 'subject', 'value',
                                                  'baseline', 'value', 'ratio')]

    def row(metric, base, subject='fsx', unit=''):
        b = fig.get('%s.%s' % (metric, base))
        v = fig.get('%s.%s' % (metric, subject))
        if v is None or b is None:
            return
        ratio = v / b if b else 0
        res.setdefault('ratios', {})['%s.%s/%s' % (metric, subject, base)] = round(ratio, 3)
        lines.append('%-18s %-12s %10.0f   %-12s %10.0f %7.2fx' % (
            metric, subject, v, base, b, ratio))

    for m in ('seq_write_mibps', 'seq_read_mibps'):
        row(m, 'raw')
        row(m, 'raw_direct')
        row(m, 'passthrough')
        row(m, 'raw', 'passthrough')
        row(m, 'raw', 'libfsx')
        row(m, 'raw_direct', 'libfsx')
    for m in ('rand4k_read_iops', 'rand4k_write_iops', 'create_ops', 'stat_ops', 'unlink_ops'):
        row(m, 'passthrough')
    for m in ('create_ops', 'stat_ops', 'unlink_ops'):
        row(m, 'pt_tmpfs')
        row(m, 'passthrough', 'pt_tmpfs')
    # leases (docs/leases.md): lower is better for stat_us
    row('stat_us', 'nolease', 'lease')
    row('reread_mibps', 'nolease', 'lease')
    row('reread_mibps', 'passthrough', 'lease')
    row('stat_us', 'passthrough', 'lease')
    if 'revoke_visible_us' in fig:
        lines.append('%-18s %-12s %10.0f   (chmod on one mount until a '
                     'second that caches it sees it)' % (
                         'revoke_visible_us', 'fsx', fig['revoke_visible_us']))
    cpu = [(k.split('.', 1)[1], v) for k, v in sorted(fig.items())
           if k.startswith('mds_cpu_us.')]
    if cpu:
        lines.append('MDS CPU per operation (user+system, us): ' + ', '.join(
            '%s %.1f' % kv for kv in cpu))
    lines.append('')
    lines.append('peak RSS (VmHWM): ' + ', '.join('%s %d KiB' % kv for kv in sorted(res['rss_kib'].items())))
    if 'seq_write_mibps.libfsx' not in fig and 'libfsx' in PHASES:
        lines.append('libfsx without FUSE: not measured (no build/bench/fsc_stream)')
    lines.append('elapsed: %.0f s' % res['elapsed_s'])
    text = '\n'.join(lines) + '\n'
    print(text)
    outdir = os.path.join(HERE, 'results')
    os.makedirs(outdir, exist_ok=True)
    stamp = datetime.datetime.now().strftime('%Y%m%d-%H%M%S')
    with open(os.path.join(outdir, 'engine-%s.txt' % stamp), 'w') as f:
        f.write(text)
    with open(os.path.join(outdir, 'engine-%s.json' % stamp), 'w') as f:
        json.dump(res, f, indent=1, sort_keys=True)
        f.write('\n')
    log('wrote bench/results/engine-%s.{txt,json}' % stamp)


if __name__ == '__main__':
    main()
