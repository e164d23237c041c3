import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { PrivateKey } from '../../chain/keys.js';
import { encryptKey, plainKeyFile, readKeyFile, writeKeyFile } from '../../chain/keystore.js';
import { homePaths } from '../../node/config.js';
import { resolveHome } from '../context.js';
import { CliError, emit } from '../output.js';

const NAME_RE = /^[a-zA-Z0-9_-]{1,64}$/;

/** The node key is <home>/key.json; extra named keys live in <home>/keys/<name>.json. */
function keyPath(home: string, name?: string): string {
  if (name === undefined) return homePaths(home).key;
  if (!NAME_RE.test(name)) throw new CliError(`invalid key name "${name}" (letters, digits, - and _)`, 2);
  return join(homePaths(home).home, 'keys', `${name}.json`);
}

export function registerKeys(program: Command): void {
  const keys = program.command('keys').description('manage signing keys');
  keys
    .command('new')
    .description('create a key (encrypted with VOS_PASSPHRASE when set)')
    .argument('[name]', 'key name (default: the node key <home>/key.json)')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (name: string | undefined, o) => {
      const home = resolveHome(o);
      const path = keyPath(home, name);
      if (existsSync(path)) throw new CliError(`${path} already exists`);
      await mkdir(join(path, '..'), { recursive: true });
      const key = PrivateKey.generate();
      const pass = process.env.VOS_PASSPHRASE;
      await writeKeyFile(
        path,
        pass ? await encryptKey(key, pass) : plainKeyFile(key, 'created without VOS_PASSPHRASE'),
      );
      const out = {
        name: name ?? 'node',
        address: key.address.toString(),
        file: path,
        encrypted: Boolean(pass),
      };
      emit(o, out, `${out.address}  (${path}${pass ? '' : ', NOT encrypted: set VOS_PASSPHRASE'})`);
    });
  keys
    .command('show')
    .description('show a key address and public key')
    .argument('[name]', 'key name (default: the node key)')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (name: string | undefined, o) => {
      const f = await readKeyFile(keyPath(resolveHome(o), name));
      const out = {
        name: name ?? 'node',
        address: f.address,
        publicKey: f.publicKey,
        encrypted: f.crypto !== undefined,
      };
      emit(
        o,
        out,
        `${out.address}\n  public key ${out.publicKey}${out.encrypted ? '' : '\n  (plain key file)'}`,
      );
    });
  keys
    .command('list')
    .description('list the keys of a home')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (o) => {
      const home = resolveHome(o);
      const out: { name: string; address: string }[] = [];
      if (existsSync(keyPath(home)))
        out.push({ name: 'node', address: (await readKeyFile(keyPath(home))).address });
      const dir = join(homePaths(home).home, 'keys');
      if (existsSync(dir)) {
        for (const f of (await readdir(dir)).filter((x) => x.endsWith('.json')).sort()) {
          out.push({ name: f.slice(0, -5), address: (await readKeyFile(join(dir, f))).address });
        }
      }
      emit(
        o,
        { keys: out },
        out.length === 0
          ? `no keys in ${home}`
          : out.map((k) => `${k.name.padEnd(16)} ${k.address}`).join('\n'),
      );
    });
}
