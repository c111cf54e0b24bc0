"""Engine topology over the protocol (msg.h: MDS_OSTADD, OST_SETCAP): what
the MDS and the OSSes are told, what they keep across restarts, and what a
mounted client sees after a grow.

  topology-1  the MDS's map is what OSTADD and SETCAP said
  topology-2  SETCAP changes df; an OSS and the MDS keep it over a restart
  topology-3  an OST added while mounted is used by new files of that mount
"""
import os
import time

from .engine import EngineCase, GiB, Server, lov_unpack


def df_bytes(path):
    st = os.statvfs(path)
    return st.f_blocks * st.f_frsize


class TopologyMapTest(EngineCase):
    n_ost = 4
    n_oss = 2
    ost_capacity = 2 * GiB

    def mds_map(self):
        c = self.engine.admin(self.engine.mds)
        try:
            return c.ostmap()
        finally:
            c.close()

    def test_1_map_is_what_was_told(self):
        e = self.engine
        self.assertEqual(self.mds_map(),
                         [(i, '127.0.0.1', e.ost_of_oss[i].port, 2 * GiB)
                          for i in range(4)])
        # told again (fsxd does after every start): nothing changes
        e.tell_topology()
        self.assertEqual(len(self.mds_map()), 4)

    def test_2_setcap_changes_df_and_survives_restarts(self):
        e = self.engine
        self.assertEqual(df_bytes(self.mnt), 4 * 2 * GiB)
        e.tell_topology(1 * GiB)
        self.assertEqual(df_bytes(self.mnt), 4 * 1 * GiB)
        with open(os.path.join(e.ost_dirs[0], 'CAPACITY')) as f:
            self.assertEqual(int(f.read()), 1 * GiB)
        # restarted without being told: both keep the last capacity
        oss = e.ost_of_oss[0]
        oss.kill9()
        oss.restart()
        e.mds.kill9()
        e.mds.restart()
        self.assertEqual([c for _, _, _, c in self.mds_map()], [1 * GiB] * 4)
        deadline = time.monotonic() + 10
        while True:
            try:
                got = df_bytes(self.mnt)
            except OSError:
                got = None
            if got == 4 * 1 * GiB or time.monotonic() > deadline:
                break
            time.sleep(0.2)
        self.assertEqual(got, 4 * 1 * GiB)
        e.tell_topology(2 * GiB)
        self.assertEqual(df_bytes(self.mnt), 4 * 2 * GiB)


class TopologyGrowTest(EngineCase):
    n_ost = 2
    n_oss = 1
    ost_capacity = 1 * GiB

    def test_3_new_ost_used_by_mounted_client(self):
        e = self.engine
        before = df_bytes(self.mnt)
        d = os.path.join(e.dir, 'ost%04d' % 2)
        os.makedirs(d)
        srv = Server('fsx-oss', ['--secret-file', e.secret_file,
                                 '--ost', '2:%s' % d], e.dir, 'oss-grow')
        e.oss.append(srv)
        srv.start()
        e.ost_dirs[2] = d
        e.ost_of_oss[2] = srv
        e.tell_topology()
        self.assertEqual(df_bytes(self.mnt), before + 1 * GiB)
        used = set()
        data = b'grow' * 4096
        for k in range(12):
            p = self.path('g%d' % k)
            with open(p, 'wb') as f:
                f.write(data)
            used.update(o for o, _ in lov_unpack(os.getxattr(p, 'lustre.lov'))['ents'])
        self.assertIn(2, used)
        for k in range(12):
            with open(self.path('g%d' % k), 'rb') as f:
                self.assertEqual(f.read(), data)
