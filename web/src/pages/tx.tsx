/** A tx by hash: its fields, payload and receipt (events), or its pending state. */
import type { ComponentChildren } from 'preact';
import { groupDigits } from '../format.js';
import { AccountLink, BlockLink, Fields, Mono, Show, useLoad, useNode } from '../ui.js';

export function TxPage({ hash }: { hash: string }) {
  const { rpc } = useNode();
  const v = useLoad(async () => {
    if (!/^0x[0-9a-fA-F]{64}$/.test(hash)) throw new Error('a tx hash is 0x and 64 hex digits');
    const t = await rpc.call('tx_get', [hash]);
    if (t === null) throw new Error(`no tx ${hash} on this node (unknown, or dropped from its mempool)`);
    return t;
  }, [rpc, hash]);
  return (
    <section>
      <h1>Transaction</h1>
      <Show v={v} what="the tx">
        {(t) => {
          const payload = t.tx.payload as Record<string, unknown>;
          const to = typeof payload.to === 'string' ? payload.to : null;
          return (
            <>
              <Fields
                rows={[
                  ['Hash', <Mono key="h">{t.hash}</Mono>],
                  [
                    'Status',
                    t.pending ? (
                      <span class="warn">pending (in the mempool)</span>
                    ) : t.receipt?.status === 'ok' ? (
                      <span class="good">ok</span>
                    ) : (
                      <span class="bad">failed: {t.receipt?.error ?? 'unknown'}</span>
                    ),
                  ],
                  ['Block', t.height === null ? '-' : <BlockLink key="b" height={t.height} />],
                  ['Index in block', t.index === null ? '-' : String(t.index)],
                  ['Kind', t.tx.kind],
                  ['From', <AccountLink key="f" address={t.tx.from} short={false} />],
                  ...(to
                    ? ([['To', <AccountLink key="t" address={to} short={false} />]] as [
                        string,
                        ComponentChildren,
                      ][])
                    : []),
                  ['Nonce', t.tx.nonce],
                  ['Gas limit', groupDigits(t.tx.gasLimit)],
                  ['Gas price', groupDigits(t.tx.gasPrice)],
                  ['Gas used', t.receipt ? groupDigits(t.receipt.gasUsed) : '-'],
                  ['Signer key', <Mono key="k">{t.tx.signer}</Mono>],
                ]}
              />
              <h2>Payload</h2>
              <pre class="json">{JSON.stringify(t.tx.payload, null, 2)}</pre>
              {t.receipt && t.receipt.events.length > 0 && (
                <>
                  <h2>Events</h2>
                  <table class="list">
                    <thead>
                      <tr>
                        <th scope="col">Type</th>
                        <th scope="col">Attributes</th>
                      </tr>
                    </thead>
                    <tbody>
                      {t.receipt.events.map((e, i) => (
                        <tr key={i}>
                          <td>{e.type}</td>
                          <td class="mono small">
                            {Object.entries(e.attributes)
                              .map(([k, val]) => `${k}=${val}`)
                              .join('  ')}
                          </td>
                        </tr>
                      ))}
                    </tbody>
                  </table>
                </>
              )}
            </>
          );
        }}
      </Show>
    </section>
  );
}
