/** OpenRPC 1.2.6 document generated from the registered method table (`rpc.discover`). */
import { RpcCode } from './errors.js';
import { paramSchema } from './params.js';
import type { MethodSpec } from './server.js';

export function buildOpenRpc(
  methods: ReadonlyMap<string, MethodSpec>,
  info: { title: string; version: string },
) {
  return {
    openrpc: '1.2.6',
    info,
    methods: [...methods.entries()]
      .sort(([a], [b]) => a.localeCompare(b))
      .map(([name, m]) => ({
        name,
        summary: m.summary,
        paramStructure: 'either',
        params: m.params.map((p) => ({
          name: p.name,
          required: !p.optional,
          ...(p.description ? { description: p.description } : {}),
          schema: paramSchema(p.type),
        })),
        result: {
          name: m.result?.name ?? 'result',
          ...(m.result?.description ? { description: m.result.description } : {}),
          schema: {},
        },
        errors: [
          { code: RpcCode.InvalidParams, message: 'invalid params' },
          { code: RpcCode.InternalError, message: 'internal error' },
        ],
      })),
  };
}
