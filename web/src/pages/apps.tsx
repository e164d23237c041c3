/**
 * The app store (#/apps) and an app's page (#/app/<id>), with this browser's account (wallet.ts):
 * - the store: published executables from search_query (kind=executable; newest first, or those with
 *   the words typed), each with its title,
 *   publisher (the forward-confirmed name where there is one) and size; Install fetches the module
 *   from /content/<cid>, deploys it when the chain does not hold that code yet (state_getProof of
 *   app/code/<hash>), creates an instance owned by this browser's account and links to it;
 * - "My apps": the instances this browser's account owns (app_list by owner);
 * - an app: its fields and a form per method (integer args, optional input text): Query runs it
 *   read-only (app_query, free), Send signs an app-call tx in the page and waits for its commit;
 *   both show the halt, gas, return value, output, events (and a query's logs).
 * Every failure is shown in the page (unfunded account, refused tx, a halt), never thrown.
 */
import type { ComponentChildren } from 'preact';
import { useEffect, useMemo, useState } from 'preact/hooks';
import { toHex } from '../../../util/bytes.js';
import { bytes, groupDigits, shortHash } from '../format.js';
import { href, navigate } from '../router.js';
import type { Result, Rpc } from '../rpc.js';
import {
  AccountLink,
  BlockLink,
  ErrorBox,
  Fields,
  type Loaded,
  Mono,
  NameLink,
  Show,
  TxLink,
  useLoad,
  useNode,
} from '../ui.js';
import {
  appTx,
  browserKey,
  type Committed,
  codeHashOf,
  codeStateKey,
  fundHint,
  MAX_CODE_BYTES,
  sendTx,
  type WalletKey,
} from '../wallet.js';
import './apps.css';

const errorText = (err: unknown) => (err instanceof Error ? err.message : String(err));
const APP_ID_RE = /^0x[0-9a-fA-F]{64}$/;

/** useLoad (ui.tsx) that keeps showing the last value while it reloads (after a tx: no flicker). */
function useReload<T>(load: () => Promise<T>, deps: unknown[]): Loaded<T> {
  const [v, setV] = useState<Loaded<T>>({ state: 'loading' });
  useEffect(() => {
    let live = true;
    load().then(
      (value) => live && setV({ state: 'ok', value }),
      (err: unknown) => live && setV({ state: 'error', error: errorText(err) }),
    );
    return () => {
      live = false;
    };
  }, deps);
  return v;
}

// ---- this browser's account ----

type Wallet = { key: WalletKey; error: null } | { key: null; error: string };

function loadWallet(): Wallet {
  try {
    return { key: browserKey().key, error: null };
  } catch (err) {
    return { key: null, error: errorText(err) };
  }
}

interface AccountState {
  balance: bigint;
  nonce: string;
  error?: string;
}

const POLL_MS = 2000;

/** The account's balance and nonce, polled (keeping the last value while it reloads) and on `version`. */
function useAccount(rpc: Rpc, address: string | null, version: number): AccountState | null {
  const [acct, setAcct] = useState<AccountState | null>(null);
  useEffect(() => {
    if (address === null) return;
    let live = true;
    const load = () =>
      rpc.call('chain_getAccount', [address]).then(
        (a) => live && setAcct({ balance: BigInt(a.balance), nonce: a.nonce }),
        (err: unknown) =>
          live &&
          setAcct((prev) => ({
            balance: prev?.balance ?? 0n,
            nonce: prev?.nonce ?? '0',
            error: errorText(err),
          })),
      );
    void load();
    const timer = setInterval(load, POLL_MS);
    return () => {
      live = false;
      clearInterval(timer);
    };
  }, [rpc, address, version]);
  return acct;
}

