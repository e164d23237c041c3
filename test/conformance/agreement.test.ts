/** The agreement checker (consensus/sim/agreement.ts) on hand-made decision logs. */
import { describe, expect, it } from '@jest/globals';
import { checkAgreement } from '../../consensus/sim/agreement.js';

describe('checkAgreement', () => {
  it('accepts nodes that agree, including nodes that are behind', () => {
    const logs = {
      n0: [
        { height: 1, value: 'a' },
        { height: 2, value: 'b' },
      ],
      n1: [{ height: 1, value: 'a' }],
      n2: [],
    };
    expect(checkAgreement(logs)).toEqual([]);
  });

  it('reports two nodes deciding different values at one height, bytes shown as hex', () => {
    const logs = new Map([
      ['n1', [{ height: 3, value: new Uint8Array([1]) }]],
      ['n0', [{ height: 3, value: new Uint8Array([2]) }]],
      ['n2', [{ height: 3, value: new Uint8Array([2]) }]],
    ]);
    expect(checkAgreement(logs)).toEqual([
      {
        kind: 'disagreement',
        height: 3,
        a: { node: 'n0', value: '0x02' },
        b: { node: 'n1', value: '0x01' },
        sides: { '0x02': ['n0', 'n2'], '0x01': ['n1'] },
      },
    ]);
  });

  it('reports a node that decided twice at one height with different values', () => {
    const v = checkAgreement({
      n0: [
        { height: 1, value: 'a' },
        { height: 1, value: 'b' },
      ],
    });
    expect(v).toContainEqual({ kind: 'conflictingDecisions', height: 1, node: 'n0', values: ['a', 'b'] });
  });
});
