import { existsSync } from 'node:fs';
import { mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { Command } from 'commander';
import { PrivateKey } from '../../chain/keys.js';
import { encryptKey, plainKeyFile, readKeyFile, writeKeyFile } from '../../chain/keystore.js';
import { homePaths } from '../../node/config.js';
import { keyFileOf, keyPath, resolveHome } from '../context.js';
import { CliError, emit } from '../output.js';

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
      if (existsSync(path)) throw new CliError(`${path} already exists`, 1, 'KEY_EXISTS');
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
      emit(o, out, () => {
        const lines = [`${out.address}  (${path}${pass ? '' : ', NOT encrypted: set VOS_PASSPHRASE'})`];
        if (name !== undefined)
          lines.push(
            `  sign with it: vos tx transfer --from ${name} --home ${home} ...; fund it first: vos tx transfer --home ${home} --to ${out.address} --amount 1000000 (its txs must cover gas limit x price: 200,000 at the devnet minimum)`,
          );
        return lines.join('\n');
      });
    });
  keys
    .command('show')
    .description('show a key address and public key')
    .argument('[name]', 'key name (default: the node key)')
    .option('--home <dir>', 'node home')
    .option('--address', 'print only the address (for scripts: ADDR=$(vos keys show alice --address))')
    .option('--json', 'machine output')
    .action(async (name: string | undefined, o) => {
      const f = await readKeyFile(keyFileOf({ ...o, from: name }));
      if (o.address && !o.json) {
        process.stdout.write(`${f.address}\n`);
        return;
      }
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
