import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { loadConfig, parseTrust } from '../../../node/config.js';

let home = '';
afterEach(async () => {
  if (home) await rm(home, { recursive: true, force: true });
  home = '';
});

async function withConfig(json: unknown, env: NodeJS.ProcessEnv = {}) {
  if (home) await rm(home, { recursive: true, force: true });
  home = await mkdtemp(join(tmpdir(), 'vos-config-'));
  await writeFile(join(home, 'config.json'), JSON.stringify(json));
  return loadConfig(home, env);
}

const RELAY = '/ip4/127.0.0.1/tcp/8546/p2p/12D3KooWQYhTNQdmr3ArTeUHRYzFg94BKyTkoWBDWez9kSCVe2Xo';

describe('node config', () => {
  it('mempool: a TTL for txs stranded behind a nonce gap, 10 minutes unless configured', async () => {
    expect((await withConfig({})).mempool.strandedTtlMs).toBe(600_000);
    expect((await withConfig({ mempool: { strandedTtlMs: 5000 } })).mempool.strandedTtlMs).toBe(5000);
  });

  it('takes relays and defaults to none', async () => {
    expect((await withConfig({})).p2p.relays).toEqual([]);
    await rm(home, { recursive: true, force: true });
    expect((await withConfig({ p2p: { relays: [RELAY] } })).p2p.relays).toEqual([RELAY]);
  });

  it('refuses a relay that is not a dialable peer address, and unknown keys', async () => {
    await expect(withConfig({ p2p: { relays: ['/ip4/127.0.0.1/tcp/8546'] } })).rejects.toThrow(
      /p2p.relays wants/,
    );
    await rm(home, { recursive: true, force: true });
    await expect(withConfig({ p2p: { relay: [RELAY] } })).rejects.toThrow(/unknown key p2p.relay/);
  });

  it('RPC access: hosts and CORS origins from the file or env, none by default; batches capped at 100', async () => {
    const d = (await withConfig({})).rpc;
    expect([d.hosts, d.corsOrigins, d.maxBatch, d.adminToken]).toEqual([[], [], 100, undefined]);
    const f = (await withConfig({ rpc: { hosts: ['Node.Example'], corsOrigins: ['https://app.example/'] } }))
      .rpc;
    expect([f.hosts, f.corsOrigins]).toEqual([['node.example'], ['https://app.example']]);
    const e = (
      await withConfig(
        { rpc: { hosts: ['a.example'] } },
        {
          VOS_RPC_HOSTS: 'b.example, c.example',
          VOS_RPC_CORS_ORIGINS: 'http://localhost:3000',
          VOS_ADMIN_TOKEN: 'x'.repeat(32),
        },
      )
    ).rpc;
    expect([e.hosts, e.corsOrigins, e.adminToken]).toEqual([
      ['b.example', 'c.example'],
      ['http://localhost:3000'],
      'x'.repeat(32),
    ]);
  });

  it('refuses RPC settings that would not work, naming the key', async () => {
    await expect(withConfig({ rpc: { hosts: ['http://node.example'] } })).rejects.toThrow(
      /rpc.hosts wants host names/,
    );
    await expect(withConfig({ rpc: { hosts: ['node.example:8545'] } })).rejects.toThrow(/rpc.hosts/);
    await expect(withConfig({ rpc: { corsOrigins: ['app.example'] } })).rejects.toThrow(
      /rpc.corsOrigins wants origins/,
    );
    await expect(withConfig({ rpc: { adminToken: 'short' } })).rejects.toThrow(
      /rpc.adminToken must be at least 16/,
    );
    await expect(withConfig({ rpc: { maxBatch: 0 } })).rejects.toThrow(/rpc.maxBatch must be an integer/);
  });
});

describe('trusted block (sync.trustHeight / sync.trustHash, vos start --trust-height --trust-hash)', () => {
  const hash = `0x${'ab'.repeat(32)}`;

  it('defaults to none and takes a height with its hash', async () => {
    expect(parseTrust((await withConfig({})).sync.trustHeight, '')).toBeUndefined();
    await rm(home, { recursive: true, force: true });
    const c = await withConfig({ sync: { trustHeight: 12, trustHash: hash } });
    expect(parseTrust(c.sync.trustHeight, c.sync.trustHash)).toEqual({
      height: 12,
      hash: new Uint8Array(32).fill(0xab),
    });
    expect(parseTrust('12', hash)?.height).toBe(12);
  });

  it('refuses a height without a hash, a hash without a height, and a malformed hash', async () => {
    await expect(withConfig({ sync: { trustHeight: 12 } })).rejects.toThrow(/trust hash must be 0x/);
    await rm(home, { recursive: true, force: true });
    await expect(withConfig({ sync: { trustHash: hash } })).rejects.toThrow(/trust height must be/);
    expect(() => parseTrust(12, '0x1234')).toThrow(/64 hex digits/);
    expect(() => parseTrust('twelve', hash)).toThrow(/positive integer/);
    expect(() => parseTrust(-1, hash)).toThrow(/positive integer/);
  });
});
