"""Ordinary tools on the mount: cp -a, tar, git, a C compiler, and
fsx-mount's daemon mode."""
import filecmp
import os
import shutil
import subprocess
import tempfile

from .engine import EngineCase, REPO, binpath, is_mounted


def run(argv, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        raise AssertionError('%s failed (%d):\n%s%s' % (' '.join(argv), r.returncode,
                                                       r.stdout, r.stderr))
    return r.stdout


def tree_diff(a, b):
    """Names, types, modes, sizes, link targets and contents that differ."""
    out = []
    for root, dirs, files in os.walk(a):
        rel = os.path.relpath(root, a)
        other = os.path.join(b, rel)
        for n in dirs + files:
            pa, pb = os.path.join(root, n), os.path.join(other, n)
            if not os.path.lexists(pb):
                out.append('missing ' + os.path.join(rel, n))
                continue
            sa, sb = os.lstat(pa), os.lstat(pb)
            if sa.st_mode != sb.st_mode:
                out.append('mode %s %o %o' % (os.path.join(rel, n), sa.st_mode, sb.st_mode))
            if os.path.islink(pa):
                if os.readlink(pa) != os.readlink(pb):
                    out.append('link ' + n)
            elif os.path.isfile(pa):
                if sa.st_size != sb.st_size or not filecmp.cmp(pa, pb, shallow=False):
                    out.append('content ' + os.path.join(rel, n))
        extra = set(os.listdir(other)) - set(dirs + files)
        out.extend('extra ' + os.path.join(rel, n) for n in extra)
    return out


class ToolTests(EngineCase):

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        # A source tree with files of many sizes, a symlink, modes, a hard link.
        cls.src = tempfile.mkdtemp(prefix='fsx-src-', dir='/var/tmp')
        shutil.copytree(os.path.join(REPO, 'src'), os.path.join(cls.src, 'src'),
                        symlinks=True)
        with open(os.path.join(cls.src, 'big.bin'), 'wb') as f:
            f.write(os.urandom(5 * 1024 * 1024 + 77))
        os.symlink('big.bin', os.path.join(cls.src, 'link'))
        os.link(os.path.join(cls.src, 'big.bin'), os.path.join(cls.src, 'hard'))
        os.chmod(os.path.join(cls.src, 'big.bin'), 0o600)
        os.mkdir(os.path.join(cls.src, 'emptydir'), 0o711)
        os.utime(os.path.join(cls.src, 'big.bin'), (1500000000, 1500000000))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.src, ignore_errors=True)
        super().tearDownClass()

    def test_cp_a_round_trip(self):
        dst = self.path('cp')
        run(['cp', '-a', self.src, dst])
        self.assertEqual(tree_diff(self.src, dst), [])
        st = os.stat(os.path.join(dst, 'big.bin'))
        self.assertEqual(int(st.st_mtime), 1500000000)
        self.assertEqual(st.st_nlink, 2, 'cp -a keeps hard links')
        back = tempfile.mkdtemp(prefix='fsx-back-', dir='/var/tmp')
        try:
            run(['cp', '-a', dst, os.path.join(back, 't')])
            self.assertEqual(tree_diff(self.src, os.path.join(back, 't')), [])
        finally:
            shutil.rmtree(back)
        run(['rm', '-rf', dst])
        self.assertFalse(os.path.exists(dst))

    def test_tar_round_trip(self):
        dst = self.path('tar')
        os.mkdir(dst)
        tarball = self.path('t.tar')
        run(['tar', '-C', self.src, '-cf', tarball, '.'])
        run(['tar', '-C', dst, '-xpf', tarball])
        self.assertEqual(tree_diff(self.src, dst), [])
        # and back out of the mount, through a pipe
        out = tempfile.mkdtemp(prefix='fsx-untar-', dir='/var/tmp')
        try:
            p1 = subprocess.Popen(['tar', '-C', dst, '-cf', '-', '.'],
                                  stdout=subprocess.PIPE)
            run(['tar', '-C', out, '-xpf', '-'], stdin=p1.stdout)
            self.assertEqual(p1.wait(), 0)
            self.assertEqual(tree_diff(self.src, out), [])
        finally:
            shutil.rmtree(out)

    def test_git_on_the_mount(self):
        repo = self.path('repo')
        os.mkdir(repo)
        env = dict(os.environ, GIT_AUTHOR_NAME='t', GIT_AUTHOR_EMAIL='t@e',
                   GIT_COMMITTER_NAME='t', GIT_COMMITTER_EMAIL='t@e',
                   HOME=self.engine.dir, GIT_CONFIG_NOSYSTEM='1')
        run(['git', 'init', '-q', repo], env=env)
        shutil.copytree(os.path.join(self.src, 'src'), os.path.join(repo, 'src'))
        run(['git', '-C', repo, 'add', '-A'], env=env)
        run(['git', '-C', repo, 'commit', '-q', '-m', 'first'], env=env)
        with open(os.path.join(repo, 'src', 'new.txt'), 'w') as f:
            f.write('second\n')
        run(['git', '-C', repo, 'add', 'src/new.txt'], env=env)
        run(['git', '-C', repo, 'commit', '-q', '-m', 'second'], env=env)
        log = run(['git', '-C', repo, 'log', '--oneline'], env=env)
        self.assertEqual(len(log.splitlines()), 2)
        run(['git', '-C', repo, 'fsck', '--strict'], env=env)
        self.assertEqual(run(['git', '-C', repo, 'status', '--porcelain'], env=env), '')
        # a clone from the mount to the mount
        run(['git', 'clone', '-q', repo, repo + '2'], env=env)
        self.assertEqual(tree_diff(os.path.join(repo, 'src'),
                                   os.path.join(repo + '2', 'src')), [])

    def test_cc_compile_and_run(self):
        d = self.path('cc')
        os.mkdir(d)
        with open(os.path.join(d, 'util.h'), 'w') as f:
            f.write('int add(int a, int b);\n')
        with open(os.path.join(d, 'util.c'), 'w') as f:
            f.write('#include "util.h"\nint add(int a, int b) { return a + b; }\n')
        with open(os.path.join(d, 'main.c'), 'w') as f:
            f.write('#include <stdio.h>\n#include "util.h"\n'
                    'int main(void) { printf("%d\\n", add(40, 2)); return 0; }\n')
        run(['cc', '-O2', '-c', 'util.c', '-o', 'util.o'], cwd=d)
        run(['cc', '-O2', 'main.c', 'util.o', '-o', 'hello'], cwd=d)
        self.assertEqual(run([os.path.join(d, 'hello')]), '42\n')


