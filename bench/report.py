#!/usr/bin/env python3
"""bench/report.py: the one table of every benchmark figure.

Reads the newest bench/results/<kind>-*.json of each kind (api, engine,
stripe, peers, backup, s3, idle, ...), and writes

  bench/results/<date>-<host>.json   every figure of this report, with the
                                     file each came from
  bench/results/latest.md            figure | ours | each baseline (ratio)
                                     | target | met or not
  bench/results/*.png                plots (gnuplot, when installed)

A result file holds {"figures": {key: number | {"median", "min", "max",
"samples"}}, "samples": {key: [...]}} (either form); ROWS below says which
keys make a row. A row whose figure no result file has says "not measured"
rather than disappearing, so a missing benchmark is visible."""
import datetime
import glob
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RES = os.path.join(HERE, 'results')

# (label, kind, ours, [(baseline label, key)...], target, higher_is_better)
# target: None, or (baseline label or '', op, value): '' compares the
# figure itself, a baseline label compares ours/baseline.
ROWS = [
    ('API: signed DescribeFileSystems, 32 conns (req/s)', 'api',
     'describe_rps.c32.fsxd', [('moto_server', 'describe_rps.c32.moto'),
                               ('bare libmicrohttpd', 'describe_rps.c32.bare')],
     ('bare libmicrohttpd', '>=', 0.7), True),
    ('API: DescribeFileSystems p99, 32 conns (ms)', 'api',
     'describe_p99_ms.c32.fsxd', [('moto_server', 'describe_p99_ms.c32.moto')],
     None, False),
    ('API: DescribeFileSystems, 1 conn (req/s)', 'api',
     'describe_rps.c1.fsxd', [('moto_server', 'describe_rps.c1.moto')], None, True),
    ('API: CreateFileSystem, same token, 8 conns (req/s)', 'api',
     'create_rps.c8.fsxd', [('moto_server', 'create_rps.c8.moto')], None, True),
    ('API: CreateFileSystem -> AVAILABLE (ms)', 'api', 'create_available_ms',
     [('one Describe round trip', 'describe_roundtrip_ms')], ('', '<=', 300), False),
    ('API: Describe, 1,000 stored file systems, vs 10 (req/s)', 'api',
     'describe_rps.stored1000', [('10 stored', 'describe_rps.stored10')], None, True),
    ('API: Describe by id, 1,000 stored, vs 10 (req/s)', 'api',
     'describe_id_rps.stored1000', [('10 stored', 'describe_id_rps.stored10')], None, True),
    ('API: Describe, 10,000 stored file systems, vs 10 (req/s)', 'api',
     'describe_rps.stored10000', [('10 stored', 'describe_rps.stored10')], None, True),
    ('API: Describe by id, 10,000 stored, vs 10 (req/s)', 'api',
     'describe_id_rps.stored10000', [('10 stored', 'describe_id_rps.stored10')], None, True),
    ('Engine: sequential write (MiB/s)', 'engine', 'seq_write_mibps.fsx',
     [('passthrough_ll', 'seq_write_mibps.passthrough'), ('raw disk', 'seq_write_mibps.raw')],
     None, True),
    ('Engine: sequential cold read (MiB/s)', 'engine', 'seq_read_mibps.fsx',
     [('passthrough_ll', 'seq_read_mibps.passthrough'), ('raw disk', 'seq_read_mibps.raw')],
     None, True),
    ('Engine: 4 KiB random read, cold (IOPS)', 'engine', 'rand4k_read_iops.fsx',
     [('passthrough_ll', 'rand4k_read_iops.passthrough')], ('passthrough_ll', '>=', 0.5), True),
    ('Engine: 4 KiB random write (IOPS)', 'engine', 'rand4k_write_iops.fsx',
     [('passthrough_ll', 'rand4k_write_iops.passthrough')], None, True),
    ('Engine: create (files/s)', 'engine', 'create_ops.fsx',
     [('passthrough_ll', 'create_ops.passthrough'), ('passthrough_ll on tmpfs', 'create_ops.pt_tmpfs')],
     ('passthrough_ll', '>=', 0.7), True),
    ('Engine: stat (files/s)', 'engine', 'stat_ops.fsx',
     [('passthrough_ll', 'stat_ops.passthrough'), ('passthrough_ll on tmpfs', 'stat_ops.pt_tmpfs')],
     ('passthrough_ll', '>=', 1.0), True),
    ('Engine: unlink (files/s)', 'engine', 'unlink_ops.fsx',
     [('passthrough_ll', 'unlink_ops.passthrough'), ('passthrough_ll on tmpfs', 'unlink_ops.pt_tmpfs')],
     ('passthrough_ll', '>=', 0.7), True),
    ('Engine: re-read of unchanged data (MiB/s)', 'engine', 'reread_mibps.lease',
     [('passthrough_ll', 'reread_mibps.passthrough'), ('no leases', 'reread_mibps.nolease')],
     ('passthrough_ll', '>=', 1.0), True),
    ('Engine: change visible on a caching mount (us)', 'engine', 'revoke_visible_us',
     [], None, False),
    ('Leases: stat of the {recent} most recent of {files} files touched, cap {lease_max} (stats/s)',
     'leases', 'recent_stat_ops.past_cap',
     [('a mount that touched only those', 'recent_stat_ops.under_cap')], None, True),
    ('Leases: MDS round trips per stat of those files', 'leases',
     'recent_stat_ops.past_cap_trips', [], None, False),
    ('Stripes: write, 8 stripes vs 1 (MiB/s)', 'stripe', 'write_mibps.c8.bs1024k',
     [('1 stripe', 'write_mibps.c1.bs1024k')], None, True),
    ('Stripes: read, 8 stripes vs 1 (MiB/s)', 'stripe', 'read_mibps.c8.bs1024k',
     [('1 stripe', 'read_mibps.c1.bs1024k')], None, True),
    ('Stripes: 4 KiB writes vs passthrough_ll (MiB/s)', 'stripe', 'write_mibps.c4.bs4k',
     [('passthrough_ll', 'write_mibps.pt.bs4k')], None, True),
    ('Scale: 4 mounts writing at once vs 1 (aggregate MiB/s)', 'stripe',
     'write_mibps.clients4', [('1 mount', 'write_mibps.clients1')], None, True),
    ('Scale: 4 mounts reading at once vs 1 (aggregate MiB/s)', 'stripe',
     'read_mibps.clients4', [('1 mount', 'read_mibps.clients1')], None, True),
    ('Backup of 1 GiB in 1,000 files (s)', 'backup', 'backup_s',
     [('tar -cf of the same tree', 'tar_c_s')], ('tar -cf of the same tree', '<=', 1.0), False),
    ('Incremental backup after a 1% change (s)', 'backup', 'incr_s', [], None, False),
    ('Incremental backup after a 1% change (bytes stored)', 'backup', 'incr_bytes',
     [('bytes changed', 'incr_changed_bytes')], None, False),
    ('Restore to AVAILABLE (s)', 'backup', 'restore_s', [('tar -x', 'tar_x_s')], None, False),
    ('Longest append+close during a backup (ms)', 'backup', 'pause_backup_ms',
     [('without a backup', 'pause_idle_ms')], None, False),
    ('Longest create+write+close of new files during a backup (ms)', 'backup',
     'pause_new_backup_ms', [('without a backup', 'pause_new_idle_ms')], None, False),
    ('S3: first read of a {big_mib} MiB released file (s)', 's3', 'restore.fsx_s',
     [('aws s3 cp', 'restore.aws_s3_cp_s')], ('aws s3 cp', '<=', 1.0), False),
    ('S3: metadata import of 10,000 objects (s)', 's3', 'import.fsx_s',
     [('aws s3api list-objects-v2', 'import.aws_list_s')], None, False),
    ('S3: export of 1,000 small files (s)', 's3', 'export.small.fsx_s',
     [('aws s3 cp --recursive', 'export.small.aws_s3_cp_s')], None, False),
    ('S3: export of one {big_mib} MiB file (s)', 's3', 'export.big.fsx_s',
     [('aws s3 cp', 'export.big.aws_s3_cp_s')], None, False),
    ('Idle: {n_file_systems} file systems, % of one core', 'idle', 'cpu_pct_of_one_core', [],
     ('', '<=', 5), False),
    ('Idle: {n_file_systems} file systems, memory (Pss, MiB)', 'idle', 'pss_mib', [], ('', '<=', 4096), False),
    ('Workload: data loader, 4 readers, cold (files/s)', 'workload',
     'loader_files_s.fsx', [('passthrough_ll', 'loader_files_s.passthrough'),
                            ('ext4', 'loader_files_s.ext4')], ('passthrough_ll', '>=', 1.0), True),
    ('Workload: tar -x of /usr/include (s)', 'workload', 'tar_x_s.fsx',
     [('passthrough_ll', 'tar_x_s.passthrough'), ('ext4', 'tar_x_s.ext4')], None, False),
    ('Workload: git clone (s)', 'workload', 'git_clone_s.fsx',
     [('passthrough_ll', 'git_clone_s.passthrough'), ('ext4', 'git_clone_s.ext4')], None, False),
    ('Workload: git status, cold (s)', 'workload', 'git_status_s.fsx',
     [('passthrough_ll', 'git_status_s.passthrough'), ('ext4', 'git_status_s.ext4')], None, False),
    ('Workload: build of this project (s)', 'workload', 'build_s.fsx',
     [('ext4', 'build_s.ext4'), ('passthrough_ll', 'build_s.passthrough')],
     ('ext4', '<=', 1.05), False),
]


