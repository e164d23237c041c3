/**
 * Weak subjectivity, whole nodes in-process over libp2p on 127.0.0.1: a joining node given a wrong
 * trusted hash syncs nothing from an honest validator and says why; given the right one it syncs past
 * it; a node whose own stored block at the trusted height differs refuses to start.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../chain/keys.js';
import { createDevGenesis } from '../../genesis/genesis.js';
import { defaultConfig, type NodeConfig } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { toHex } from '../../util/bytes.js';
import { silentLogger } from '../../util/logger.js';

const validatorKey = PrivateKey.fromSeed(new Uint8Array(32).fill(71));
const genesis = createDevGenesis([validatorKey], { chainId: 'vos-trust', genesisTime: Date.now() });
const TRUST_HEIGHT = 3;
const homes: string[] = [];
const nodes: VosNode[] = [];

function config(o: { seeds?: string[]; trust?: { height: number; hash: string } } = {}): NodeConfig {
  const c = defaultConfig({ rpcPort: 0 });
  Object.assign(c.consensus, { emptyBlockIntervalMs: 50, timeoutProposeMs: 500 });
  c.p2p.seeds = o.seeds ?? [];
  if (o.trust !== undefined) c.sync = { trustHeight: o.trust.height, trustHash: o.trust.hash };
  return c;
}

async function start(key: PrivateKey, c: NodeConfig, home?: string): Promise<VosNode> {
  const dir = home ?? (await mkdtemp(join(tmpdir(), 'vos-trust-')));
  if (home === undefined) homes.push(dir);
  const node = await VosNode.create({
    home: dir,
    config: c,
    genesis,
    key,
    logger: silentLogger(),
    verifyWorkers: 0,
  });
  await node.open();
  nodes.push(node);
  return node;
}

async function until(what: string, cond: () => boolean, ms = 30_000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

let validator: VosNode;
let seed: string;
let trusted: string;

beforeAll(async () => {
  validator = await start(validatorKey, config());
  await until('height 6', () => validator.ledger.head.height >= 6);
  seed = validator
    .host!.getMultiaddrs()
    .map((m) => m.toString())
    .find((a) => a.includes('/tcp/'))!;
  trusted = toHex((await validator.ledger.store.getBlock(TRUST_HEIGHT))!.hash());
}, 60_000);

afterAll(async () => {
  for (const n of nodes) await n.close().catch(() => undefined);
  for (const h of homes) await rm(h, { recursive: true, force: true });
});

describe('a trusted height and hash (vos start --trust-height --trust-hash)', () => {
  it('a wrong trusted hash: the node syncs nothing from the honest validator, refuses it and says why', async () => {
    const wrong = `0x${'09'.repeat(32)}`;
    const full = await start(
      PrivateKey.generate(),
      config({ seeds: [seed], trust: { height: TRUST_HEIGHT, hash: wrong } }),
    );
    await until('a refusal', () => full.sync?.refusal != null);
    expect(full.sync!.refusal).toMatchObject({
      peer: validator.host!.peerId.toString(),
      height: TRUST_HEIGHT,
      hash: trusted,
      trusted: wrong,
    });
    await new Promise((r) => setTimeout(r, 500));
    expect(full.ledger.head.height).toBe(0);
    expect(full.scorer!.score(validator.host!.peerId)).toBeLessThan(0);
    await full.close();
  }, 60_000);

  it('the right trusted hash: the node syncs past the trusted height and follows', async () => {
    const full = await start(
      PrivateKey.generate(),
      config({ seeds: [seed], trust: { height: TRUST_HEIGHT, hash: trusted } }),
    );
    await until('synced past the trusted height', () => full.ledger.head.height >= 6);
    expect(full.sync!.refusal).toBeNull();
    expect(toHex((await full.ledger.store.getBlock(TRUST_HEIGHT))!.hash())).toBe(trusted);
    await full.close();
  }, 60_000);

  it('a node whose stored block at the trusted height differs refuses to start, with a clear error', async () => {
    const home = homes[0];
    await validator.close();
    const wrong = `0x${'0a'.repeat(32)}`;
    await expect(
      start(validatorKey, config({ trust: { height: TRUST_HEIGHT, hash: wrong } }), home),
    ).rejects.toThrow(new RegExp(`stored block ${TRUST_HEIGHT} is ${trusted}, not the trusted ${wrong}`));
    // With the right one it starts and keeps producing.
    validator = await start(validatorKey, config({ trust: { height: TRUST_HEIGHT, hash: trusted } }), home);
    const h = validator.ledger.head.height;
    await until('more blocks', () => validator.ledger.head.height > h + 1);
  }, 60_000);
});
