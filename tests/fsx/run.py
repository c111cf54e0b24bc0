#!/usr/bin/env python3
"""xfstests' fsx against an fsx-mount mount: random reads, writes, mmap
reads and writes, truncates, fallocate (mode 0, KEEP_SIZE, PUNCH_HOLE,
ZERO_RANGE), copy_file_range, each checked against fsx's own model.

Environment:
  FSX_OPS    operations per seed (default 100000)
  FSX_SEEDS  seeds 1..N (default 10)
  FSX_SRC    a fetched kdave/xfstests tree or git directory: fsx is built
             from it into /tmp/fsx-build (its code never enters this tree)
  FSX_PROG   the fsx binary when FSX_SRC is not given (default /tmp/fsx)
  FSX_MOUNT_OPTS  extra mount options (e.g. sync_write)
  FSX_BIN    our binaries (default build/bin)

With neither FSX_SRC nor an fsx binary, prints SKIP and exits 0.
Exit 1 when any seed fails; its fsx log (the failing operations) is
printed and kept in the log directory it names."""
import os
import shutil
import subprocess
import sys
import tempfile
import time

TOP = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TOP)

from fs.engine import Engine  # noqa: E402

CONFIG_HAVE = ('SYS_TYPES_H SYS_STAT_H SYS_STATVFS_H SYS_TIME_H SYS_IOCTL_H '
               'SYS_WAIT_H MALLOC_H DIRENT_H STDLIB_H UNISTD_H ERRNO_H '
               'STRING_H TIME_H SYS_PARAM_H LIBGEN_H ASSERT_H STRINGS_H '
               'LINUX_FALLOC_H SYS_MMAN_H ERR_H COPY_FILE_RANGE').split()
FILES = ('ltp/fsx.c', 'src/global.h', 'src/statx.h')


def build(src):
    """Build fsx from a work tree or a git directory; return its path."""
    work = '/tmp/fsx-build'
    shutil.rmtree(work, ignore_errors=True)
    os.makedirs(work)
    if os.path.exists(os.path.join(src, 'ltp', 'fsx.c')):
        for f in FILES:
            os.makedirs(os.path.join(work, os.path.dirname(f)), exist_ok=True)
            shutil.copy(os.path.join(src, f), os.path.join(work, f))
    else:
        arch = subprocess.run(['git', '--git-dir', src, 'archive', 'HEAD'] +
                              list(FILES), check=True, capture_output=True)
        subprocess.run(['tar', '-x', '-C', work], input=arch.stdout,
                       check=True)
    with open(os.path.join(work, 'config.h'), 'w') as f:
        for h in CONFIG_HAVE:
            f.write('#define HAVE_%s 1\n' % h)
        f.write('#define STDC_HEADERS 1\n')
    prog = os.path.join(work, 'fsx')
    subprocess.run(['cc', '-O2', '-w', '-D_GNU_SOURCE', '-include', 'getopt.h',
                    '-include', 'fcntl.h', '-include', 'sys/fcntl.h', '-I.',
                    '-Isrc', '-o', prog, 'ltp/fsx.c'], cwd=work, check=True)
    return prog


# fsx turns an operation off when the file system refuses it; these must
# stay on (they are what the mount claims to support).
REQUIRED = ('fallocate mode 0,', 'fallocate mode FALLOC_FL_KEEP_SIZE,',
            'fallocate mode FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE,',
            'fallocate mode FALLOC_FL_ZERO_RANGE,')


def disabled(lines):
    """The required operations fsx disabled (it logs 'does not support')."""
    return [r for r in REQUIRED for x in lines
            if 'does not support ' + r in x]


def main():
    ops = int(os.environ.get('FSX_OPS', '100000'))
    seeds = int(os.environ.get('FSX_SEEDS', '10'))
    src = os.environ.get('FSX_SRC')
    if src:
        prog = build(src)
    else:
        prog = os.environ.get('FSX_PROG', '/tmp/fsx')
        if not os.access(prog, os.X_OK):
            print('SKIP fsx: no %s and no FSX_SRC (fetch github:kdave/xfstests '
                  'and pass its tree or git directory as FSX_SRC)' % prog)
            return 0
    logdir = tempfile.mkdtemp(prefix='fsx-logs-', dir='/tmp')
    eng = Engine().start()
    failed = []
    try:
        mnt = eng.mount(opts=os.environ.get('FSX_MOUNT_OPTS') or None)
        for seed in range(1, seeds + 1):
            t0 = time.monotonic()
            path = os.path.join(mnt, 'fsx.%d' % seed)
            out = os.path.join(logdir, 'fsx.%d.out' % seed)
            with open(out, 'wb') as f:
                rc = subprocess.run([prog, '-N', str(ops), '-S', str(seed),
                                     '-P', logdir, path], stdout=f,
                                    stderr=subprocess.STDOUT).returncode
            with open(out, 'rb') as f:
                lines = f.read().decode('utf-8', 'replace').splitlines()
            off = disabled(lines)
            print('fsx seed %d: %d ops %s in %.1f s' %
                  (seed, ops, 'FAILED rc %d' % rc if rc != 0 else
                   'FAILED: disabled ' + ' '.join(off) if off else 'ok',
                   time.monotonic() - t0), flush=True)
            if rc != 0 or off:
                failed.append(seed)
                keep = [x for x in lines if 'SKIPPED' not in x]
                print('\n'.join(keep[:12] + ['...'] + keep[-40:]))
            else:
                os.unlink(path)
    finally:
        reports = eng.stop()
    if reports:             # sanitizer builds: any report fails the run
        print('fsx: sanitizer reports in the engine logs:\n' +
              '\n'.join(r[:3000] for r in reports))
        return 1
    if failed:
        print('fsx: seeds %s failed; logs in %s' % (failed, logdir))
        return 1
    shutil.rmtree(logdir, ignore_errors=True)
    print('fsx: %d seeds x %d ops passed' % (seeds, ops))
    return 0


if __name__ == '__main__':
    sys.exit(main())