function WalletCard({ wallet, acct }: { wallet: Wallet; acct: AccountState | null }) {
  if (wallet.key === null)
    return <ErrorBox error={`This browser's account is not available: ${wallet.error}`} />;
  const address = wallet.key.address;
  const funded = acct !== null && acct.balance > 0n;
  return (
    <div class="wallet" data-testid="wallet">
      <div class="wallet-head">
        <div>
          <div class="stat-label">This browser's account</div>
          <code class="wallet-address" data-testid="wallet-address">
            {address}
          </code>
        </div>
        <div class="wallet-balance">
          <div class="stat-label">Balance</div>
          <span class="stat-value" data-testid="wallet-balance">
            {acct === null ? '…' : groupDigits(acct.balance)}
          </span>
        </div>
      </div>
      {acct?.error && <p class="bad small">Could not read the balance: {acct.error}</p>}
      {!funded && acct !== null && (
        <p class="hint" data-testid="fund-hint">
          This account has nothing yet, and every tx pays a fee. Fund it from a node's key:{' '}
          <code class="select-all">{fundHint(address)}</code>
        </p>
      )}
      <p class="muted small">
        Made by this page and kept in this browser's storage (not encrypted): it signs the page's txs, the
        node never does. Use it for small amounts. <AccountLink address={address} short={false} /> · nonce{' '}
        {acct?.nonce ?? '…'}
      </p>
    </div>
  );
}

/** The wallet, its account and a `bump` to reload both after a tx. */
function useWalletState(rpc: Rpc) {
  const wallet = useMemo(loadWallet, []);
  const [version, setVersion] = useState(0);
  const acct = useAccount(rpc, wallet.key?.address ?? null, version);
  return { wallet, acct, version, bump: () => setVersion((v) => v + 1) };
}

// ---- what this browser installed (titles of its apps) ----

interface InstalledInfo {
  title: string;
  publishId: string;
}

const installedKey = (chainId: string) => `vos.apps.v1.${chainId}`;

function installedApps(chainId: string): Record<string, InstalledInfo> {
  try {
    const v = JSON.parse(localStorage.getItem(installedKey(chainId)) ?? '{}');
    return v !== null && typeof v === 'object' ? (v as Record<string, InstalledInfo>) : {};
  } catch {
    return {};
  }
}

function rememberInstall(chainId: string, app: string, info: InstalledInfo): void {
  try {
    localStorage.setItem(installedKey(chainId), JSON.stringify({ ...installedApps(chainId), [app]: info }));
  } catch {
    // Storage full or off: the app is installed all the same, only its title is not remembered.
  }
}

// ---- the store ----

/** The search words in the hash (`#/apps?q=counter`). */
function useHashQuery(): string {
  const read = () => new URLSearchParams(location.hash.split('?')[1] ?? '').get('q') ?? '';
  const [q, setQ] = useState(read);
  useEffect(() => {
    const on = () => setQ(read());
    addEventListener('hashchange', on);
    return () => removeEventListener('hashchange', on);
  }, []);
  return q;
}

interface StoreItem {
  id: string;
  cid: string | null;
  title: string;
  owner: string;
  ownerName: string | null;
  record: NonNullable<Result<'publish_get'>>;
}

async function findApps(rpc: Rpc, q: string): Promise<{ items: StoreItem[]; more: boolean }> {
  const found = await rpc.call('search_query', [{ q, kind: 'executable', limit: 24 }]);
  const hits = found.results.filter((r) => r.kind === 'executable');
  const answers = await rpc.batch(
    hits.flatMap((h) => [
      { method: 'publish_get', params: [h.id] },
      { method: 'name_reverse', params: [h.owner] },
    ]),
  );
  const items: StoreItem[] = [];
  hits.forEach((h, i) => {
    const record = answers[2 * i];
    const name = answers[2 * i + 1];
    if (record === null || record instanceof Error) return;
    items.push({
      id: h.id,
      cid: h.cid,
      title: h.title,
      owner: h.owner,
      ownerName: name instanceof Error || name === null ? null : (name as { name: string }).name,
      record: record as NonNullable<Result<'publish_get'>>,
    });
  });
  return { items, more: found.cursor !== null };
}

type Step = { text: string; state: 'run' | 'done' | 'error' };

