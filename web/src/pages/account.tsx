/**
 * An account: balance, nonce, stake, its forward-confirmed name, its standing in the control module,
 * and its txs (`chain_getAccountTxs`; left out on an older node whose rpc.discover lacks it).
 */
import { useState } from 'preact/hooks';
import { bytes, groupDigits } from '../format.js';
import type { Result } from '../rpc.js';
import { BlockLink, ErrorBox, Fields, Mono, NameLink, Show, TxLink, useLoad, useNode } from '../ui.js';

const ADDRESS_RE = /^vos1[02-9ac-hj-np-z]{38}$/;
const PAGE = 25;

type AccountTxs = Result<'chain_getAccountTxs'>;

/** The account's txs, newest first, a page at a time (the cursor of the page before). */
function AccountTxs({ address }: { address: string }) {
  const { rpc } = useNode();
  const [cursors, setCursors] = useState<AccountTxs['cursor'][]>([]);
  const before = cursors.at(-1);
  const v = useLoad(
    () => rpc.call('chain_getAccountTxs', [address, { limit: PAGE, ...(before ? { before } : {}) }]),
    [rpc, address, before],
  );
  return (
    <>
      <h2>Transactions</h2>
      <Show v={v} what="transactions">
        {(r) =>
          r.txs.length === 0 ? (
            <p class="muted">No transactions.</p>
          ) : (
            <>
              <table class="list" data-testid="account-txs">
                <thead>
                  <tr>
                    <th scope="col">Hash</th>
                    <th scope="col">Block</th>
                    <th scope="col">Kind</th>
                    <th scope="col">Role</th>
                    <th scope="col">Status</th>
                  </tr>
                </thead>
                <tbody>
                  {r.txs.map((t) => (
                    <tr key={t.hash}>
                      <td>
                        <TxLink hash={t.hash} />
                      </td>
                      <td>
                        <BlockLink height={t.height} />
                      </td>
                      <td>{t.kind}</td>
                      <td>{t.role}</td>
                      <td class={t.status === 'ok' ? 'good' : 'bad'}>{t.status}</td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p>
                {cursors.length > 0 && (
                  <button type="button" onClick={() => setCursors(cursors.slice(0, -1))}>
                    Newer
                  </button>
                )}{' '}
                {r.cursor !== null && (
                  <button type="button" onClick={() => setCursors([...cursors, r.cursor])}>
                    Older
                  </button>
                )}
              </p>
            </>
          )
        }
      </Show>
    </>
  );
}

export function AccountPage({ address }: { address: string }) {
  const { rpc, methods } = useNode();
  const valid = ADDRESS_RE.test(address);
  const v = useLoad(async () => {
    if (!valid) throw new Error(`${address} is not a VOS address (vos1 and 38 more characters)`);
    const [acct, name, control] = await rpc.batch([
      { method: 'chain_getAccount', params: [address] },
      { method: 'name_reverse', params: [address] },
      { method: 'control_getNode', params: [address] },
    ]);
    if (acct instanceof Error) throw acct;
    return {
      acct: acct as Result<'chain_getAccount'>,
      name: name instanceof Error ? null : (name as Result<'name_reverse'>),
      control: control instanceof Error ? null : (control as Result<'control_getNode'>),
    };
  }, [rpc, address]);
  return (
    <section>
      <h1>Account</h1>
      <p>
        <Mono>{address}</Mono>
      </p>
      {!valid && <ErrorBox error="not a VOS address" />}
      <Show v={v} what="the account">
        {({ acct, name, control }) => (
          <>
            <Fields
              rows={[
                [
                  'Balance',
                  <span key="b" data-testid="balance">
                    {groupDigits(acct.balance)}
                  </span>,
                ],
                [
                  'Nonce',
                  `${acct.nonce}${acct.pendingNonce !== acct.nonce ? ` (${acct.pendingNonce} with pending txs)` : ''}`,
                ],
                ['Bonded stake', groupDigits(acct.stake)],
                ['Jailed', acct.jailed ? 'yes' : 'no'],
                ['Name', name ? <NameLink key="n" name={name.name} /> : <span class="muted">none</span>],
                ...(control && control.contribution !== '0'
                  ? ([
                      ['Contribution (last epoch)', bytes(control.contribution)],
                      ['Storage quota', bytes(control.quota)],
                      ['Search boost', control.boost.toFixed(2)],
                    ] as [string, string][])
                  : []),
              ]}
            />
            {methods.has('chain_getAccountTxs') && <AccountTxs address={address} />}
          </>
        )}
      </Show>
    </section>
  );
}
