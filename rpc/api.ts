/**
 * The shape of an RPC method table: each method's name, summary, params and result schema, and the
 * subscription topics with their payload schemas. From one table come the server's param checks and
 * handler types, the client's typed `call`, and `rpc.discover` (see rpc/methods.ts for VOS's table).
 */
import { RpcCode } from './errors.js';
import { type AnySchema, type Infer, type Input, type Schema, s } from './schema.js';

export interface ParamDef<
  S extends AnySchema = AnySchema,
  N extends string = string,
  O extends boolean = boolean,
> {
  readonly name: N;
  readonly schema: S;
  readonly optional: O;
  readonly description?: string;
}

export function param<const N extends string, S extends AnySchema>(
  name: N,
  schema: S,
  description?: string,
): ParamDef<S, N, false> {
  return { name, schema, optional: false, description };
}

/** An optional param (only trailing params may be optional). */
export function optionalParam<const N extends string, S extends AnySchema>(
  name: N,
  schema: S,
  description?: string,
): ParamDef<S, N, true> {
  return { name, schema, optional: true, description };
}

/** An application error a method may answer with (documented in `rpc.discover`). */
export interface ErrorDef {
  code: number;
  message: string;
}

export interface MethodDef<
  P extends readonly ParamDef[] = readonly ParamDef[],
  R extends AnySchema = AnySchema,
> {
  readonly summary: string;
  readonly description?: string;
  readonly params: P;
  readonly result: R;
  readonly resultName?: string;
  readonly errors?: readonly ErrorDef[];
}

export function method<const P extends readonly ParamDef[], R extends AnySchema>(
  def: MethodDef<P, R>,
): MethodDef<P, R> {
  return def;
}

export type MethodTable = Record<string, MethodDef>;
export type TopicTable = Record<string, AnySchema>;
/** The filter schema of each topic that takes one (vos_subscribe's second param). */
export type FilterTable = Record<string, AnySchema>;

export interface Api<
  M extends MethodTable = MethodTable,
  T extends TopicTable = TopicTable,
  F extends FilterTable = FilterTable,
> {
  readonly methods: M;
  readonly topics: T;
  readonly filters: F;
}

/** Params as the handler gets them: positional, checked, `undefined` for an absent optional one. */
export type ParamsOut<P extends readonly ParamDef[]> = {
  -readonly [K in keyof P]: P[K] extends ParamDef<infer S, string, infer O>
    ? O extends true
      ? Infer<S> | undefined
      : Infer<S>
    : never;
};

/** Positional params as a client sends them (trailing optional ones may be left out). */
export type ParamsIn<P extends readonly unknown[]> = P extends readonly [infer H, ...infer T]
  ? H extends ParamDef<infer S, string, infer O>
    ? O extends true
      ? [Input<S>?, ...ParamsIn<T>]
      : [Input<S>, ...ParamsIn<T>]
    : never
  : [];

/** Named params as a client sends them. */
export type NamedParamsIn<P extends readonly ParamDef[]> = {
  [D in P[number] as D extends ParamDef<AnySchema, string, false> ? D['name'] : never]: Input<D['schema']>;
} & {
  [D in P[number] as D extends ParamDef<AnySchema, string, true> ? D['name'] : never]?: Input<D['schema']>;
};

export type MethodName<A extends Api> = Extract<keyof A['methods'], string>;
export type ParamsOf<A extends Api, M extends MethodName<A>> = A['methods'][M]['params'];
export type ResultOf<A extends Api, M extends MethodName<A>> = Infer<A['methods'][M]['result']>;
export type TopicName<A extends Api> = Extract<keyof A['topics'], string>;
export type TopicPayload<A extends Api, T extends TopicName<A>> = Infer<A['topics'][T]>;
/** The filter a subscriber of topic T may give (never: T takes none). */
export type TopicFilter<A extends Api, T extends string> = T extends keyof A['filters']
  ? Infer<A['filters'][T]>
  : never;

