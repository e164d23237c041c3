/** Node-wide events (new blocks, admitted txs) for RPC subscriptions and the explorer. */
import { EventEmitter } from 'node:events';
import type { Block } from '../chain/block.js';
import type { Receipt } from '../chain/receipt.js';
import type { Tx } from '../chain/tx/tx.js';

export interface NodeEventMap {
  block: [{ block: Block; receipts: Receipt[] }];
  tx: [Tx];
}

export class NodeEvents extends EventEmitter<NodeEventMap> {
  constructor() {
    super();
    this.setMaxListeners(1000);
  }
}