/** Fetch the module, deploy it unless the chain has it, create an instance: the new app id. */
async function install(
  rpc: Rpc,
  key: WalletKey,
  item: StoreItem,
  step: (s: Step) => void,
): Promise<{ app: string; codeHash: string }> {
  const cid = item.record.cid;
  if (item.record.kind !== 'executable') throw new Error(`this item is kind=${item.record.kind}, not an app`);
  if (item.record.size > MAX_CODE_BYTES)
    throw new Error(
      `the module is ${item.record.size} bytes: one deploy tx carries at most ${MAX_CODE_BYTES}`,
    );
  step({
    text: `Fetching the module (${bytes(item.record.size)}) from /content/${shortHash(cid, 10)}`,
    state: 'run',
  });
  const res = await fetch(`/content/${encodeURIComponent(cid)}`, { signal: AbortSignal.timeout(60_000) });
  if (!res.ok) throw new Error(`fetching the module: HTTP ${res.status} ${(await res.text()).slice(0, 200)}`);
  const code = new Uint8Array(await res.arrayBuffer());
  if (code.length > MAX_CODE_BYTES)
    throw new Error(`the module is ${code.length} bytes: one deploy tx carries at most ${MAX_CODE_BYTES}`);
  const hash = codeHashOf(code);
  const codeHash = toHex(hash);
  step({ text: `Fetched ${bytes(code.length)}, code hash ${shortHash(codeHash)}`, state: 'done' });

  const proof = await rpc.call('state_getProof', [codeStateKey(hash)]).catch(() => null);
  if (proof?.kind === 'present') {
    step({ text: 'This chain already has the code: no deploy needed', state: 'done' });
  } else {
    const d = appTx.deploy(code);
    step({
      text: `Deploying the code (gas limit ${groupDigits(d.gasLimit)})`,
      state: 'run',
    });
    const r = await sendTx(rpc, key, d);
    if (r.receipt.status !== 'ok')
      throw new Error(`the deploy tx ${shortHash(r.hash)} failed: ${r.receipt.error}`);
    step({ text: `Code deployed in block ${r.height} (fee ${groupDigits(r.fee)})`, state: 'done' });
  }

  step({
    text: 'Creating an instance owned by this browser’s account',
    state: 'run',
  });
  const r = await sendTx(rpc, key, appTx.create(hash));
  if (r.receipt.status !== 'ok')
    throw new Error(`the app-create tx ${shortHash(r.hash)} failed: ${r.receipt.error}`);
  const app = r.receipt.events.find((e) => e.type === 'app-create')?.attributes.app;
  if (app === undefined) throw new Error(`the app-create tx ${shortHash(r.hash)} named no app`);
  step({ text: `Instance created in block ${r.height} (fee ${groupDigits(r.fee)})`, state: 'done' });
  return { app, codeHash };
}

function Steps({ steps }: { steps: Step[] }) {
  return (
    <ol class="steps" data-testid="install-progress">
      {steps.map((s, i) => (
        <li key={i} class={`step is-${s.state}`}>
          <span class="step-mark" aria-hidden="true">
            {s.state === 'done' ? '✓' : s.state === 'error' ? '✗' : '…'}
          </span>
          {s.text}
        </li>
      ))}
    </ol>
  );
}

function StoreCard({
  item,
  wallet,
  onInstalled,
}: {
  item: StoreItem;
  wallet: Wallet;
  onInstalled: () => void;
}) {
  const { rpc, status } = useNode();
  const [steps, setSteps] = useState<Step[]>([]);
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const r = item.record;
  const run = async () => {
    if (wallet.key === null) return;
    setBusy(true);
    setError(null);
    setDone(null);
    const log: Step[] = [];
    const step = (s: Step) => {
      const last = log[log.length - 1];
      if (last?.state === 'run') log.pop();
      log.push(s);
      setSteps([...log]);
    };
    try {
      const made = await install(rpc, wallet.key, item, step);
      rememberInstall(status.chainId, made.app, { title: item.title, publishId: item.id });
      setDone(made.app);
    } catch (err) {
      const last = log[log.length - 1];
      if (last?.state === 'run') {
        log[log.length - 1] = { ...last, state: 'error' };
        setSteps([...log]);
      }
      setError(errorText(err));
    } finally {
      setBusy(false);
      onInstalled();
    }
  };
  return (
    <article class="app-card" data-testid="store-item" data-id={item.id}>
      <h3 class="app-title">{item.title}</h3>
      {r.description && <p class="app-desc">{r.description}</p>}
      <dl class="app-meta">
        <dt>Publisher</dt>
        <dd data-testid="publisher">
          {item.ownerName ? (
            <>
              <NameLink name={item.ownerName} /> <span class="muted">·</span>{' '}
            </>
          ) : null}
          <AccountLink address={item.owner} />
        </dd>
        <dt>Size</dt>
        <dd data-testid="size">{bytes(r.size)}</dd>
        <dt>Published</dt>
        <dd>
          block <BlockLink height={r.publishedAt} />
        </dd>
        {r.tags.length > 0 && (
          <>
            <dt>Tags</dt>
            <dd>{r.tags.join(', ')}</dd>
          </>
        )}
      </dl>
      <div class="app-actions">
        <button type="button" data-testid="install" disabled={busy || wallet.key === null} onClick={run}>
          {busy ? 'Installing…' : done ? 'Install again' : 'Install'}
        </button>
        <span class="muted small mono" title={item.id}>
          {shortHash(item.id)}
        </span>
      </div>
      {steps.length > 0 && <Steps steps={steps} />}
      {error && <ErrorBox error={error} />}
      {done && (
        <p class="good" data-testid="install-done">
          Installed as app{' '}
          <a class="mono" data-testid="installed-app" href={href(`/app/${done}`)} title={done}>
            {shortHash(done)}
          </a>
          .
        </p>
      )}
    </article>
  );
}