def newest(kind):
    files = sorted(glob.glob(os.path.join(RES, '%s-*.json' % kind)))
    files = [f for f in files if os.path.basename(f)[len(kind) + 1:][:1].isdigit()
             and '-before' not in f]  # a re-run of old code, kept for comparison
    return files[-1] if files else None


def figure(doc, key):
    """{'median', 'min', 'max'} of key in a result document, or None."""
    if doc is None:
        return None
    v = doc.get('figures', {}).get(key)
    if v is None:  # documents without a figures table: a dotted path
        v = doc
        for part in key.split('.'):
            v = v.get(part) if isinstance(v, dict) else None
        if not isinstance(v, (int, float)) or isinstance(v, bool):
            return None
        return {'median': float(v), 'min': float(v), 'max': float(v)}
    if isinstance(v, dict):
        return {'median': v['median'], 'min': v.get('min', v['median']),
                'max': v.get('max', v['median'])}
    xs = doc.get('samples', {}).get(key) or [v]
    return {'median': float(v), 'min': float(min(xs)), 'max': float(max(xs))}


def ratio(doc, key, bkey, ours, base):
    """ours ÷ baseline. Where both were sampled in the same interleaved
    reps, the median of the per-rep ratios: a machine that slows down or
    speeds up during the run moves both sides of a rep alike, and the
    ratio of two medians taken from different reps can say "met" when no
    rep did."""
    if not ours or not base or not base['median']:
        return None
    xs = (doc or {}).get('samples', {}).get(key) or []
    ys = (doc or {}).get('samples', {}).get(bkey) or []
    if len(xs) >= 2 and len(xs) == len(ys) and all(ys):
        return statistics.median(x / y for x, y in zip(xs, ys))
    return ours['median'] / base['median']


