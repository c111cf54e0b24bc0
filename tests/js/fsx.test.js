// fsxd driven by the unchanged AWS SDK for JavaScript v3: its JSON 1.1
// deserializer, its error classes and its waiter-free polling.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import {
  FSxClient, CreateFileSystemCommand, DescribeFileSystemsCommand,
  DeleteFileSystemCommand, TagResourceCommand, ListTagsForResourceCommand,
  FileSystemNotFound, BadRequest, IncompatibleParameterError,
  paginateDescribeFileSystems,
} from '@aws-sdk/client-fsx';

const top = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const bin = process.env.FSX_BIN || join(top, 'build', 'bin');
let fsxd, state, client;

before(async () => {
  state = mkdtempSync(join(tmpdir(), 'fsxd-js-'));
  fsxd = spawn(join(bin, 'fsxd'), ['--port', '0', '--state-dir', state, '--log-level', 'warn'],
    { stdio: ['ignore', 'pipe', 'inherit'] });
  const line = await new Promise((ok, fail) => {
    fsxd.stdout.once('data', (d) => ok(d.toString()));
    fsxd.once('exit', (c) => fail(new Error('fsxd exited ' + c)));
  });
  const port = Number(line.trim().split(':').pop());
  client = new FSxClient({
    endpoint: `http://127.0.0.1:${port}`, region: 'us-east-1', maxAttempts: 1,
    credentials: { accessKeyId: 'test', secretAccessKey: 'test' },
  });
});

after(async () => {
  // Wait for fsxd to be gone first: while it runs, its monitor restarts
  // engines killed below, and they recreate files under the state dir.
  if (fsxd.exitCode === null && fsxd.signalCode === null) {
    const gone = new Promise((ok) => fsxd.once('exit', ok));
    fsxd.kill('SIGTERM');
    await gone;
  }
  // Engine processes outlive fsxd by design; end the ones of this state dir.
  for (const pid of readdirSync('/proc').filter((p) => /^\d+$/.test(p))) {
    try {
      const cmd = readFileSync(`/proc/${pid}/cmdline`, 'utf8');
      if (cmd.includes(state) && /fsx-(mds|oss)/.test(cmd)) process.kill(Number(pid), 'SIGKILL');
    } catch { /* gone */ }
  }
  rmSync(state, { recursive: true, force: true, maxRetries: 20, retryDelay: 50 });
});

const scratch2 = {
  FileSystemType: 'LUSTRE', StorageCapacity: 1200, SubnetIds: ['subnet-0123456789abcdef0'],
  LustreConfiguration: { DeploymentType: 'SCRATCH_2' },
};

async function waitFor(id, want) {
  for (let i = 0; i < 400; i++) {
    const r = await client.send(new DescribeFileSystemsCommand({ FileSystemIds: [id] }));
    if (r.FileSystems[0].Lifecycle === want) return r.FileSystems[0];
    await new Promise((ok) => setTimeout(ok, 25));
  }
  throw new Error(`${id} never reached ${want}`);
}

test('create, AVAILABLE, tags, paginate, delete', async () => {
  const created = await client.send(new CreateFileSystemCommand({
    ...scratch2, Tags: [{ Key: 'Name', Value: 'js' }],
  }));
  const fs = created.FileSystem;
  assert.match(fs.FileSystemId, /^fs-[0-9a-f]{17}$/);
  assert.equal(fs.Lifecycle, 'CREATING');
  assert.ok(fs.CreationTime instanceof Date, 'timestamps deserialize as Dates');
  const avail = await waitFor(fs.FileSystemId, 'AVAILABLE');
  assert.equal(avail.LustreConfiguration.DeploymentType, 'SCRATCH_2');

  await client.send(new TagResourceCommand({
    ResourceARN: fs.ResourceARN, Tags: [{ Key: 'team', Value: 'js' }],
  }));
  const tags = await client.send(new ListTagsForResourceCommand({ ResourceARN: fs.ResourceARN }));
  assert.deepEqual(tags.Tags.map((t) => t.Key), ['Name', 'team']);

  const second = (await client.send(new CreateFileSystemCommand(scratch2))).FileSystem;
  const ids = [];
  for await (const page of paginateDescribeFileSystems({ client, pageSize: 1 }, {})) {
    assert.ok(page.FileSystems.length <= 1);
    ids.push(...page.FileSystems.map((f) => f.FileSystemId));
  }
  assert.deepEqual(ids, [fs.FileSystemId, second.FileSystemId]);

  for (const id of ids) {
    const del = await client.send(new DeleteFileSystemCommand({ FileSystemId: id }));
    assert.equal(del.Lifecycle, 'DELETING');
  }
  for (let i = 0; ; i++) {
    try {
      await client.send(new DescribeFileSystemsCommand({ FileSystemIds: [fs.FileSystemId] }));
    } catch (e) {
      assert.ok(e instanceof FileSystemNotFound, `got ${e.name}`);
      break;
    }
    assert.ok(i < 400, 'never deleted');
    await new Promise((ok) => setTimeout(ok, 25));
  }
});

test('errors are the modelled classes with their members', async () => {
  await assert.rejects(
    client.send(new DescribeFileSystemsCommand({ FileSystemIds: ['fs-0123456789abcdef0'] })),
    (e) => e instanceof FileSystemNotFound && e.$fault === 'client' &&
      e.$metadata.httpStatusCode === 400 && /does not exist/.test(e.message));
  await assert.rejects(
    client.send(new CreateFileSystemCommand({ ...scratch2, StorageCapacity: 3600 })),
    (e) => e instanceof BadRequest && /Invalid Lustre FS storage capacity: 3600/.test(e.message));
  const token = 'js-token-1';
  const a = await client.send(new CreateFileSystemCommand({ ...scratch2, ClientRequestToken: token }));
  await assert.rejects(
    client.send(new CreateFileSystemCommand({
      ...scratch2, StorageCapacity: 2400, ClientRequestToken: token })),
    (e) => e instanceof IncompatibleParameterError && e.Parameter === 'StorageCapacity');
  await client.send(new DeleteFileSystemCommand({ FileSystemId: a.FileSystem.FileSystemId }));
});
