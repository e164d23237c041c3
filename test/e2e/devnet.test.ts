/**
 * The devnet as users run it: `vos devnet --validators 4` starts four validator processes that talk
 * over libp2p (TCP + Noise + Yamux) on loopback. They reach height 20 with the same block at every
 * height; stopping the supervisor stops every node.
 */

import type { ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import {
  blockHashAt,
  type DevnetInfo,
  heightOf,
  isAlive,
  randomBasePort,
  startDevnet,
  stopProcess,
  waitFor,
} from '../helpers/devnet.js';

describe('vos devnet (4 validator processes over libp2p)', () => {
  let dir = '';
  let proc: ChildProcess | undefined;
  let info: DevnetInfo;

  afterAll(async () => {
    await stopProcess(proc);
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('reaches height 20 with identical block hashes at every height', async () => {
    dir = await mkdtemp(join(tmpdir(), 'vos-devnet-'));
    ({ proc, info } = await startDevnet(dir, 4, randomBasePort()));
    expect(info.nodes.map((n) => n.name)).toEqual(['node0', 'node1', 'node2', 'node3']);
    for (const n of info.nodes) expect(n.p2p).toMatch(/^\/ip4\/127\.0\.0\.1\/tcp\/\d+\/p2p\/12D3Koo/);
    await waitFor(
      'height 20 on every node',
      async () => (await Promise.all(info.nodes.map((n) => heightOf(n.rpc)))).every((h) => h >= 20),
      90_000,
    );
    for (let h = 1; h <= 20; h++) {
      const hashes = await Promise.all(info.nodes.map((n) => blockHashAt(n.rpc, h)));
      expect(new Set(hashes).size).toBe(1);
    }
  }, 120_000);

  it('stopping the supervisor stops every node', async () => {
    const pids = info.nodes.map((n) => n.pid);
    await stopProcess(proc);
    await waitFor('all nodes gone', async () => pids.every((p) => !isAlive(p)), 20_000);
  }, 30_000);
});