/** How a method is being called (the WebSocket connection carries subscriptions). */
export interface CallContext {
  transport: 'http' | 'ws';
  /** The WebSocket connection, for subscriptions. */
  connection?: unknown;
}

export type Handler<D extends MethodDef> = (
  params: ParamsOut<D['params']>,
  ctx: CallContext,
) => Infer<D['result']> | Promise<Infer<D['result']>>;

/** The methods every server answers itself. */
export const BUILTIN_METHODS = ['rpc.discover', 'vos_subscribe', 'vos_unsubscribe'] as const;
export type BuiltinName = (typeof BUILTIN_METHODS)[number];

/** One handler per method of the table, except the server's own (rpc.discover, subscriptions). */
export type Handlers<A extends Api> = {
  [M in Exclude<MethodName<A>, BuiltinName>]: Handler<A['methods'][M]>;
};

export const SubscriptionId = s.string({ maxLength: 64, description: 'subscription id' });

const openRpcDoc = s.object(
  {
    openrpc: s.string(),
    info: s.object({ title: s.string(), version: s.string() }),
    methods: s.array(s.dict(s.any())),
    'x-subscriptions': s.dict(s.any()),
    'x-subscription-filters': s.dict(s.any()),
  },
  { description: 'OpenRPC 1.2.6 document' },
);

function builtins<const T extends readonly string[]>(topics: T, filtered: readonly string[]) {
  const filterDoc =
    filtered.length === 0
      ? 'no topic takes a filter'
      : `only ${filtered.join(', ')} take one: see x-subscription-filters for their schemas`;
  return {
    'rpc.discover': method({
      summary: 'The OpenRPC document of this server: every method with its param and result schemas',
      params: [],
      result: openRpcDoc,
      resultName: 'openrpc',
    }),
    vos_subscribe: method({
      summary: `Subscribe (WebSocket only) to a topic: ${topics.join(', ')}; payloads arrive as vos_subscription notifications`,
      params: [
        param('topic', s.literal(topics)),
        optionalParam(
          'filter',
          s.dict(s.any(), {
            description: `what to deliver of the topic (default: everything); ${filterDoc}`,
          }),
        ),
      ],
      result: SubscriptionId,
      resultName: 'subscriptionId',
      errors: [
        { code: RpcCode.LimitExceeded, message: 'too many subscriptions on this connection' },
        { code: RpcCode.InvalidRequest, message: 'subscriptions need a WebSocket connection' },
      ],
    }),
    vos_unsubscribe: method({
      summary: 'Cancel a subscription of this connection (false when it does not exist)',
      params: [param('subscriptionId', SubscriptionId)],
      result: s.bool(),
      resultName: 'cancelled',
    }),
  };
}

export type WithBuiltins<M extends MethodTable, T extends TopicTable> = M &
  ReturnType<typeof builtins<readonly Extract<keyof T, string>[]>>;

/** A method table with the server's own methods added (their names are reserved). */
export function defineApi<
  const M extends MethodTable,
  const T extends TopicTable,
  // biome-ignore lint/complexity/noBannedTypes: no filters unless given.
  const F extends FilterTable = {},
>(spec: { methods: M; topics: T; filters?: F }): Api<WithBuiltins<M, T>, T, F> {
  for (const name of BUILTIN_METHODS)
    if (name in spec.methods) throw new Error(`RPC method ${name} is reserved`);
  for (const [name, def] of Object.entries(spec.methods)) {
    let seenOptional = false;
    for (const p of def.params) {
      if (p.optional) seenOptional = true;
      else if (seenOptional)
        throw new Error(`RPC method ${name}: required param ${p.name} after an optional one`);
    }
  }
  const filters = spec.filters ?? ({} as F);
  for (const t of Object.keys(filters))
    if (!(t in spec.topics)) throw new Error(`RPC filter for ${t}, which is not a topic`);
  const methods = { ...spec.methods, ...builtins(Object.keys(spec.topics), Object.keys(filters)) };
  return { methods: methods as WithBuiltins<M, T>, topics: spec.topics, filters };
}

export type { Schema };
