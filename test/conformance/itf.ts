/**
 * Reading ITF (Informal Trace Format) traces of the Quint Tendermint model and mapping the model's
 * vocabulary (process names, string values, weight-1 validators) onto the engine's types. The mapping
 * lives here, in the test adapter, never in the engine.
 */
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { gunzipSync } from 'node:zlib';
import { sha256 } from '../../chain/hash.js';
import { type EngineVote, Step, type ValueId, VoteType, valueKey } from '../../consensus/engine/index.js';
import { utf8 } from '../../util/bytes.js';

const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The traces live beside the clone (CI has shared/ next to it); they are not copied into the repo. */
/** The shared traces beside the checkout (or VOS_CONFORMANCE_DIR); they are not copied into the repo. */
export const TRACES_DIR = process.env.VOS_CONFORMANCE_DIR
  ? path.resolve(process.env.VOS_CONFORMANCE_DIR)
  : path.resolve(REPO_ROOT, '../shared/conformance/tendermint-itf');

export function tracesAvailable(): { ok: true } | { ok: false; reason: string } {
  if (!existsSync(TRACES_DIR)) return { ok: false, reason: `conformance traces not found at ${TRACES_DIR}` };
  return { ok: true };
}

export interface TraceFile {
  folder: string;
  file: string;
  /** `${folder}/${file}` */
  name: string;
  full: string;
}

/** Every trace listed in INVENTORY.tsv (which must match the files on disk). */
export function listTraces(): TraceFile[] {
  const inventory = readFileSync(path.join(TRACES_DIR, 'INVENTORY.tsv'), 'utf8')
    .split('\n')
    .slice(1)
    .filter((l) => l.trim() !== '')
    .map((l) => l.split('\t')[0]);
  const onDisk: string[] = [];
  for (const folder of readdirSync(TRACES_DIR, { withFileTypes: true })) {
    if (!folder.isDirectory()) continue;
    for (const f of readdirSync(path.join(TRACES_DIR, folder.name))) {
      if (f.endsWith('.itf.json.gz')) onDisk.push(`${folder.name}/${f}`);
    }
  }
  const missing = inventory.filter((n) => !onDisk.includes(n));
  const extra = onDisk.filter((n) => !inventory.includes(n));
  if (missing.length > 0 || extra.length > 0) {
    throw new Error(`INVENTORY.tsv mismatch: missing ${missing.join(', ')}; unlisted ${extra.join(', ')}`);
  }
  return inventory.sort().map((name) => {
    const [folder, file] = name.split('/');
    return { folder, file, name, full: path.join(TRACES_DIR, name) };
  });
}

// ---------------------------------------------------------------------------------------------------
// Decoding
// ---------------------------------------------------------------------------------------------------

/** A decoded ITF value: bigint, string, boolean, arrays (lists, sets, tuples), Map, tagged, record. */
export type Itf = bigint | string | boolean | Itf[] | Map<unknown, Itf> | Tagged | { [k: string]: Itf };
export interface Tagged {
  tag: string;
  value: Itf;
}

export function decodeItf(x: unknown): Itf {
  if (Array.isArray(x)) return x.map(decodeItf);
  if (x !== null && typeof x === 'object') {
    const o = x as Record<string, unknown>;
    if ('#bigint' in o) return BigInt(o['#bigint'] as string);
    if ('#set' in o) return (o['#set'] as unknown[]).map(decodeItf);
    if ('#tup' in o) return (o['#tup'] as unknown[]).map(decodeItf);
    if ('#map' in o) {
      const m = new Map<unknown, Itf>();
      for (const [k, v] of o['#map'] as [unknown, unknown][]) m.set(decodeItf(k), decodeItf(v));
      return m;
    }
    if ('tag' in o && 'value' in o && Object.keys(o).length === 2) {
      return { tag: o.tag as string, value: decodeItf(o.value) };
    }
    const out: Record<string, Itf> = {};
    for (const [k, v] of Object.entries(o)) if (k !== '#meta') out[k] = decodeItf(v);
    return out;
  }
  return x as Itf;
}