def fmt(x):
    if x is None:
        return 'not measured'
    m = x['median']
    s = '%.0f' % m if m >= 100 else '%.2f' % m
    if x['min'] != x['max']:
        s += ' (%s–%s)' % tuple(('%.0f' % v if v >= 100 else '%.2f' % v)
                               for v in (x['min'], x['max']))
    return s


def main():
    docs, srcs = {}, {}
    for kind in sorted({r[1] for r in ROWS} | {os.path.basename(f).split('-')[0]
                                               for f in glob.glob(os.path.join(RES, '*-*.json'))
                                               if not os.path.basename(f)[0].isdigit()}):
        f = newest(kind)
        if f:
            docs[kind] = json.load(open(f))
            srcs[kind] = os.path.relpath(f, os.path.dirname(HERE))
    uring = os.environ.get('BENCH_FUSE_URING', 'unknown')
    out = {'date': datetime.datetime.now().isoformat(timespec='seconds'),
           'host': socket.gethostname(), 'cpus': os.cpu_count(), 'sources': srcs,
           'fuse_io_uring': uring, 'rows': []}
    lines = ['# Benchmarks: latest figures', '',
             'Generated by `bench/report.py` on %s (%s, %d CPUs; FUSE over io_uring '
             'allowed for fsx-mount: %s) from:' % (out['date'], out['host'],
                                                   os.cpu_count(), uring), '']
    for kind, f in sorted(srcs.items()):
        lines.append('- %s: `%s`' % (kind, f))
    lines += ['', 'Reproduce: `make bench` (or `make bench QUICK=1`; peers: `make bench PEERS=1`).',
              'Each figure is the median of repeated runs (min–max in brackets); every',
              'baseline ran in the same run, interleaved with ours; a ratio is the',
              'median of the per-run ratios where both sides were sampled in each run.', '',
              '| figure | ours | baselines (ours ÷ baseline) | target | met |',
              '|---|---|---|---|---|']
    for label, kind, key, bases, target, higher in ROWS:
        doc = docs.get(kind)
        if '{' in label:  # a count the result document states
            try:
                label = label.format(**(doc or {}))
            except (KeyError, IndexError, ValueError):
                label = label.replace('{n_file_systems}', 'N')
        ours = figure(doc, key)
        bcells, ratios = [], {}
        for bl, bk in bases:
            b = figure(doc, bk)
            if b is None:
                continue
            r = ratio(doc, key, bk, ours, b)
            ratios[bl] = r
            bcells.append('%s %s%s' % (bl, fmt(b), '' if r is None else ' (%.2f×)' % r))
        tcell, met = '', ''
        if target:
            tl, op, tv = target
            val = (ours['median'] if ours else None) if tl == '' else ratios.get(tl)
            tcell = ('%s %s' % (op, tv)) if tl == '' else ('%s %s× %s' % (op, tv, tl))
            if val is None:
                met = 'not measured'
            else:
                met = 'yes' if (val >= tv if op == '>=' else val <= tv) else 'no'
        lines.append('| %s | %s | %s | %s | %s |' % (label, fmt(ours), '; '.join(bcells) or '—',
                                                 tcell or '—', met or '—'))
        out['rows'].append({'figure': label, 'kind': kind, 'key': key, 'ours': ours,
                            'ratios': ratios, 'target': target, 'met': met or None})
    # Other kinds' own tables (backup, s3, idle, peers...) when they give one.
    for kind, doc in sorted(docs.items()):
        if 'table' in doc:
            lines += ['', '## %s' % kind, '', '| figure | ours | baseline | ratio | target | met |',
                      '|---|---|---|---|---|---|']
            for row in doc['table']:
                lines.append('| %s |' % ' | '.join(str(row.get(c, '—')) for c in
                                                  ('figure', 'ours', 'baseline', 'ratio',
                                                   'target', 'met')))
    plots = make_plots(docs)
    for f in glob.glob(os.path.join(RES, '*.dat')):
        os.unlink(f)
    if plots:
        lines += ['', '## Plots', '']
        lines += ['![%s](%s)' % (p, p) for p in plots]
    md = '\n'.join(lines) + '\n'
    with open(os.path.join(RES, 'latest.md'), 'w') as fh:
        fh.write(md)
    name = '%s-%s.json' % (datetime.datetime.now().strftime('%Y%m%d-%H%M%S'),
                           socket.gethostname())
    with open(os.path.join(RES, name), 'w') as fh:
        json.dump(out, fh, indent=1)
    print(md)
    print('report: bench/results/latest.md, bench/results/%s' % name)