class DaemonModeTests(EngineCase):
    """fsx-mount without -f: returns after the mount is up and keeps serving."""

    def test_daemonized_mount(self):
        mnt = self.engine.mount('dmnt', foreground=False)
        self.assertTrue(is_mounted(mnt))
        with open(os.path.join(mnt, 'x'), 'w') as f:
            f.write('hello')
        with open(os.path.join(self.mnt, 'x')) as f:
            self.assertEqual(f.read(), 'hello')
        run(['fusermount3', '-u', mnt])
        self.assertFalse(is_mounted(mnt))


class BlockSizeTests(EngineCase):
    """st_blksize: what stdio and Python size each open file's buffer by
    (64 KiB unless -o stat_blksize=N; docs/design.md, "Local reads")."""

    def test_default_and_option(self):
        p = os.path.join(self.mnt, 'bs')
        with open(p, 'wb') as f:
            f.write(b'x' * 100)
        self.assertEqual(os.stat(p).st_blksize, 64 * 1024)
        self.assertEqual(os.stat(self.mnt).st_blksize, 64 * 1024)
        mnt = self.engine.mount('bsmnt', opts='stat_blksize=4194304')
        self.assertEqual(os.stat(os.path.join(mnt, 'bs')).st_blksize, 4 << 20)
        with open(os.path.join(mnt, 'bs'), 'rb') as f:
            self.assertEqual(f.read(), b'x' * 100)

    def test_bad_values_refused(self):
        for v in ('5000', '2048', '8388608', 'abc', '-4096', ''):
            r = subprocess.run([binpath('fsx-mount'), '-o', 'stat_blksize=' + v,
                                'fs-0123456789abcdef0', '/nonexistent'],
                               capture_output=True, text=True, timeout=10)
            self.assertEqual(r.returncode, 2, v)
            self.assertIn('stat_blksize must be a power of two', r.stderr)