export interface LoadedTrace {
  vars: string[];
  /** Decoded states, variable names stripped of their instance prefix (`a::b::system` -> `system`). */
  states: Record<string, Itf>[];
  /** The raw JSON of each state (for "identical consecutive states" checks). */
  raw: string[];
}

export function loadTrace(full: string): LoadedTrace {
  const json = JSON.parse(gunzipSync(readFileSync(full)).toString('utf8')) as {
    vars: string[];
    states: Record<string, unknown>[];
  };
  const states: Record<string, Itf>[] = [];
  const raw: string[] = [];
  for (const s of json.states) {
    const d: Record<string, Itf> = {};
    const r: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(s)) {
      if (k === '#meta') continue;
      const name = stripPrefix(k);
      d[name] = decodeItf(v);
      r[name] = v;
    }
    states.push(d);
    raw.push(JSON.stringify(r));
  }
  return { vars: json.vars.map(stripPrefix), states, raw };
}

/** `line26Test::line26run::system` -> `system` */
function stripPrefix(k: string): string {
  const i = k.lastIndexOf('::');
  return i < 0 ? k : k.slice(i + 2);
}

// ---------------------------------------------------------------------------------------------------
// The model's vocabulary
// ---------------------------------------------------------------------------------------------------

export type MValue = { tag: 'Nil'; value: Itf[] } | { tag: 'Val'; value: string };
export interface MVote {
  voteType: Tagged;
  srcAddress: string;
  height: bigint;
  round: bigint;
  valueId: MValue;
}
export interface MProposal {
  srcAddress: string;
  height: bigint;
  round: bigint;
  proposal: string;
  validRound: bigint;
}

/** Values, processes and validator indices of one trace. */
export class ModelMap {
  /** Validator names in the model's proposer order (sorted), index = engine validator index. */
  readonly names: string[];
  readonly powers: bigint[];
  readonly #values = new Map<string, string>();

  constructor(valset: Map<unknown, Itf>) {
    this.names = [...valset.keys()].map(String).sort();
    this.powers = this.names.map((n) => valset.get(n) as bigint);
  }

  index(name: string): number {
    const i = this.names.indexOf(name);
    if (i < 0) throw new Error(`unknown process ${name}`);
    return i;
  }

  /** A model value (a string) as a 32-byte block hash. */
  valueId(s: string): ValueId {
    const id = sha256(utf8(s));
    this.#values.set(valueKey(id), s);
    return id;
  }

  mvalue(v: MValue): ValueId | null {
    return v.tag === 'Nil' ? null : this.valueId(v.value);
  }

  /** Back to the model's string ('Nil' for nil). */
  name(id: ValueId | null): string {
    if (id === null) return 'Nil';
    return this.#values.get(valueKey(id)) ?? `?${valueKey(id).slice(0, 8)}`;
  }

  vote(v: MVote): EngineVote {
    return {
      type: v.voteType.tag === 'Prevote' ? VoteType.Prevote : VoteType.Precommit,
      height: Number(v.height),
      round: Number(v.round),
      validator: this.index(v.srcAddress),
      valueId: this.mvalue(v.valueId),
    };
  }
}

export function mvalueName(v: MValue): string {
  return v.tag === 'Nil' ? 'Nil' : v.value;
}

export const STEP_OF_MODEL: Record<string, Step> = {
  NoStep: Step.NewHeight,
  UnstartedStep: Step.Unstarted,
  ProposeStep: Step.Propose,
  PrevoteStep: Step.Prevote,
  PrecommitStep: Step.Precommit,
  CommitStep: Step.Commit,
};

export function fmtVote(v: MVote): string {
  return `${v.voteType.tag}(${v.srcAddress},h${v.height},r${v.round},${mvalueName(v.valueId)})`;
}

export function fmtEngineVote(m: ModelMap, v: EngineVote): string {
  const t = v.type === VoteType.Prevote ? 'Prevote' : 'Precommit';
  return `${t}(${m.names[v.validator]},h${v.height},r${v.round},${m.name(v.valueId)})`;
}
