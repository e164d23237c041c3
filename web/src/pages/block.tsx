/** A block by height or hash: header fields, its txs and the commit it carries for the previous block. */
import { shortHash, time } from '../format.js';
import { href } from '../router.js';
import { AccountLink, BlockLink, Fields, Mono, Show, TxLink, useLoad, useNode } from '../ui.js';

export function BlockPage({ id }: { id: string }) {
  const { rpc } = useNode();
  const ref = /^[0-9]+$/.test(id) ? Number(id) : id;
  const v = useLoad(async () => {
    const b = await rpc.call('chain_getBlock', [ref]);
    if (b === null) throw new Error(`no block ${id} on this node`);
    return b;
  }, [rpc, id]);
  return (
    <section>
      <Show v={v} what={`block ${id}`}>
        {(b) => {
          const h = b.header;
          const signed = b.lastCommit?.signatures.filter((s) => s.flag === 'commit').length ?? 0;
          return (
            <>
              <h1>
                Block {h.height}{' '}
                <span class="nav-pair">
                  {h.height > 1 && <a href={href(`/block/${h.height - 1}`)}>← {h.height - 1}</a>}{' '}
                  <a href={href(`/block/${h.height + 1}`)}>{h.height + 1} →</a>
                </span>
              </h1>
              <Fields
                rows={[
                  ['Hash', <Mono key="h">{b.hash}</Mono>],
                  ['Time', time(h.time)],
                  ['Proposer', <AccountLink key="p" address={h.proposer} short={false} />],
                  ['Transactions', String(b.txs.length)],
                  [
                    'Previous block',
                    h.height > 1 ? <Mono key="prev">{h.prevHash}</Mono> : 'none (first block)',
                  ],
                  ['State root', <Mono key="s">{h.stateRoot}</Mono>],
                  ['Tx root', <Mono key="t">{h.txRoot}</Mono>],
                  ['Receipts root', <Mono key="r">{h.receiptsRoot}</Mono>],
                  ['Validators hash', <Mono key="v">{h.validatorsHash}</Mono>],
                  ['Next validators hash', <Mono key="nv">{h.nextValidatorsHash}</Mono>],
                  [
                    'Last commit',
                    b.lastCommit === null
                      ? 'none'
                      : `${signed} of ${b.lastCommit.signatures.length} validators signed block ${b.lastCommit.height} (round ${b.lastCommit.round})`,
                  ],
                  ['Evidence', b.evidence.length === 0 ? 'none' : `${b.evidence.length} item(s)`],
                ]}
              />
              <h2>Transactions</h2>
              {b.txs.length === 0 ? (
                <p class="muted">No transactions in this block.</p>
              ) : (
                <table class="list">
                  <thead>
                    <tr>
                      <th scope="col">#</th>
                      <th scope="col">Hash</th>
                      <th scope="col">Kind</th>
                      <th scope="col">From</th>
                      <th scope="col" class="num">
                        Nonce
                      </th>
                    </tr>
                  </thead>
                  <tbody>
                    {b.txs.map((tx, i) => (
                      <tr key={tx.hash}>
                        <td>{i}</td>
                        <td>
                          <TxLink hash={tx.hash} />
                        </td>
                        <td>{tx.kind}</td>
                        <td>
                          <AccountLink address={tx.from} />
                        </td>
                        <td class="num">{tx.nonce}</td>
                      </tr>
                    ))}
                  </tbody>
                </table>
              )}
              {b.evidence.length > 0 && (
                <>
                  <h2>Evidence</h2>
                  <ul>
                    {b.evidence.map((e) => (
                      <li key={`${e.validator}/${e.height}`}>
                        {e.kind} by <AccountLink address={e.validator} /> at height{' '}
                        <BlockLink height={e.height} />
                      </li>
                    ))}
                  </ul>
                </>
              )}
              <p class="muted">Header hash {shortHash(b.hash)} is what the commit of this height signs.</p>
            </>
          );
        }}
      </Show>
    </section>
  );
}