def gnuplot(script):
    subprocess.run(['gnuplot'], input=script, text=True, check=True, cwd=RES)


def make_plots(docs):
    """PNG plots for what the results hold; [] without gnuplot."""
    if shutil.which('gnuplot') is None:
        print('report: gnuplot not installed, no plots', file=sys.stderr)
        return []
    made = []
    head = 'set terminal pngcairo size 800,480 noenhanced\nset grid\nset key left top\n'
    api = docs.get('api')
    if api:
        rows = []
        for c in (1, 8, 32):
            vals = [figure(api, 'describe_p%s_ms.c%d.%s' % (p, c, w))
                    for w in ('fsxd', 'moto') for p in ('50', '99')]
            if all(vals):
                rows.append('%d %s' % (c, ' '.join('%.3f' % v['median'] for v in vals)))
        if rows:
            open(os.path.join(RES, 'api_latency.dat'), 'w').write('\n'.join(rows) + '\n')
            gnuplot(head + 'set output "api_latency.png"\nset logscale y\n'
                    'set xlabel "concurrent connections"\nset ylabel "latency (ms)"\n'
                    'set title "Signed DescribeFileSystems latency"\n'
                    'plot "api_latency.dat" u 1:2 w lp t "fsxd p50", '
                    '"" u 1:3 w lp t "fsxd p99", "" u 1:4 w lp t "moto_server p50", '
                    '"" u 1:5 w lp t "moto_server p99"\n')
            made.append('api_latency.png')
    st = docs.get('stripe')
    if st:
        counts = st.get('stripe_counts', [])
        sizes = st.get('block_sizes_k', [])
        rows = ['%d %.1f %.1f' % (c, figure(st, 'write_mibps.c%d.bs1024k' % c)['median'],
                                  figure(st, 'read_mibps.c%d.bs1024k' % c)['median'])
                for c in counts if figure(st, 'write_mibps.c%d.bs1024k' % c)
                and figure(st, 'read_mibps.c%d.bs1024k' % c)]
        if rows:
            open(os.path.join(RES, 'stripe_count.dat'), 'w').write('\n'.join(rows) + '\n')
            gnuplot(head + 'set output "stripe_count.png"\nset xlabel "stripe count"\n'
                    'set ylabel "MiB/s"\nset title "Throughput by stripe count (1 MiB I/O)"\n'
                    'plot "stripe_count.dat" u 1:2 w lp t "write", "" u 1:3 w lp t "read"\n')
            made.append('stripe_count.png')
        rows = []
        for k in sizes:
            vals = [figure(st, '%s_mibps.%s.bs%dk' % (d, w, k))
                    for w in ('c4', 'pt') for d in ('write', 'read')]
            if all(vals):
                rows.append('%d %s' % (k, ' '.join('%.1f' % v['median'] for v in vals)))
        if rows:
            open(os.path.join(RES, 'block_size.dat'), 'w').write('\n'.join(rows) + '\n')
            gnuplot(head + 'set output "block_size.png"\nset logscale x 2\n'
                    'set xlabel "block size (KiB)"\nset ylabel "MiB/s"\n'
                    'set title "Throughput by block size (4 stripes) vs passthrough_ll"\n'
                    'plot "block_size.dat" u 1:2 w lp t "fsx write", "" u 1:3 w lp t "fsx read", '
                    '"" u 1:4 w lp t "passthrough_ll write", "" u 1:5 w lp t "passthrough_ll read"\n')
            made.append('block_size.png')
    en = docs.get('engine')
    if en:
        rows = []
        for i, op in enumerate(('create_ops', 'stat_ops', 'unlink_ops')):
            v = [figure(en, '%s.%s' % (op, w)) for w in ('fsx', 'passthrough')]
            if all(v):
                rows.append('%d "%s" %.0f %.0f' % (i, op.split('_')[0], v[0]['median'],
                                                   v[1]['median']))
        if rows:
            open(os.path.join(RES, 'metadata.dat'), 'w').write('\n'.join(rows) + '\n')
            gnuplot(head + 'set output "metadata.png"\nset style data histogram\n'
                    'set style histogram clustered\nset style fill solid 0.6\n'
                    'set ylabel "operations/s"\nset title "Metadata rates (mdtest-like)"\n'
                    'plot "metadata.dat" u 3:xtic(2) t "fsx", "" u 4 t "passthrough_ll"\n')
            made.append('metadata.png')
    return made


if __name__ == '__main__':
    main()
