/**
 * Agreement checker (Tendermint's safety property): no two nodes decide different values at the same
 * height, and no node decides twice at one height with different values. Used by the simulator and by
 * the conformance tests (the model's `disagreement` trace, where 2 of 4 validators are faulty, must be
 * flagged).
 */
import { toHex } from '../../util/bytes.js';

export interface DecisionRecord {
  height: number;
  /** The decided value: a block hash (bytes) or any stable identifier (string). */
  value: Uint8Array | string;
  round?: number;
}

/** Decision log per node name, in the order the node decided. */
export type DecisionLogs =
  | ReadonlyMap<string, readonly DecisionRecord[]>
  | Readonly<Record<string, readonly DecisionRecord[]>>;

export type AgreementViolation =
  | {
      kind: 'disagreement';
      height: number;
      /** One node of each side (the first by name), with the value it decided. */
      a: { node: string; value: string };
      b: { node: string; value: string };
      /** Every node per decided value. */
      sides: Record<string, string[]>;
    }
  | { kind: 'conflictingDecisions'; height: number; node: string; values: string[] };

function valueText(v: Uint8Array | string): string {
  return typeof v === 'string' ? v : toHex(v);
}

/** Every agreement violation in `logs`, ordered by height. Empty = agreement holds. */
export function checkAgreement(logs: DecisionLogs): AgreementViolation[] {
  const entries: [string, readonly DecisionRecord[]][] =
    logs instanceof Map
      ? [...logs.entries()]
      : Object.entries(logs as Record<string, readonly DecisionRecord[]>);
  entries.sort((x, y) => (x[0] < y[0] ? -1 : x[0] > y[0] ? 1 : 0));

  // height -> value -> nodes
  const byHeight = new Map<number, Map<string, string[]>>();
  const violations: AgreementViolation[] = [];
  for (const [node, log] of entries) {
    const own = new Map<number, Set<string>>();
    for (const d of log) {
      const v = valueText(d.value);
      let mine = own.get(d.height);
      if (mine === undefined) {
        mine = new Set();
        own.set(d.height, mine);
      }
      mine.add(v);
      let values = byHeight.get(d.height);
      if (values === undefined) {
        values = new Map();
        byHeight.set(d.height, values);
      }
      const nodes = values.get(v) ?? [];
      if (!nodes.includes(node)) nodes.push(node);
      values.set(v, nodes);
    }
    for (const [height, values] of own) {
      if (values.size > 1)
        violations.push({ kind: 'conflictingDecisions', height, node, values: [...values].sort() });
    }
  }
  for (const [height, values] of byHeight) {
    if (values.size < 2) continue;
    const sides = [...values.entries()].sort((x, y) => (x[1][0] < y[1][0] ? -1 : 1));
    for (let i = 0; i < sides.length; i++) {
      for (let j = i + 1; j < sides.length; j++) {
        violations.push({
          kind: 'disagreement',
          height,
          a: { node: sides[i][1][0], value: sides[i][0] },
          b: { node: sides[j][1][0], value: sides[j][0] },
          sides: Object.fromEntries(sides),
        });
      }
    }
  }
  return violations.sort((x, y) => x.height - y.height);
}
