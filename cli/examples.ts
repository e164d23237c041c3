/**
 * Examples in every command's --help (after the options), by command path. applyExamples fails when
 * a runnable command has none, so a new command cannot ship without them (test/unit/cli/help.test.ts).
 */
import type { Command } from 'commander';

const H = '--home .devnet/node1';

export const EXAMPLES: Readonly<Record<string, readonly string[]>> = {
  init: ['vos init --home ~/.vos', 'vos init --home ./n2 --genesis genesis.json --rpc-port 8555'],
  start: [
    'vos start --home ~/.vos',
    'vos start --home ./n2 --join /ip4/127.0.0.1/tcp/8546/p2p/12D3Koo... --log-format pretty',
  ],
  devnet: [
    'vos devnet --validators 4 --dir .devnet',
    'vos devnet --validators 2 --dir /tmp/dn --base-port 9000',
  ],
  'keys new': ['vos keys new alice --home ~/.vos'],
  'keys show': ['vos keys show --home ~/.vos', 'vos keys show alice --home ~/.vos --json'],
  'keys list': ['vos keys list --home ~/.vos'],
  'tx transfer': [
    `vos tx transfer --to vos1... --amount 1000 ${H}`,
    `vos tx transfer --to 0xab12... --amount 5 --json ${H}`,
  ],
  'stake add': [`vos stake add 1000000 ${H}`],
  'stake remove': [`vos stake remove 500000 ${H}`],
  'stake show': ['vos stake show', 'vos stake show vos1... --json'],
  'name register': [`vos name register alice ${H}`, `vos name register alice --json ${H}`],
  'name resolve': ['vos name resolve alice', 'vos name resolve alice --verify --json'],
  'name update': [
    `vos name update alice --a 192.0.2.7 --txt "hello" ${H}`,
    `vos name update alice --content bafkrei... --tlsa "3 1 1 <sha256 hex>" ${H}`,
  ],
  'name renew': [`vos name renew alice ${H}`],
  'name cancel-transfer': [`vos name cancel-transfer alice ${H}`],
  'name release': [`vos name release alice ${H}`],
  'name transfer': [`vos name transfer alice --to 0x<public key of the new owner> ${H}`],
  'name reverse': ['vos name reverse vos1...'],
  'name pin': ['vos name pin alice --trusted-validators validators.json'],
  'store put': [`vos store put photo.jpg ${H}`, `vos store put backup.tar --distributed --json ${H}`],
  'store get': ['vos store get bafkrei... -o photo.jpg', 'vos store get 0x<distributed id> -o backup.tar'],
  'store stat': ['vos store stat bafkrei... --json'],
  'store delete': [`vos store delete 0x<distributed id> ${H}`],
  'store providers': ['vos store providers --json'],
  publish: [
    `vos publish notes.md --title "My notes" --tags notes,vos ${H}`,
    `vos publish app.wasm --title Chess --kind executable ${H}`,
  ],
  'publish update': [`vos publish update 0x<publish id> --title "New title" ${H}`],
  'publish retract': [`vos publish retract 0x<publish id> ${H}`],
  fetch: ['vos fetch bafkrei... -o notes.md'],
  search: ['vos search chess', 'vos search "holiday photos" --kind image --json'],
  'msg send': [`vos msg send bob "hello" ${H}`, `vos msg send vos1... "see you at 5" ${H}`],
  'msg listen': [`vos msg listen ${H}`, `vos msg listen --json ${H}`],
  'msg history': [`vos msg history bob --limit 20 ${H}`],
  'msg attachment': [`vos msg attachment 0x<message id> 0 -o picture.png ${H}`],
  chat: [`vos chat bob ${H}`],
  'app deploy': [
    `vos app deploy apps/build/counter.wasm ${H}`,
    `vos app deploy apps/build/courier.wasm --hosted --json ${H}`,
  ],
  'app instantiate': [`vos app instantiate 0x<code hash> ${H}`],
  'app call': [
    `vos app call 0x<app> increment ${H}`,
    `vos app call 0x<app> sign --input "hi" --via node0 ${H}`,
  ],
  'app query': ['vos app query 0x<app> get', 'vos app query 0x<app> list 0 10 --json'],
  'app list': ['vos app list', 'vos app list --owner vos1... --json'],
  'app show': ['vos app show 0x<app>'],
  'app serve': [`vos app serve 0x<app> ${H}`],
  'app install': [`vos app install 0x<publish id> ${H}`],
  status: ['vos status', 'vos status --rpc http://127.0.0.1:8555 --json'],
};

/** The path of a command below the root ("app deploy"). */
function pathOf(c: Command): string {
  const names: string[] = [];
  for (let x: Command | null = c; x?.parent != null; x = x.parent) names.unshift(x.name());
  return names.join(' ');
}

/** Every command that runs something (a leaf, or a group with its own action like `publish`). */
export function runnableCommands(root: Command): Command[] {
  const out: Command[] = [];
  const walk = (c: Command) => {
    const own = (c as unknown as { _actionHandler: unknown })._actionHandler != null;
    if (c !== root && (c.commands.length === 0 || own)) out.push(c);
    for (const s of c.commands) walk(s);
  };
  walk(root);
  return out;
}

export function applyExamples(root: Command): void {
  for (const c of runnableCommands(root)) {
    const path = pathOf(c);
    const ex = EXAMPLES[path];
    if (ex === undefined) throw new Error(`vos ${path} has no examples in cli/examples.ts`);
    c.addHelpText('after', `\nExamples:\n${ex.map((e) => `  $ ${e}`).join('\n')}\n`);
  }
}
