/**
 * OpenRPC 1.2.6 document generated from the method table (`rpc.discover`); test/unit/rpc/openrpc.test.ts
 * validates it against the official OpenRPC meta-schema. Subscriptions, which OpenRPC has no object
 * for, are the extensions `x-subscriptions` (payload schemas) and `x-subscription-filters`.
 */
import type { Api } from './api.js';
import { RpcCode } from './errors.js';

const STANDARD_ERRORS = [
  { code: RpcCode.InvalidParams, message: 'invalid params' },
  { code: RpcCode.InternalError, message: 'internal error' },
  {
    code: RpcCode.LimitExceeded,
    message:
      'limit exceeded (data.code: RATE_LIMITED per IP, RESPONSE_TOO_LARGE, TOO_MANY_INFLIGHT, BATCH_TOO_LARGE)',
  },
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
    /** The filter schema of each topic that takes one (vos_subscribe's `filter` param). */
    'x-subscription-filters': Object.fromEntries(
      Object.entries(api.filters).map(([t, schema]) => [t, schema.json]),
    ),
  };
}
