/**
 * Open a node's chain database with the state tree in its sublevel (keys: chain/store/layout.ts and
 * chain/state/layout.ts). The ledger is opened on top by the caller (it needs the genesis).
 */
import { ClassicLevel } from 'classic-level';
import { StateTree } from '../state/tree.js';
import type { ChainDb } from './block-store.js';
import { STATE_SUBLEVEL } from './layout.js';

export async function openChainDb(path: string) {
  const db: ChainDb = new ClassicLevel<Uint8Array, Uint8Array>(path, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  await db.open();
  const stateDb = db.sublevel<Uint8Array, Uint8Array>(STATE_SUBLEVEL, {
    keyEncoding: 'view',
    valueEncoding: 'view',
  });
  const tree = await StateTree.open(stateDb);
  return { db, stateDb, tree };
}
