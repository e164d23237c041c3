/** OpenRPC 1.2.6 document generated from the method table (`rpc.discover`). */
import type { Api } from './api.js';
import { RpcCode } from './errors.js';

const STANDARD_ERRORS = [
  { code: RpcCode.InvalidParams, message: 'invalid params' },
  { code: RpcCode.InternalError, message: 'internal error' },
  { code: RpcCode.LimitExceeded, message: 'limit exceeded (response size, requests in flight)' },
];

export function buildOpenRpc(api: Api, info: { title: string; version: string }) {
  return {
    openrpc: '1.2.6',
    info,
    methods: Object.entries(api.methods)
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, m]) => ({
        name,
        summary: m.summary,
        ...(m.description ? { description: m.description } : {}),
        paramStructure: 'either',
        params: m.params.map((p) => ({
          name: p.name,
          required: !p.optional,
          ...(p.description ? { description: p.description } : {}),
          schema: p.schema.json,
        })),
        result: { name: m.resultName ?? 'result', schema: m.result.json },
        errors: [...(m.errors ?? []), ...STANDARD_ERRORS],
      })),
    /** Payload schema of each topic of vos_subscribe (an extension: OpenRPC has no subscriptions). */
    'x-subscriptions': Object.fromEntries(Object.entries(api.topics).map(([t, schema]) => [t, schema.json])),
  };
}