function StoreSearch({ q }: { q: string }) {
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  return (
    <form
      class="store-search"
      data-testid="store-search"
      onSubmit={(e) => {
        e.preventDefault();
        const s = text.trim();
        navigate(s === '' ? '/apps' : `/apps?q=${encodeURIComponent(s)}`);
      }}
    >
      <input
        name="q"
        aria-label="Search the app store"
        placeholder="a word of an app's title, tags or description"
        value={text}
        onInput={(e) => setText((e.target as HTMLInputElement).value)}
        autocomplete="off"
      />
      <button type="submit">Search</button>
    </form>
  );
}

function MyApps({ owner, version }: { owner: string; version: number }) {
  const { rpc, status } = useNode();
  const v = useReload(() => rpc.call('app_list', [{ owner, limit: 100 }]), [rpc, owner, version]);
  const titles = installedApps(status.chainId);
  return (
    <Show v={v} what="your apps">
      {(list) =>
        list.length === 0 ? (
          <p class="muted" data-testid="my-apps-empty">
            This browser's account owns no app yet: install one above.
          </p>
        ) : (
          <table class="list" data-testid="my-apps">
            <thead>
              <tr>
                <th scope="col">App</th>
                <th scope="col">Title</th>
                <th scope="col">Code</th>
                <th scope="col" class="num">
                  Created at
                </th>
              </tr>
            </thead>
            <tbody>
              {list.map((a) => (
                <tr key={a.app} data-testid="my-app">
                  <td>
                    <a class="mono" href={href(`/app/${a.app}`)} title={a.app}>
                      {shortHash(a.app)}
                    </a>
                  </td>
                  <td>{titles[a.app]?.title ?? <span class="muted">-</span>}</td>
                  <td class="mono" title={a.codeHash}>
                    {shortHash(a.codeHash)}
                  </td>
                  <td class="num">
                    <BlockLink height={a.createdAt} />
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        )
      }
    </Show>
  );
}

export function AppStorePage() {
  const { rpc } = useNode();
  const q = useHashQuery();
  const w = useWalletState(rpc);
  const found = useLoad(() => findApps(rpc, q.trim()), [rpc, q]);
  return (
    <section>
      <h1>App store</h1>
      <p class="lede">
        Apps are WASM modules published as <code>kind=executable</code>. Installing one deploys its code (when
        this chain does not hold it yet) and creates an instance of it owned by this browser's account; the
        page signs those txs itself.
      </p>
      <WalletCard wallet={w.wallet} acct={w.acct} />
      <h2>Find apps</h2>
      <StoreSearch q={q} />
      <p class="muted small">
        {q.trim() === ''
          ? 'Every published executable, newest first; a word narrows it to the apps whose title, tags or description have it.'
          : `Apps with “${q.trim()}”.`}
      </p>
      <Show v={found} what="apps">
        {(r) =>
          r.items.length === 0 ? (
            <p class="muted" data-testid="store-empty">
              {q.trim() === ''
                ? 'Nothing was published as an executable yet.'
                : `No published app matches “${q}”.`}
            </p>
          ) : (
            <>
              <div class="app-grid" data-testid="store">
                {r.items.map((item) => (
                  <StoreCard key={item.id} item={item} wallet={w.wallet} onInstalled={w.bump} />
                ))}
              </div>
              {r.more && <p class="muted small">More apps match: add a word to narrow the search.</p>}
            </>
          )
        }
      </Show>
      <h2>My apps</h2>
      {w.wallet.key !== null && <MyApps owner={w.wallet.key.address} version={w.version} />}
    </section>
  );
}

// ---- one app ----

type AppInfo = NonNullable<Result<'app_get'>>;
type Method = AppInfo['methods'][number];

interface Outcome {
  via: 'query' | 'send';
  halt: string;
  message?: string;
  value: string | null;
  gasUsed: string;
  output: string;
  outputText: string | null;
  events: { topic: string; data: string; dataText: string | null }[];
  logs: string[] | null;
  height?: number;
  hash?: string;
  fee?: bigint;
  budget?: bigint;
}

const textOf = (hex: string): string | null => {
  if (hex === '0x' || hex === '') return null;
  try {
    const b = new Uint8Array((hex.slice(2).match(/../g) ?? []).map((x) => Number.parseInt(x, 16)));
    return new TextDecoder('utf-8', { fatal: true }).decode(b);
  } catch {
    return null;
  }
};

/** A committed app-call's receipt as an outcome: the halt is the receipt's error code (APP_OUT_OF_GAS...). */
function outcomeOfReceipt(r: Committed): Outcome {
  const call = r.receipt.events.find((e) => e.type === 'app-call')?.attributes;
  const events = r.receipt.events
    .filter((e) => e.type === 'app-event')
    .map((e) => ({
      topic: e.attributes.topic ?? '',
      data: e.attributes.data ?? '0x',
      dataText: textOf(e.attributes.data ?? '0x'),
    }));
  let halt = 'ok';
  let message: string | undefined;
  if (r.receipt.status !== 'ok') {
    const err = r.receipt.error ?? 'failed';
    const m = /^APP_(OUT_OF_GAS|STACK_LIMIT|TRAP|ABORT|TIMEOUT)(?::(.*))?$/.exec(err);
    halt = m ? m[1].toLowerCase() : 'failed';
    message = m ? m[2] : err;
  }
  const output = call?.output ?? '0x';
  return {
    via: 'send',
    halt,
    message,
    value: call?.value ? call.value : null,
    gasUsed: call?.gasUsed ?? '-',
    output,
    outputText: textOf(output),
    events,
    logs: null,
    height: r.height,
    hash: r.hash,
    fee: r.fee,
  };
}

const HALT_TEXT: Record<string, string> = {
  ok: 'ok',
  out_of_gas: 'out of gas: the budget ran out (raise the gas budget)',
  stack_limit: 'stack limit: the call nested too deep',
  abort: 'aborted by the app',
  trap: 'trapped (a runtime error in the app)',
  timeout: 'timed out',
  failed: 'the tx failed',
};

function OutcomeView({ o }: { o: Outcome }) {
  const ok = o.halt === 'ok';
  const rows: [string, ComponentChildren][] = [
    [
      'Halt',
      <span key="h" class={ok ? 'badge good' : 'badge bad'} data-testid="result-halt">
        {HALT_TEXT[o.halt] ?? o.halt}
      </span>,
    ],
  ];
  if (o.message)
    rows.push([
      'Message',
      <span key="m" class="bad">
        {o.message}
      </span>,
    ]);
  rows.push([
    'Value',
    <span key="v" class="mono" data-testid="result-value">
      {o.value ?? '-'}
    </span>,
  ]);
  rows.push(['Gas used', groupDigits(o.gasUsed)]);
  if (o.budget !== undefined) rows.push(['Gas budget', groupDigits(o.budget)]);
  if (o.outputText !== null && o.outputText !== '')
    rows.push([
      'Output',
      <pre key="o" class="output" data-testid="result-output">
        {o.outputText}
      </pre>,
    ]);
  else if (o.output !== '0x') rows.push(['Output (bytes)', <Mono key="o">{o.output}</Mono>]);
  if (o.events.length > 0)
    rows.push([
      'Events',
      <ul key="e" class="plain">
        {o.events.map((e, i) => (
          <li key={i}>
            <strong>{e.topic}</strong> <span class="mono small">{e.dataText ?? e.data}</span>
          </li>
        ))}
      </ul>,
    ]);
  if (o.logs !== null && o.logs.length > 0)
    rows.push([
      'Logs',
      <pre key="l" class="output">
        {o.logs.join('\n')}
      </pre>,
    ]);
  return (
    <div class={`outcome ${ok ? 'ok' : 'failed'}`} data-testid="result" data-halt={o.halt} data-via={o.via}>
      <p class="outcome-head">
        {o.via === 'query' ? (
          <>
            <strong>Query</strong> <span class="muted">(read-only, nothing kept, no fee)</span>
            {o.height !== undefined && <> at block {o.height}</>}
          </>
        ) : (
          <>
            <strong>Sent</strong> in tx {o.hash && <TxLink hash={o.hash} />}
            {o.height !== undefined && (
              <>
                {' '}
                at block <BlockLink height={o.height} />
              </>
            )}
            {o.fee !== undefined && <span class="muted"> · fee {groupDigits(o.fee)}</span>}
          </>
        )}
      </p>
      <Fields rows={rows} />
    </div>
  );
}

const RANGE: Record<string, [bigint, bigint]> = {
  i32: [-(2n ** 31n), 2n ** 32n - 1n],
  i64: [-(2n ** 63n), 2n ** 64n - 1n],
};

function checkArgs(m: Method, args: string[]): string | null {
  for (const [i, p] of m.params.entries()) {
    const a = args[i]?.trim() ?? '';
    if (!/^-?[0-9]{1,20}$/.test(a)) return `argument ${i + 1} (${p}) is not an integer`;
    const [lo, hi] = RANGE[p] ?? RANGE.i64;
    const n = BigInt(a);
    if (n < lo || n > hi) return `argument ${i + 1} is out of the ${p} range`;
  }
  return null;
}

/** The budget of an auto Send: twice what a dry run used, and some room for a state that grew since. */
const autoBudget = (dryRunGas: bigint) => dryRunGas * 2n + 10_000n;

function MethodForm({
  app,
  m,
  wallet,
  onSent,
}: {
  app: AppInfo;
  m: Method;
  wallet: Wallet;
  onSent: () => void;
}) {
  const { rpc } = useNode();
  const [args, setArgs] = useState<string[]>(m.params.map(() => ''));
  const [input, setInput] = useState('');
  const [gas, setGas] = useState('');
  const [busy, setBusy] = useState<'query' | 'send' | null>(null);
  const [outcome, setOutcome] = useState<Outcome | null>(null);
  const [error, setError] = useState<string | null>(null);
  const hosted = app.hosted;

  const run = async (via: 'query' | 'send') => {
    setError(null);
    const bad = checkArgs(m, args);
    if (bad !== null) {
      setError(bad);
      return;
    }
    const list = args.map((a) => a.trim());
    const query = () =>
      rpc.call('app_query', [
        {
          app: app.app,
          method: m.name,
          args: list,
          ...(input !== '' ? { inputText: input } : {}),
          ...(wallet.key ? { from: wallet.key.address } : {}),
        },
      ]);
    setBusy(via);
    try {
      if (via === 'query') {
        const r = await query();
        setOutcome({ ...r, via: 'query', logs: r.logs });
        return;
      }
      if (wallet.key === null) throw new Error(`this browser's account is not available: ${wallet.error}`);
      const g = gas.trim();
      let budget: bigint;
      if (g === '') {
        // Auto: a free dry run sizes the budget (a call pays its budget in full), and a call that
        // would halt is not paid for.
        const dry = await query();
        if (dry.halt !== 'ok') {
          setOutcome({ ...dry, via: 'query', logs: dry.logs });
          throw new Error(
            `a dry run of ${m.name} halted (${HALT_TEXT[dry.halt] ?? dry.halt}${dry.message ? `: ${dry.message}` : ''}), so it was not sent; give a gas budget to send it anyway`,
          );
        }
        budget = autoBudget(BigInt(dry.gasUsed));
      } else {
        if (!/^[0-9]{1,10}$/.test(g) || BigInt(g) === 0n)
          throw new Error('the gas budget is a whole number above 0 (or empty: sized by a dry run)');
        budget = BigInt(g);
      }
      const d = appTx.call({
        app: app.app,
        method: m.name,
        args: list,
        gas: budget,
        input: new TextEncoder().encode(input),
      });
      const r = await sendTx(rpc, wallet.key, d);
      setOutcome({ ...outcomeOfReceipt(r), budget });
      onSent();
    } catch (err) {
      setError(errorText(err));
    } finally {
      setBusy(null);
    }
  };

  return (
    <form
      class="method"
      data-testid={`method-${m.name}`}
      onSubmit={(e) => {
        e.preventDefault();
        void run('query');
      }}
    >
      <h3 class="method-name">
        <code>
          {m.name}({m.params.join(', ')})
        </code>
      </h3>
      <div class="method-fields">
        {m.params.map((p, i) => (
          <label key={i}>
            <span class="field-label">
              arg {i + 1} <span class="muted">({p})</span>
            </span>
            <input
              name={`arg${i}`}
              inputMode="numeric"
              value={args[i]}
              placeholder="0"
              onInput={(e) => {
                const next = [...args];
                next[i] = (e.target as HTMLInputElement).value;
                setArgs(next);
              }}
            />
          </label>
        ))}
        <label class="wide">
          <span class="field-label">
            input text <span class="muted">(optional)</span>
          </span>
          <input
            name="input"
            value={input}
            onInput={(e) => setInput((e.target as HTMLInputElement).value)}
            autocomplete="off"
          />
        </label>
        <label>
          <span class="field-label">
            gas budget <span class="muted">(Send pays it in full)</span>
          </span>
          <input
            name="gas"
            inputMode="numeric"
            placeholder="auto: 2 × a dry run"
            value={gas}
            onInput={(e) => setGas((e.target as HTMLInputElement).value)}
          />
        </label>
      </div>
      <div class="method-actions">
        <button type="submit" class="secondary" data-testid="query" disabled={busy !== null || hosted}>
          {busy === 'query' ? 'Querying…' : 'Query'}
        </button>
        <button
          type="button"
          data-testid="send"
          disabled={busy !== null || hosted || wallet.key === null}
          onClick={() => void run('send')}
        >
          {busy === 'send' ? 'Sending… (waiting for the commit)' : 'Send'}
        </button>
        <span class="muted small">
          Query is read-only and free; Send signs an app-call tx with this browser's key.
        </span>
      </div>
      {error && <ErrorBox error={error} />}
      {outcome && <OutcomeView o={outcome} />}
    </form>
  );
}

export function AppPage({ id }: { id: string }) {
  const { rpc, status } = useNode();
  const w = useWalletState(rpc);
  const v = useReload(async () => {
    if (!APP_ID_RE.test(id)) throw new Error('an app id is 0x and 64 hex digits');
    const a = await rpc.call('app_get', [id]);
    if (a === null) throw new Error(`no app ${id} on this chain`);
    return a;
  }, [rpc, id, w.version]);
  const title = installedApps(status.chainId)[id.toLowerCase()]?.title;
  return (
    <section>
      <h1>
        {title ?? 'App'} <span class="mono nav-pair">{shortHash(id)}</span>
      </h1>
      <p>
        <a href={href('/apps')}>← App store</a>
      </p>
      <Show v={v} what="the app">
        {(a) => (
          <>
            <Fields
              rows={[
                ['App id', <Mono key="id">{a.app}</Mono>],
                ['Code hash', <Mono key="c">{a.codeHash}</Mono>],
                ['Owner', <AccountLink key="o" address={a.owner} short={false} />],
                ['Created at', <BlockLink key="b" height={a.createdAt} />],
                [
                  'App account',
                  <span key="a">
                    <AccountLink address={a.account} />{' '}
                    <span class="muted">balance {groupDigits(a.balance)}</span>
                  </span>,
                ],
                ['State', bytes(a.stateBytes)],
                ['Runs', a.hosted ? 'off chain (hosted by nodes)' : 'on chain'],
              ]}
            />
            {a.hosted && (
              <p class="hint">
                This instance is hosted off chain: it takes no txs and no queries here. Call it through a node
                that serves it: <code>vos app call {a.app} METHOD --via NODE</code>.
              </p>
            )}
            <WalletCard wallet={w.wallet} acct={w.acct} />
            <h2>Methods</h2>
            {a.methods.length === 0 ? (
              <p class="muted">This app exports no method.</p>
            ) : (
              <div class="methods" data-testid="methods">
                {a.methods.map((m) => (
                  <MethodForm key={m.name} app={a} m={m} wallet={w.wallet} onSent={w.bump} />
                ))}
              </div>
            )}
          </>
        )}
      </Show>
    </section>
  );
}
