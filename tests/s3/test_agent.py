"""fsx-hsm over its protocol (docs/hsm.md, opcodes 90..93), against a real
moto_server: association lifecycles, malformed documents, tasks queued and
cancelled, the durable record across a restart, the store lock."""
import errno
import json
import subprocess
import time

from ..fs.engine import binpath
from .hsmlib import (AgentCase, OP_HSM_CONF, OP_HSM_TASK, OP_HSM_CANCEL,
                     assoc, s3_conf, wait_state, free_port)


class AgentProtocol(AgentCase):

    def test_creating_association_becomes_available(self):
        self.s3.create_bucket(Bucket='avail')
        for i in range(3):
            self.s3.put_object(Bucket='avail', Key='p/k%d' % i, Body=b'x')
        self.cli.conf(s3_conf(self.moto, assocs=[
            assoc('dra-0000000000000000a', 'avail', 'p/')]))
        st = wait_state(self.cli, 'associations', 'dra-0000000000000000a',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'AVAILABLE', st)
        self.assertIsNone(st['message'])

    def test_missing_bucket_fails_with_message(self):
        self.cli.conf(s3_conf(self.moto, assocs=[
            assoc('dra-0000000000000000b', 'no-such-bucket-here', 'x/')]))
        st = wait_state(self.cli, 'associations', 'dra-0000000000000000b',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'})
        self.assertEqual(st['state'], 'FAILED')
        self.assertIn('no-such-bucket-here', st['message'])
        self.assertIn('does not exist', st['message'])

    def test_unreachable_endpoint_fails(self):
        conf = s3_conf(self.moto, assocs=[
            assoc('dra-0000000000000000c', 'whatever')])
        conf['s3']['endpoint'] = 'http://127.0.0.1:%d' % free_port()
        self.cli.conf(conf)
        st = wait_state(self.cli, 'associations', 'dra-0000000000000000c',
                        {'AVAILABLE', 'FAILED', 'MISCONFIGURED'}, 60)
        self.assertEqual(st['state'], 'FAILED')
        self.assertIn('unable to reach', st['message'])

    def test_update_delete_and_forget(self):
        self.s3.create_bucket(Bucket='life')
        a = assoc('dra-0000000000000000d', 'life', 'q/')
        self.cli.conf(s3_conf(self.moto, assocs=[a]))
        wait_state(self.cli, 'associations', a['id'], {'AVAILABLE'})
        a['state'], a['import'] = 'UPDATING', ['NEW']
        self.cli.conf(s3_conf(self.moto, assocs=[a]))
        # the agent reports UPDATING until it has applied the change
        wait_state(self.cli, 'associations', a['id'], {'AVAILABLE'})
        a['state'] = 'DELETING'
        self.cli.conf(s3_conf(self.moto, assocs=[a]))
        wait_state(self.cli, 'associations', a['id'], {'DELETED'})
        self.cli.conf(s3_conf(self.moto, assocs=[]))
        ids = [e['id'] for e in self.cli.status()['associations']]
        self.assertNotIn(a['id'], ids)

    def test_batch_import_waits_for_the_file_system(self):
        # an MDS that is not up yet: the association stays CREATING (not
        # FAILED) and the agent keeps answering
        self.s3.create_bucket(Bucket='early')
        self.s3.put_object(Bucket='early', Key='e/k', Body=b'x')
        self.cli.conf(s3_conf(self.moto, mds='127.0.0.1:%d' % free_port(),
                              assocs=[assoc('dra-0000000000000000e', 'early',
                                            'e/', batch=True)]))
        time.sleep(3)
        st = [a for a in self.cli.status()['associations']
              if a['id'] == 'dra-0000000000000000e'][0]
        self.assertEqual(st['state'], 'CREATING', st)
        self.cli.conf(s3_conf(self.moto, assocs=[]))

    def test_malformed_documents_are_einval(self):
        before = self.cli.status()
        bad = [b'{', b'[]', b'"x"', b'{"s3": 5}',
               json.dumps(s3_conf(self.moto, assocs=[
                   {'id': 'dra-1', 'fs_path': 'relative', 'bucket': 'b',
                    'state': 'CREATING'}])).encode(),
               json.dumps(s3_conf(self.moto, assocs=[
                   assoc('dra-2', 'b', imp=['SOMETIMES'])])).encode(),
               json.dumps(s3_conf(self.moto, assocs=[
                   assoc('dra-3', 'b'), assoc('dra-3', 'b')])).encode(),
               json.dumps(s3_conf(self.moto, assocs=[
                   assoc('dra-%d' % i, 'b') for i in range(9)])).encode(),
               b'\xff\xfe']
        for doc in bad:
            st, _ = self.cli.raw(OP_HSM_CONF, doc)
            self.assertEqual(st, -errno.EINVAL, doc)
        for doc in [b'{}', b'{"id": "task-1", "type": "NOPE"}',
                    b'{"id": "x", "type": "EXPORT_TO_REPOSITORY"}',
                    b'{"id": "task-1", "type": "EXPORT_TO_REPOSITORY",'
                    b' "paths": "/a"}']:
            st, _ = self.cli.raw(OP_HSM_TASK, doc)
            self.assertEqual(st, -errno.EINVAL, doc)
        st, _ = self.cli.raw(OP_HSM_CANCEL, b'{"nope": 1}')
        self.assertEqual(st, -errno.EINVAL)
        st, _ = self.cli.raw(OP_HSM_CANCEL, b'{"id": "task-0123456789abcdef9"}')
        self.assertEqual(st, -errno.ENOENT)
        self.assertEqual(self.cli.status()['tasks'], before['tasks'])
        # the agent is still serving
        self.assertEqual(self.cli.ping()[0], 0)

    def test_second_agent_on_the_same_store_is_refused(self):
        p = subprocess.run([binpath('fsx-hsm'), '--dir', self.agent.store,
                            '--listen', '127.0.0.1:0',
                            '--secret-file', self.secret_file],
                           capture_output=True, text=True, timeout=20)
        self.assertEqual(p.returncode, 1)
        self.assertIn('in use by pid', p.stderr)


class AgentRecord(AgentCase):
    """Tasks without credentials stay PENDING (nothing runs before the
    first HSM_CONF); the record survives a restart."""

    def test_pending_task_cancel_and_restart(self):
        t1 = {'id': 'task-0123456789abcdef1', 'type': 'EXPORT_TO_REPOSITORY',
              'paths': ['/ns1'], 'report': {'enabled': False}}
        t2 = dict(t1, id='task-0123456789abcdef2')
        self.cli.task(t1)
        self.cli.task(t1)   # a repeat is a no-op
        self.cli.task(t2)
        tasks = {t['id']: t for t in self.cli.status()['tasks']}
        self.assertEqual(sorted(tasks), [t1['id'], t2['id']])
        self.assertEqual(tasks[t1['id']]['state'], 'PENDING')
        self.cli.cancel(t2['id'])
        tasks = {t['id']: t for t in self.cli.status()['tasks']}
        self.assertEqual(tasks[t2['id']]['state'], 'CANCELED')
        before = self.cli.status()
        self.cli.close()
        self.agent.stop()
        self.agent.start()
        self.cli = self.agent.client()
        self.assertEqual(self.cli.status(), before)
