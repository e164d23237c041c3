/**
 * Local storage through a running node: a 20 MiB file streamed to POST /storage and back from
 * GET /storage/<cid> (identical sha256), HTTP ranges, storage_put/get/stat over JSON-RPC, the
 * storage.maxBytes budget refused before any byte is stored, bad CIDs and unknown objects.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { CID } from 'multiformats/cid';
import { PrivateKey } from '../../chain/keys.js';
import { Tx, type TxPayload } from '../../chain/tx/index.js';
import { createDevGenesis } from '../../genesis/genesis.js';
import { defaultConfig } from '../../node/config.js';
import { VosNode } from '../../node/node.js';
import { RpcClient } from '../../rpc/client.js';
import { publishId } from '../../services/publish/layout.js';
import { publishPayload } from '../../services/publish/state.js';
import { fromHex, toHex } from '../../util/bytes.js';
import { silentLogger } from '../../util/logger.js';

const validator = PrivateKey.fromSeed(new Uint8Array(32).fill(21));
const genesis = createDevGenesis([validator], { chainId: 'vos-storage-it', genesisTime: Date.now() });
const config = defaultConfig({ rpcPort: 0 });
config.storage.maxBytes = 40 * 1024 * 1024;

let home = '';
let node: VosNode;
let rpc: RpcClient;
beforeAll(async () => {
  home = await mkdtemp(join(tmpdir(), 'vos-storage-it-'));
  node = await VosNode.create({ home, config, genesis, key: validator, logger: silentLogger() });
  await node.open();
  rpc = new RpcClient(node.rpcUrl);
});
afterAll(async () => {
  await node?.close();
  await rm(home, { recursive: true, force: true });
});

/** POST /storage with the body written in pieces (a stream, not one buffer). */
function upload(
  body: Buffer,
  declareLength = true,
): Promise<{ status: number; json: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${node.rpcUrl}/storage`,
      { method: 'POST', headers: declareLength ? { 'Content-Length': body.length } : {} },
      (res) => {
        let text = '';
        res.on('data', (d) => {
          text += d;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, json: JSON.parse(text) }));
      },
    );
    req.on('error', reject);
    let i = 0;
    const step = 1 << 20;
    const next = () => {
      while (i < body.length) {
        const ok = req.write(body.subarray(i, i + step));
        i += step;
        if (!ok) return void req.once('drain', next);
      }
      req.end();
    };
    next();
  });
}

const sha = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

describe('storage on a node', () => {
  let cid = '';
  const file = randomBytes(20 * 1024 * 1024 + 123);

  it('a 20 MiB file streams in and out identical; stat says pinned', async () => {
    const up = await upload(file);
    expect(up.status).toBe(200);
    expect(up.json).toMatchObject({ size: file.length });
    cid = String(up.json.cid);
    expect(up.json.id).toBe(cid);
    const res = await fetch(`${node.rpcUrl}/storage/${cid}`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-length')).toBe(String(file.length));
    expect(sha(Buffer.from(await res.arrayBuffer()))).toBe(sha(file));
    expect(await rpc.call('storage_stat', [cid])).toMatchObject({ cid, size: file.length, pinned: true });
  });

  it('HTTP ranges: 206 with Content-Range; an unsatisfiable one 416', async () => {
    const res = await fetch(`${node.rpcUrl}/storage/${cid}`, { headers: { Range: 'bytes=262100-262200' } });
    expect(res.status).toBe(206);
    expect(res.headers.get('content-range')).toBe(`bytes 262100-262200/${file.length}`);
    expect(Buffer.from(await res.arrayBuffer())).toEqual(file.subarray(262100, 262201));
    const tail = await fetch(`${node.rpcUrl}/storage/${cid}`, { headers: { Range: 'bytes=-10' } });
    expect(Buffer.from(await tail.arrayBuffer())).toEqual(file.subarray(file.length - 10));
    const bad = await fetch(`${node.rpcUrl}/storage/${cid}`, { headers: { Range: `bytes=${file.length}-` } });
    expect(bad.status).toBe(416);
  });

  it('storage_put / storage_get / storage_stat over JSON-RPC', async () => {
    const small = Buffer.from('a small object');
    const r = await rpc.call<{ cid: string; size: number }>('storage_put', [{ data: toHex(small) }]);
    expect(r.size).toBe(small.length);
    const g = await rpc.call<{ data: string }>('storage_get', [r.cid]);
    expect(Buffer.from(g.data.slice(2), 'hex')).toEqual(small);
    await expect(rpc.call('storage_get', [cid])).rejects.toMatchObject({
      code: -32005,
      data: { code: 'TOO_LARGE' },
    });
  });

  it('over storage.maxBytes: refused before any byte is stored (declared length) or when the stream passes it', async () => {
    const before = node.storage.usedBytes;
    const big = randomBytes(25 * 1024 * 1024);
    const declared = await upload(big);
    expect(declared.status).toBe(413);
    expect(declared.json).toMatchObject({ error: { code: 'QUOTA_EXCEEDED' } });
    expect(node.storage.usedBytes).toBe(before);
    const chunked = await upload(big, false);
    expect(chunked.status).toBe(413);
    expect(node.storage.usedBytes).toBe(before);
  });

  it('a bad CID is 400 / -32602; an unknown one 404 / -32002', async () => {
    expect((await fetch(`${node.rpcUrl}/storage/not-a-cid`)).status).toBe(400);
    const unknown = 'bafkreifzjut3te2nhyekklss27nh3k72ysco7y32koao5eei66wof36n5e';
    expect((await fetch(`${node.rpcUrl}/storage/${unknown}`)).status).toBe(404);
    await expect(rpc.call('storage_stat', ['nope'])).rejects.toMatchObject({ code: -32602 });
    await expect(rpc.call('storage_stat', [unknown])).rejects.toMatchObject({ code: -32002 });
  });

  it('publish: publish_get by CID and id, GET /content/<cid> with its mime type and ranges; retract removes it', async () => {
    const text = Buffer.from('基于区块链技术的操作系统: an operating system on a blockchain');
    const up = await upload(text);
    const cidText = String(up.json.cid);
    const cid = CID.parse(cidText);
    let nonce = BigInt(
      (await rpc.call<{ nonce: string }>('chain_getAccount', [validator.address.toString()])).nonce,
    );
    const send = async (payload: TxPayload) => {
      const tx = Tx.sign(
        { chainId: genesis.chainId, nonce: nonce++, payload, gasLimit: 200_000n, gasPrice: 1n },
        validator,
      );
      const r = await rpc.call<{ receipt: { status: string } }>('tx_sendCommit', [toHex(tx.serialize())]);
      expect(r.receipt.status).toBe('ok');
    };
    expect(await rpc.call('publish_get', [cidText])).toBeNull();
    const meta = {
      mime: 'text/plain',
      kind: 'text' as const,
      title: 'VOS',
      description: '基于区块链技术的操作系统',
      tags: ['os'],
    };
    await send(publishPayload.publish({ cid, size: text.length, ...meta }));
    const id = toHex(publishId(validator.address, cid.bytes));
    const rec = await rpc.call<{ id: string; owner: string }>('publish_get', [cidText]);
    expect(rec).toMatchObject({
      id,
      cid: cidText,
      size: text.length,
      mime: 'text/plain',
      title: 'VOS',
      tags: ['os'],
    });
    expect(await rpc.call('publish_get', [id])).toEqual(rec);
    const res = await fetch(`${node.rpcUrl}/content/${cidText}`);
    expect(res.headers.get('content-type')).toBe('text/plain');
    expect(Buffer.from(await res.arrayBuffer())).toEqual(text);
    const part = await fetch(`${node.rpcUrl}/content/${cidText}`, { headers: { Range: 'bytes=0-2' } });
    expect(part.status).toBe(206);
    expect(Buffer.from(await part.arrayBuffer())).toEqual(text.subarray(0, 3));
    // Found by an English and by a Chinese word (search_query, the node's index of the ledger).
    const zh = await rpc.call<{ results: { id: string }[] }>('search_query', [{ q: '操作系统' }]);
    expect(zh.results.map((r) => r.id)).toEqual([id]);
    await send(
      publishPayload.update({ id: fromHex(id, 32), ...meta, title: 'VOS: a blockchain operating system' }),
    );
    const en = await rpc.call<{ results: { id: string; title: string }[] }>('search_query', [
      { q: 'blockchain', kind: 'text' },
    ]);
    expect(en.results).toEqual([
      expect.objectContaining({ id, title: 'VOS: a blockchain operating system' }),
    ]);
    // Stored but not published: not served under /content.
    const other = await upload(Buffer.from('not published'));
    expect((await fetch(`${node.rpcUrl}/content/${String(other.json.cid)}`)).status).toBe(404);
    await send(publishPayload.retract(fromHex(id, 32)));
    expect(await rpc.call('publish_get', [cidText])).toBeNull();
    expect((await fetch(`${node.rpcUrl}/content/${cidText}`)).status).toBe(404);
    expect((await rpc.call<{ results: unknown[] }>('search_query', [{ q: 'blockchain' }])).results).toEqual(
      [],
    );
    await expect(rpc.call('publish_get', ['nonsense'])).rejects.toMatchObject({ code: -32602 });
  });
});
