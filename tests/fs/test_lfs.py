"""lfs on a real mount: setstripe, getstripe, df and find, their Lustre
2.12 output shapes and their errors."""
import os
import re
import subprocess

from .engine import EngineCase, binpath, get_layout, set_layout, FS_ID, KiB, MiB, GiB


class LfsTests(EngineCase):

    def lfs(self, *args, ok=True):
        r = subprocess.run([binpath('lfs')] + list(args), capture_output=True,
                           text=True, cwd=self.mnt)
        if ok and r.returncode != 0:
            self.fail('lfs %s failed (%d): %s' % (' '.join(args), r.returncode, r.stderr))
        return r

    def test_setstripe_getstripe_file(self):
        f = self.path('striped')
        self.lfs('setstripe', '-c', '2', '-S', '128K', f)
        self.assertEqual(os.stat(f).st_size, 0)
        lay = get_layout(f)
        self.assertEqual((len(lay['ents']), lay['stripe_size']), (2, 128 * KiB))
        out = self.lfs('getstripe', f).stdout
        want = ('%s\n'
                'lmm_stripe_count:  2\n'
                'lmm_stripe_size:   131072\n'
                'lmm_pattern:       raid0\n'
                'lmm_layout_gen:    0\n'
                'lmm_stripe_offset: %d\n'
                '\tobdidx\t\t objid\t\t objid\t\t group\n' % (f, lay['ents'][0][0]))
        for ost, oid in lay['ents']:
            want += '\t%6u\t%14u\t%#13x\t%14u\n' % (ost, oid, oid, 0)
        want += '\n'
        self.assertEqual(out, want)
        self.assertEqual(self.lfs('getstripe', '-c', f).stdout, '2\n')
        self.assertEqual(self.lfs('getstripe', '-S', f).stdout, '131072\n')
        self.assertEqual(self.lfs('getstripe', '-i', f).stdout,
                         '%d\n' % lay['ents'][0][0])
        self.assertEqual(self.lfs('getstripe', '-c', '-S', f).stdout,
                         'lmm_stripe_count:  2\nlmm_stripe_size:   131072\n')
        q = self.lfs('getstripe', '-q', f).stdout
        self.assertTrue(q.startswith('\tobdidx'), q)
        self.assertEqual(len(q.strip().splitlines()), 3)
        # the layout holds for data
        with open(f, 'r+b') as fh:
            fh.write(os.urandom(MiB))
        self.assertEqual(self.lfs('getstripe', '-c', f).stdout, '2\n')

    def test_setstripe_index_and_all(self):
        f = self.path('on3')
        self.lfs('setstripe', '-c', '1', '-i', '3', f)
        self.assertEqual(self.lfs('getstripe', '-i', f).stdout, '3\n')
        g = self.path('wide')
        self.lfs('setstripe', '--stripe-count', '-1', '--stripe-size', '1M', g)
        self.assertEqual(self.lfs('getstripe', '-c', g).stdout, '4\n')
        self.assertEqual(self.lfs('getstripe', '-S', g).stdout, '1048576\n')

    def test_setstripe_dir_default(self):
        d = self.path('ddir')
        os.mkdir(d)
        out = self.lfs('getstripe', '-d', d).stdout
        self.assertRegex(out, r'^%s\nstripe_count:  -?\d+ stripe_size:   \d+ '
                         r'pattern:       raid0 stripe_offset: -?\d+\n$' % re.escape(d))
        self.lfs('setstripe', '-c', '4', '-S', '256K', d)
        self.assertEqual(self.lfs('getstripe', '-d', d).stdout,
                         '%s\nstripe_count:  4 stripe_size:   262144 '
                         'pattern:       raid0 stripe_offset: -1\n' % d)
        with open(os.path.join(d, 'child'), 'wb') as fh:
            fh.write(b'x')
        lay = get_layout(os.path.join(d, 'child'))
        self.assertEqual((len(lay['ents']), lay['stripe_size']), (4, 256 * KiB))
        # without -d the children are listed too
        out = self.lfs('getstripe', d).stdout
        self.assertIn('%s/child\nlmm_stripe_count:  4\n' % d, out)
        # unset fields come from the directory's default
        self.lfs('setstripe', '-c', '2', os.path.join(d, 'two'))
        lay = get_layout(os.path.join(d, 'two'))
        self.assertEqual((len(lay['ents']), lay['stripe_size']), (2, 256 * KiB))

    def test_errors(self):
        r = self.lfs('setstripe', '-S', '100k', self.path('bad'), ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('invalid stripe size', r.stderr)
        self.assertFalse(os.path.exists(self.path('bad')))
        r = self.lfs('setstripe', '-c', 'x', self.path('bad'), ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('invalid stripe count', r.stderr)
        r = self.lfs('setstripe', '-c', '1', ok=False)
        self.assertNotEqual(r.returncode, 0)
        r = self.lfs('getstripe', self.path('missing'), ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('No such file or directory', r.stderr)
        # a file with data keeps its layout
        f = self.path('full')
        with open(f, 'wb') as fh:
            fh.write(b'data' * 1000)
        before = get_layout(f)
        r = self.lfs('setstripe', '-c', '4', f, ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn(f, r.stderr)
        self.assertEqual(get_layout(f), before)
        r = self.lfs('nosuchverb', ok=False)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('unknown command', r.stderr)
        r = self.lfs('df', '/proc', ok=False)
        self.assertNotEqual(r.returncode, 0)

    def test_help_and_version(self):
        out = self.lfs('help').stdout
        verbs = [l.strip() for l in out.splitlines() if l.startswith('\t')]
        self.assertEqual(verbs, ['setstripe', 'getstripe', 'df', 'find',
                                 'hsm_state', 'hsm_action', 'hsm_archive',
                                 'hsm_release', 'hsm_restore', 'help',
                                 '--version'])
        self.assertRegex(self.lfs('--version').stdout, r'^lfs 2\.12\.\d+')
        self.assertIn('usage: setstripe', self.lfs('help', 'setstripe').stdout)

    def test_df(self):
        out = self.lfs('df', self.mnt).stdout
        lines = out.splitlines()
        self.assertEqual(lines[0].split(), ['UUID', '1K-blocks', 'Used', 'Available',
                                            'Use%', 'Mounted', 'on'])
        self.assertRegex(lines[0], r'^UUID {17}  1K-blocks        Used   Available Use% Mounted on$')
        rows = {}
        for l in lines[1:]:
            if not l.strip():
                continue
            parts = l.split()
            rows[parts[0]] = parts
        names = ['%s-MDT0000_UUID' % FS_ID] + ['%s-OST%04x_UUID' % (FS_ID, i)
                                               for i in range(4)]
        for n in names:
            self.assertIn(n, rows)
        cap = self.engine.ost_capacity // 1024
        for i in range(4):
            r = rows['%s-OST%04x_UUID' % (FS_ID, i)]
            self.assertEqual(int(r[1]), cap)
            self.assertLessEqual(int(r[2]) + int(r[3]), cap)
            self.assertEqual(r[5], '%s[OST:%d]' % (self.mnt, i))
        self.assertEqual(rows['%s-MDT0000_UUID' % FS_ID][5], '%s[MDT:0]' % self.mnt)
        summ = rows['filesystem_summary:']
        self.assertEqual(int(summ[1]), 4 * cap)
        self.assertEqual(summ[5], self.mnt)
        # the summary matches statfs(2) on the mount
        st = os.statvfs(self.mnt)
        self.assertEqual(int(summ[1]) * 1024, st.f_blocks * st.f_frsize)
        h = self.lfs('df', '-h', self.mnt).stdout
        self.assertRegex(h, r'\nfilesystem_summary: +%.1fG ' % (4 * self.engine.ost_capacity / GiB))
        self.assertIn(' bytes ', h.splitlines()[0])
        i = self.lfs('df', '-i', self.mnt).stdout
        self.assertEqual(i.splitlines()[0].split()[:5],
                         ['UUID', 'Inodes', 'IUsed', 'IFree', 'IUse%'])
        mdt = [l for l in i.splitlines() if 'MDT0000' in l][0].split()
        self.assertGreater(int(mdt[1]), 0)
        self.assertEqual(int(mdt[1]), int(mdt[2]) + int(mdt[3]))
        # no argument: every fsx mount, this one included
        self.assertIn('%s[OST:3]' % self.mnt, self.lfs('df').stdout)

    def test_find(self):
        top = self.path('tree')
        os.makedirs(os.path.join(top, 'a', 'b'))
        os.mkdir(os.path.join(top, 'c'))
        files = {
            'a/one.c': 10, 'a/two.h': 0, 'a/b/big.bin': 2 * MiB + 1,
            'c/mid.c': 5000, 'top.txt': 1024,
        }
        for rel, size in files.items():
            with open(os.path.join(top, rel), 'wb') as fh:
                fh.write(b'z' * size)
        set_layout(os.path.join(top, 'c', 'wide'), 4, 64 * KiB)
        os.symlink('top.txt', os.path.join(top, 'ln'))
        os.utime(os.path.join(top, 'top.txt'), (0, 1000))     # 1970

        def find(*args):
            out = self.lfs('find', top, *args).stdout
            return sorted(os.path.relpath(p, top) for p in out.splitlines())

        allf = sorted(list(files) + ['c/wide'])
        self.assertEqual(find('-t', 'f'), allf)
        self.assertEqual(find('--type', 'd'), ['.', 'a', 'a/b', 'c'])
        self.assertEqual(find('-t', 'l'), ['ln'])
        self.assertEqual(find('-n', '*.c'), ['a/one.c', 'c/mid.c'])
        self.assertEqual(find('--name', '*.c', '-s', '+1k'), ['c/mid.c'])
        self.assertEqual(find('-s', '+1M'), ['a/b/big.bin'])
        self.assertEqual(find('-t', 'f', '-s', '-1k'), ['a/two.h', 'c/wide'])
        self.assertEqual(find('-s', '1k'), ['a/one.c', 'top.txt'])   # rounds up
        self.assertEqual(find('-c', '4'), ['c/wide'])
        self.assertEqual(find('-t', 'f', '--stripe-count', '-2'),
                         sorted(set(allf) - {'c/wide'}))
        self.assertEqual(find('-t', 'f', '-M', '+365'), ['top.txt'])
        self.assertEqual(find('-t', 'f', '--mtime', '-1'),
                         sorted(set(allf) - {'top.txt'}))
        self.assertEqual(find('-t', 'f', '!', '-n', '*.c'),
                         sorted(set(allf) - {'a/one.c', 'c/mid.c'}))
        self.assertEqual(find('-D', '1', '-t', 'd'), ['.', 'a', 'c'])
        r = self.lfs('find', top, '--bogus', 'x', ok=False)
        self.assertNotEqual(r.returncode, 0)
        r = self.lfs('find', top, '-s', 'abc', ok=False)
        self.assertNotEqual(r.returncode, 0)

    def test_as_nobody(self):
        from .engine import as_nobody
        d = self.path('rootdir')
        os.mkdir(d, 0o755)
        f = os.path.join(d, 'readable')
        set_layout(f, 2, 64 * KiB)
        os.chmod(f, 0o644)
        lfs = binpath('lfs')
        r = as_nobody([lfs, 'getstripe', '-c', f], cwd='/')
        self.assertEqual((r.returncode, r.stdout), (0, '2\n'), r.stderr)
        r = as_nobody([lfs, 'setstripe', '-c', '1', os.path.join(d, 'new')], cwd='/')
        self.assertNotEqual(r.returncode, 0)
        self.assertIn('Permission denied', r.stderr)
        self.assertFalse(os.path.exists(os.path.join(d, 'new')))
        # only the owner (or root) changes a directory's default layout
        r = as_nobody([lfs, 'setstripe', '-c', '4', d], cwd='/')
        self.assertNotEqual(r.returncode, 0, 'nobody changed root\'s directory layout')
        self.assertEqual(self.lfs('getstripe', '-c', '-d', d).stdout.split()[-1:],
                         [self.lfs('getstripe', '-c', '-d', self.mnt).stdout.split()[-1]])
        # nor the layout of an empty file nobody cannot write (as in Lustre,
        # where setstripe on an existing file needs write access)
        g = os.path.join(d, 'emptyroot')
        open(g, 'w').close()
        os.chmod(g, 0o644)
        r = as_nobody([lfs, 'setstripe', '-c', '4', g], cwd='/')
        self.assertNotEqual(r.returncode, 0, 'nobody changed a read-only file\'s layout')
        os.chmod(g, 0o666)
        r = as_nobody([lfs, 'setstripe', '-c', '4', g], cwd='/')
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(get_layout(g)['ents']), 4)
