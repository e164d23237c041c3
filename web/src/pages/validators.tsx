/** The validator set with voting power, share, and each node's contribution from the control module. */
import { bytes, groupDigits, share } from '../format.js';
import type { Result } from '../rpc.js';
import { AccountLink, type Loaded, NameLink, Show, useFeed, useLoad, useNode } from '../ui.js';

export interface ValidatorRow {
  address: string;
  power: string;
  name: string | null;
  stake: string | null;
  jailed: boolean;
  control: Result<'control_getNode'> | null;
}

export interface ValidatorSet {
  height: number;
  totalPower: string;
  rows: ValidatorRow[];
}

/** The set that signs the next height, with names, stake and contribution; reloaded every 10 blocks. */
export function useValidators(): Loaded<ValidatorSet> {
  const { rpc, feed } = useNode();
  useFeed(feed);
  const tick = Math.floor((feed.latest?.height ?? 0) / 10);
  return useLoad(async () => {
    const set = await rpc.call('chain_getValidators');
    const calls = set.validators.flatMap((v) => [
      { method: 'control_getNode', params: [v.address] },
      { method: 'name_reverse', params: [v.address] },
      { method: 'chain_getAccount', params: [v.address] },
    ]);
    const out: unknown[] = [];
    for (let i = 0; i < calls.length; i += 99) out.push(...(await rpc.batch(calls.slice(i, i + 99))));
    const ok = <T,>(x: unknown): T | null => (x instanceof Error ? null : (x as T));
    const rows = set.validators.map((v, i): ValidatorRow => {
      const acct = ok<Result<'chain_getAccount'>>(out[3 * i + 2]);
      return {
        address: v.address,
        power: v.power,
        control: ok<Result<'control_getNode'>>(out[3 * i]),
        name: ok<Result<'name_reverse'>>(out[3 * i + 1])?.name ?? null,
        stake: acct?.stake ?? null,
        jailed: acct?.jailed ?? false,
      };
    });
    return { height: set.height, totalPower: set.totalPower, rows };
  }, [rpc, tick]);
}

export function ValidatorTable({ set, full }: { set: ValidatorSet; full: boolean }) {
  return (
    <table class="list" data-testid="validators">
      <thead>
        <tr>
          <th scope="col">Validator</th>
          <th scope="col">Name</th>
          <th scope="col" class="num">
            Voting power
          </th>
          <th scope="col" class="num">
            Share
          </th>
          <th scope="col" class="num">
            Contribution
          </th>
          {full && (
            <>
              <th scope="col" class="num">
                Stake
              </th>
              <th scope="col" class="num">
                Storage quota
              </th>
              <th scope="col" class="num">
                Search boost
              </th>
              <th scope="col">Status</th>
            </>
          )}
        </tr>
      </thead>
      <tbody>
        {set.rows.map((r) => (
          <tr key={r.address}>
            <td>
              <AccountLink address={r.address} />
            </td>
            <td>{r.name ? <NameLink name={r.name} /> : <span class="muted">-</span>}</td>
            <td class="num">{groupDigits(r.power)}</td>
            <td class="num">{share(r.power, set.totalPower)}</td>
            <td class="num" title={r.control ? `threshold ${bytes(r.control.threshold)}` : undefined}>
              {r.control ? bytes(r.control.contribution) : '-'}
            </td>
            {full && (
              <>
                <td class="num">{r.stake === null ? '-' : groupDigits(r.stake)}</td>
                <td class="num">{r.control ? bytes(r.control.quota) : '-'}</td>
                <td class="num">{r.control ? r.control.boost.toFixed(2) : '-'}</td>
                <td>{r.jailed ? <span class="bad">jailed</span> : <span class="good">active</span>}</td>
              </>
            )}
          </tr>
        ))}
      </tbody>
    </table>
  );
}

export function ValidatorsPage() {
  const v = useValidators();
  return (
    <section>
      <h1>Validators</h1>
      <Show v={v} what="validators">
        {(set) => (
          <>
            <p class="muted">
              {set.rows.length} validators sign height {set.height}; total voting power{' '}
              {groupDigits(set.totalPower)}. Voting power = bonded stake × (1 + min(1, C/T)), C the node's
              proven contribution and T the control threshold of the last epoch.
            </p>
            <ValidatorTable set={set} full={true} />
          </>
        )}
      </Show>
    </section>
  );
}
