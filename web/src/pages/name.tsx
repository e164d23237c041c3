/**
 * A name and its records, each marked verified only after this browser checked the answer as a light
 * client (light.ts): what the node says is shown either way, and marked "not verified" with the reason
 * when the check fails.
 */
import type { ComponentChildren } from 'preact';
import { useState } from 'preact/hooks';
import type { NameAnswerJSON } from '../../../services/naming/light.js';
import { shortHash, time } from '../format.js';
import { checkNameAnswer, forgetAnchor, type NameCheck } from '../light.js';
import { href, navigate } from '../router.js';
import type { Result } from '../rpc.js';
import { AccountLink, BlockLink, Mono, Show, useLoad, useNode } from '../ui.js';

export function NameSearch({ initial = '' }: { initial?: string }) {
  const [q, setQ] = useState(initial);
  return (
    <form
      class="inline"
      onSubmit={(e) => {
        e.preventDefault();
        const name = q.trim();
        if (name !== '') navigate(`/name/${encodeURIComponent(name)}`);
      }}
    >
      <label>
        Name{' '}
        <input
          name="name"
          value={q}
          onInput={(e) => setQ((e.target as HTMLInputElement).value)}
          placeholder="alice or alice.vos"
          autocomplete="off"
        />
      </label>{' '}
      <button type="submit">Resolve</button>
    </form>
  );
}

export function NameIndexPage() {
  return (
    <section>
      <h1>Names</h1>
      <p>
        A VOS name binds to a public key and records (addresses, TXT, key pins, content, app). This page asks
        the node for the name with a state proof and checks it in the browser against the header, its commit
        and the validator set before it marks anything verified.
      </p>
      <NameSearch />
    </section>
  );
}

function Badge({ ok }: { ok: boolean }) {
  return ok ? (
    <span class="badge good" title="checked by this browser against the chain">
      ✓ verified
    </span>
  ) : (
    <span class="badge bad" title="this browser could not check it: do not rely on it">
      ✗ not verified
    </span>
  );
}

type Row = { kind: string; value: ComponentChildren; key: string };

function rowsOf(a: Result<'name_resolve'>): Row[] {
  const rows: Row[] = [];
  rows.push({ kind: 'status', value: a.status, key: 'status' });
  if (a.owner)
    rows.push({ kind: 'owner', value: <AccountLink address={a.owner} short={false} />, key: 'owner' });
  if (a.ownerKey) rows.push({ kind: 'owner key', value: <Mono>{a.ownerKey}</Mono>, key: 'ownerKey' });
  if (a.expires !== null) rows.push({ kind: 'expires', value: <>height {a.expires}</>, key: 'expires' });
  const r = a.records;
  if (r) {
    if (r.encryptionKey)
      rows.push({ kind: 'encryption key', value: <Mono>{r.encryptionKey}</Mono>, key: 'enc' });
    for (const [i, e] of r.endpoints.entries())
      rows.push({
        kind: e.kind === 'ip4' ? 'A' : e.kind === 'ip6' ? 'AAAA' : 'multiaddr',
        value: (
          <>
            <Mono>{e.value}</Mono> <span class="muted">weight {e.weight}</span>
          </>
        ),
        key: `ep${i}`,
      });
    for (const [i, t] of r.txt.entries())
      rows.push({ kind: 'TXT', value: <Mono>{JSON.stringify(t)}</Mono>, key: `txt${i}` });
    for (const [i, t] of r.tlsa.entries())
      rows.push({
        kind: 'TLSA',
        value: (
          <Mono>
            {t.usage} {t.selector} {t.matchingType} {t.data.slice(2)}
          </Mono>
        ),
        key: `tlsa${i}`,
      });
    if (r.content) rows.push({ kind: 'content', value: <Mono>{r.content}</Mono>, key: 'content' });
    if (r.app) rows.push({ kind: 'app', value: <Mono>{r.app}</Mono>, key: 'app' });
    if (r.ttl) rows.push({ kind: 'TTL', value: `${r.ttl} s`, key: 'ttl' });
  }
  return rows;
}

function Verification({ check, answer }: { check: NameCheck; answer: Result<'name_resolve'> }) {
  if (check.verified) {
    const a = check.anchor;
    return (
      <div class="verification good" data-testid="verification" data-verified="true">
        <strong>Verified by this browser.</strong> The state proof of <Mono>name/rec/{answer.name}</Mono>{' '}
        leads to the state root of block <BlockLink height={answer.height} />, whose header is signed by
        validators holding {check.signedPower} of {check.totalPower} voting power; that validator set follows
        from the one this browser trusts (pinned at height {a.pinnedHeight} on {time(a.pinnedAt)}, now trusted
        up to height {a.state.height}).
      </div>
    );
  }
  return (
    <div class="verification bad" data-testid="verification" data-verified="false" role="alert">
      <strong>Not verified.</strong> This browser could not check the node's answer against the chain:{' '}
      {check.reason}. The records below are what the node says; do not rely on them.
    </div>
  );
}

export function NamePage({ name }: { name: string }) {
  const { rpc, status } = useNode();
  const [again, setAgain] = useState(0);
  const v = useLoad(async () => {
    const answer = await rpc.call('name_resolve', [name, { proof: true }]);
    const check = await checkNameAnswer(rpc, status.chainId, answer as unknown as NameAnswerJSON);
    return { answer, check };
  }, [rpc, name, again]);
  return (
    <section>
      <h1>
        Name <span class="mono">{name}</span>
      </h1>
      <NameSearch initial={name} />
      <Show v={v} what={`the name ${name}`}>
        {({ answer, check }) => {
          const ok = check.verified;
          const rows = rowsOf(answer);
          return (
            <>
              <Verification check={check} answer={answer} />
              {answer.display !== answer.name && (
                <p>
                  Shown as <strong>{answer.display}</strong> (canonical <Mono>{answer.name}</Mono>).
                </p>
              )}
              {answer.status === 'free' && (
                <p data-testid="free">
                  <strong>{answer.name}</strong> is free at height {answer.height}
                  {ok ? ' (the proof of absence verified).' : '.'}
                </p>
              )}
              <table class="list" data-testid="records">
                <thead>
                  <tr>
                    <th scope="col">Record</th>
                    <th scope="col">Value</th>
                    <th scope="col">Checked</th>
                  </tr>
                </thead>
                <tbody>
                  {rows.map((r) => (
                    <tr key={r.key} data-testid="record" data-verified={String(ok)}>
                      <th scope="row">{r.kind}</th>
                      <td>{r.value}</td>
                      <td>
                        <Badge ok={ok} />
                      </td>
                    </tr>
                  ))}
                </tbody>
              </table>
              <p class="muted small">
                Answered from height {answer.height}
                {answer.proof ? `, header ${shortHash(answer.proof.header.hash)}` : ''}.{' '}
                <a href={href(`/name/${encodeURIComponent(name)}`)} onClick={() => setAgain((x) => x + 1)}>
                  Check again
                </a>
                {check.anchor && (
                  <>
                    {' · '}
                    <button
                      type="button"
                      class="link"
                      onClick={() => {
                        forgetAnchor(status.chainId);
                        setAgain((x) => x + 1);
                      }}
                    >
                      Forget the trusted validator set
                    </button>
                  </>
                )}
              </p>
            </>
          );
        }}
      </Show>
    </section>
  );
}
