/**
 * An account: balance, nonce, stake, its forward-confirmed name, its standing in the control module,
 * and its txs when the node has `chain_getAccountTxs` (listed in rpc.discover; the list is left out
 * on a node without it).
 */
import { bytes, groupDigits } from '../format.js';
import type { Result } from '../rpc.js';
import {
  AccountLink,
  BlockLink,
  ErrorBox,
  Fields,
  Mono,
  NameLink,
  Show,
  TxLink,
  useLoad,
  useNode,
} from '../ui.js';

const ADDRESS_RE = /^vos1[02-9ac-hj-np-z]{38}$/;
const PAGE = 25;

interface AccountTx {
  hash: string;
  height?: number | null;
  index?: number | null;
  kind?: string;
  from?: string;
  to?: string | null;
  tx?: { kind?: string; from?: string; payload?: { to?: string } };
  receipt?: { status?: string } | null;
}

/** The txs of whatever shape the method answers: a list, or {txs, cursor}. */
function txsOf(result: unknown): AccountTx[] {
  if (Array.isArray(result)) return result as AccountTx[];
  const r = result as { txs?: unknown } | null;
  return Array.isArray(r?.txs) ? (r.txs as AccountTx[]) : [];
}

function AccountTxs({ address }: { address: string }) {
  const { rpc } = useNode();
  const v = useLoad(() => rpc.callRaw('chain_getAccountTxs', [address, { limit: PAGE }]), [rpc, address]);
  return (
    <>
      <h2>Transactions</h2>
      <Show v={v} what="transactions">
        {(result) => {
          const txs = txsOf(result);
          if (txs.length === 0) return <p class="muted">No transactions.</p>;
          return (
            <table class="list" data-testid="account-txs">
              <thead>
                <tr>
                  <th scope="col">Hash</th>
                  <th scope="col">Block</th>
                  <th scope="col">Kind</th>
                  <th scope="col">From</th>
                  <th scope="col">To</th>
                  <th scope="col">Status</th>
                </tr>
              </thead>
              <tbody>
                {txs.map((t) => {
                  const from = t.from ?? t.tx?.from;
                  const to = t.to ?? t.tx?.payload?.to;
                  return (
                    <tr key={t.hash}>
                      <td>
                        <TxLink hash={t.hash} />
                      </td>
                      <td>{typeof t.height === 'number' ? <BlockLink height={t.height} /> : '-'}</td>
                      <td>{t.kind ?? t.tx?.kind ?? '-'}</td>
                      <td>{from ? from === address ? <b>this</b> : <AccountLink address={from} /> : '-'}</td>
                      <td>{to ? to === address ? <b>this</b> : <AccountLink address={to} /> : '-'}</td>
                      <td>{t.receipt?.status ?? '-'}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          );
        }}
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
