"""Random operations on one file through two mounts, every read checked
against an in-memory model of the file.

  model-1.1: writes, reads, truncates up and down, mmap writes, fallocate
             punch and zero range, fsync and reopen, in segments that
             alternate between the two mounts (close-to-open between
             them), seeded (FSX_MODEL_SEED, else random and printed),
             bounded to about 30 s.
"""
import mmap
import os
import random
import time

from .engine import TwoMountCase, set_layout, KiB, MiB
from .test_defects import (fallocate, FALLOC_FL_KEEP_SIZE,
                           FALLOC_FL_PUNCH_HOLE, FALLOC_FL_ZERO_RANGE)

MAXLEN = 1 * MiB
OPS = 3000
BUDGET_S = 30.0


class ModelTests(TwoMountCase):

    def test_random_ops_two_mounts_match_model(self):
        seed = int(os.environ.get('FSX_MODEL_SEED') or
                   random.randrange(1, 1 << 30))
        rnd = random.Random(seed)
        paths = (self.p1('model'), self.p2('model'))
        set_layout(paths[0], 4, 64 * KiB)
        model = bytearray()
        log = []
        side = 0
        fd = os.open(paths[side], os.O_RDWR)
        t_end = time.monotonic() + BUDGET_S
        done = 0

        def fail(what):
            self.fail('seed %d, op %d: %s\nlast ops:\n%s' %
                      (seed, done, what, '\n'.join(log[-25:])))

        def check(off, length, where):
            got = os.pread(fd, length, off)
            want = bytes(model[off:off + length])
            if got != want:
                bad = next((i for i in range(min(len(got), len(want)))
                            if got[i] != want[i]), min(len(got), len(want)))
                fail('%s: read %d at %#x: got %d bytes, want %d, first '
                     'difference at %#x' % (where, length, off, len(got),
                                            len(want), off + bad))

        def span():
            off = rnd.randrange(0, MAXLEN)
            return off, rnd.randrange(1, min(64 * KiB, MAXLEN - off) + 1)

        try:
            seg_left = rnd.randrange(20, 80)
            while done < OPS and time.monotonic() < t_end:
                done += 1
                seg_left -= 1
                if seg_left <= 0:
                    # close here, open there (a chmod through the other
                    # mount refreshes its cached attributes, as an open
                    # revalidates them)
                    os.close(fd)
                    side ^= 1
                    os.chmod(paths[side], 0o644)
                    fd = os.open(paths[side], os.O_RDWR)
                    log.append('switch to mount %d' % (side + 1))
                    if os.fstat(fd).st_size != len(model):
                        fail('size %d after switch, want %d' %
                             (os.fstat(fd).st_size, len(model)))
                    check(0, MAXLEN, 'whole file after switch')
                    seg_left = rnd.randrange(20, 80)
                    continue
                op = rnd.choice(('write', 'write', 'read', 'read', 'trunc',
                                 'mapwrite', 'punch', 'zero', 'fsync',
                                 'reopen'))
                if op == 'write':
                    off, n = span()
                    data = rnd.randbytes(n)
                    os.pwrite(fd, data, off)
                    if off > len(model):
                        model += bytes(off - len(model))
                    model[off:off + n] = data
                    log.append('write %#x+%#x' % (off, n))
                elif op == 'read':
                    off, n = span()
                    log.append('read %#x+%#x' % (off, n))
                    check(off, n, 'read')
                elif op == 'trunc':
                    size = rnd.randrange(0, MAXLEN + 1)
                    os.ftruncate(fd, size)
                    if size < len(model):
                        del model[size:]
                    else:
                        model += bytes(size - len(model))
                    log.append('truncate %#x' % size)
                elif op == 'mapwrite':
                    if not model:
                        continue
                    off = rnd.randrange(0, len(model))
                    n = rnd.randrange(1, min(64 * KiB, len(model) - off) + 1)
                    data = rnd.randbytes(n)
                    m = mmap.mmap(fd, len(model))
                    try:
                        m[off:off + n] = data
                        m.flush()
                    finally:
                        m.close()
                    model[off:off + n] = data
                    log.append('mapwrite %#x+%#x' % (off, n))
                elif op in ('punch', 'zero'):
                    off, n = span()
                    if op == 'punch':
                        fallocate(fd, FALLOC_FL_PUNCH_HOLE |
                                  FALLOC_FL_KEEP_SIZE, off, n)
                        end = min(off + n, len(model))
                    else:
                        keep = rnd.random() < 0.5
                        fallocate(fd, FALLOC_FL_ZERO_RANGE |
                                  (FALLOC_FL_KEEP_SIZE if keep else 0), off, n)
                        end = min(off + n, len(model)) if keep else off + n
                        if end > len(model):
                            model += bytes(end - len(model))
                    if end > off:
                        model[off:end] = bytes(end - off)
                    log.append('%s %#x+%#x' % (op, off, n))
                elif op == 'fsync':
                    os.fsync(fd)
                    log.append('fsync')
                else:
                    os.close(fd)
                    fd = os.open(paths[side], os.O_RDWR)
                    log.append('reopen on mount %d' % (side + 1))
                if os.fstat(fd).st_size != len(model):
                    fail('size %d, want %d' % (os.fstat(fd).st_size,
                                               len(model)))
            check(0, MAXLEN, 'whole file at the end')
        finally:
            os.close(fd)
        # the other mount, after the last close
        os.chmod(paths[side ^ 1], 0o644)
        with open(paths[side ^ 1], 'rb') as f:
            if f.read() != bytes(model):
                fail('other mount disagrees at the end')
        print('model: seed %d, %d ops' % (seed, done))
