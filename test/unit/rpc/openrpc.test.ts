/**
 * rpc.discover's document against the official OpenRPC meta-schema (@open-rpc/meta-schema, through
 * @open-rpc/schema-utils-js, which validates with ajv): the whole VOS table, and a broken document to
 * show the check can fail.
 */
import { describe, expect, it } from '@jest/globals';
import { validateOpenRPCDocument } from '@open-rpc/schema-utils-js';
import { vosApi } from '../../../rpc/methods.js';
import { buildOpenRpc } from '../../../rpc/openrpc.js';

/** The meta-schema's complaints about a document ([] when it is valid). */
function problems(doc: unknown): string[] {
  const r = validateOpenRPCDocument(doc as Parameters<typeof validateOpenRPCDocument>[0]);
  if (r === true || r === null || r === undefined) return [];
  if (Array.isArray(r)) return r.map((e) => JSON.stringify(e));
  return [String((r as Error).message ?? r)];
}

describe('rpc.discover', () => {
  const doc = buildOpenRpc(vosApi, { title: 'VOS node JSON-RPC', version: '0.1.0' });

  it('validates against the OpenRPC 1.x meta-schema', () => {
    expect(doc.openrpc).toMatch(/^1\.\d+\.\d+$/);
    expect(problems(doc)).toEqual([]);
  });

  it('the check does fail: a method without a result, an unknown field, an error without a code', () => {
    const [first, ...rest] = doc.methods;
    const { result: _dropped, ...noResult } = first;
    expect(problems({ ...doc, methods: [noResult, ...rest] })).not.toEqual([]);
    expect(problems({ ...doc, servers: 'nowhere' })).not.toEqual([]);
    expect(problems({ ...doc, methods: [{ ...first, errors: [{ message: 'no code' }] }] })).not.toEqual([]);
  });

  it('lists every method once, with subscriptions and their filters as x- extensions', () => {
    const names = doc.methods.map((m) => m.name);
    expect(new Set(names).size).toBe(names.length);
    expect(names.sort()).toEqual(Object.keys(vosApi.methods).sort());
    expect(Object.keys(doc['x-subscriptions']).sort()).toEqual(['messages', 'names', 'newHeads', 'txs']);
    expect(Object.keys(doc['x-subscription-filters']).sort()).toEqual(['names', 'txs']);
  });
});
