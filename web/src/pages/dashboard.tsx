/** The explorer's dashboard: head, block time, tx/s, validators and recent blocks, live over newHeads. */
import { BarChart } from '../chart.js';
import { ago, shortHash } from '../format.js';
import { rates, summary } from '../live.js';
import { href } from '../router.js';
import { AccountLink, BlockLink, ErrorBox, Show, useFeed, useNode } from '../ui.js';
import { useValidators, ValidatorTable } from './validators.js';

function Stat({ label, value, testId }: { label: string; value: string; testId?: string }) {
  return (
    <div class="stat">
      <div class="stat-label">{label}</div>
      <div class="stat-value" data-testid={testId}>
        {value}
      </div>
    </div>
  );
}

export function DashboardPage() {
  const { feed, status } = useNode();
  useFeed(feed);
  const heads = feed.heads;
  const latest = feed.latest;
  const s = summary(heads);
  const r = rates(heads);
  const validators = useValidators();
  const live = feed.socketState === 'open';
  return (
    <section>
      <h1>
        Chain <span class="mono">{status.chainId}</span>
      </h1>
      <div class="stats">
        <Stat label="Height" value={latest ? String(latest.height) : '…'} testId="height" />
        <Stat
          label="Block time"
          value={s.blockTime === null ? '…' : `${s.blockTime.toFixed(2)} s`}
          testId="block-time"
        />
        <Stat label="Transactions / s" value={s.tps === null ? '…' : s.tps.toFixed(1)} testId="tps" />
        <Stat
          label="Validators"
          value={validators.state === 'ok' ? String(validators.value.rows.length) : '…'}
          testId="validator-count"
        />
      </div>
      <p class="muted" data-testid="live">
        <span class={live ? 'dot live' : 'dot'} aria-hidden="true" />
        {live
          ? 'Live: new blocks arrive over the WebSocket (newHeads).'
          : 'WebSocket down: polling node_status every 3 s.'}{' '}
        Averages over the last {Math.max(0, heads.length - 1)} blocks.
      </p>
      {feed.error && <ErrorBox error={feed.error} />}
      <div class="charts">
        <BarChart
          title="Block time"
          unit="s"
          bars={r.map((x) => ({ x: x.height, y: x.interval }))}
          testId="chart-block-time"
        />
        <BarChart
          title="Transactions per second"
          unit="tx/s"
          bars={r.map((x) => ({ x: x.height, y: x.tps }))}
          testId="chart-tps"
        />
      </div>
      <h2>
        Validators <a href={href('/validators')}>all details</a>
      </h2>
      <Show v={validators} what="validators">
        {(set) => <ValidatorTable set={set} full={false} />}
      </Show>
      <h2>Recent blocks</h2>
      <table class="list" data-testid="recent-blocks">
        <thead>
          <tr>
            <th scope="col">Height</th>
            <th scope="col">Hash</th>
            <th scope="col" class="num">
              Txs
            </th>
            <th scope="col">Proposer</th>
            <th scope="col">Time</th>
          </tr>
        </thead>
        <tbody>
          {[...heads]
            .reverse()
            .slice(0, 12)
            .map((h) => (
              <tr key={h.height}>
                <td>
                  <BlockLink height={h.height} />
                </td>
                <td class="mono">{shortHash(h.hash)}</td>
                <td class="num">{h.txs}</td>
                <td>
                  <AccountLink address={h.proposer} />
                </td>
                <td title={new Date(h.time).toISOString()}>{ago(h.time)}</td>
              </tr>
            ))}
        </tbody>
      </table>
    </section>
  );
}
