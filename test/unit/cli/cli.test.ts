/** CLI pieces that need no node: --rpc parsing, the error report, the devnet status line, --from everywhere. */
import { describe, expect, it } from '@jest/globals';
import { CommanderError } from 'commander';
import { Address } from '../../../chain/address.js';
import { statusLine } from '../../../cli/commands/devnet.js';
import { keyPath, normalizeRpcUrl } from '../../../cli/context.js';
import { buildProgram } from '../../../cli/index.js';
import { CliError, errorReport } from '../../../cli/output.js';
import { RpcResponseError } from '../../../rpc/errors.js';

describe('--rpc', () => {
  it('takes a URL, HOST:PORT without a scheme, or a bare port', () => {
    expect(normalizeRpcUrl('http://127.0.0.1:8545')).toBe('http://127.0.0.1:8545');
    expect(normalizeRpcUrl('127.0.0.1:8545')).toBe('http://127.0.0.1:8545');
    expect(normalizeRpcUrl('localhost:8555')).toBe('http://localhost:8555');
    expect(normalizeRpcUrl('8545')).toBe('http://127.0.0.1:8545');
    expect(normalizeRpcUrl('https://node.example:443/rpc')).toBe('https://node.example/rpc');
  });
  it('refuses what is not an http URL', () => {
    expect(() => normalizeRpcUrl('ws://127.0.0.1:8545')).toThrow('--rpc wants an http:// or https:// URL');
    expect(() => normalizeRpcUrl('http://[bad')).toThrow('--rpc wants a URL like http://127.0.0.1:8545');
  });
});

describe('error report', () => {
  it('has a stable code for each kind of error', () => {
    expect(errorReport(new CliError('x', 2))).toEqual({ code: 'INVALID_ARGUMENT', message: 'x' });
    let addrErr: unknown;
    try {
      Address.fromString('vos1');
    } catch (e) {
      addrErr = e;
    }
    expect(errorReport(addrErr).code).toBe('INVALID_ADDRESS');
    expect(errorReport(new RpcResponseError(-32010, 'nonce too low', { code: 'TX_NONCE_TOO_LOW' }))).toEqual({
      code: 'TX_NONCE_TOO_LOW',
      message: 'nonce too low',
      rpcCode: -32010,
    });
    expect(
      errorReport(new CommanderError(1, 'commander.unknownOption', "error: unknown option '--x'")),
    ).toEqual({ code: 'USAGE', message: "unknown option '--x'" });
    const unreachable = errorReport(new Error('cannot reach node at http://127.0.0.1:1: ECONNREFUSED'));
    expect(unreachable.code).toBe('NODE_UNREACHABLE');
    expect(unreachable.message).toContain('npm start');
    expect(errorReport(new Error('two\n  lines')).message).toBe('two lines');
  });
});

describe('devnet status line', () => {
  const at = new Date(2026, 0, 1, 12, 0, 5);
  it('one height when all nodes agree, per node otherwise; - for a node down, ? for no answer', () => {
    const up = (name: string, height: number, peers: number) => ({
      name,
      height,
      peers,
      state: 'up' as const,
    });
    expect(statusLine([up('node0', 12, 3), up('node1', 12, 3)], at)).toBe('12:00:05  height 12  peers 3/3');
    expect(
      statusLine(
        [
          up('node0', 12, 2),
          { name: 'node1', height: null, peers: null, state: 'down' },
          { name: 'node2', height: null, peers: null, state: 'no answer' },
        ],
        at,
      ),
    ).toBe('12:00:05  height 12/-/?  peers 2/-/?');
  });
});

describe('--from', () => {
  it('every signing command takes --from NAME', () => {
    const signing = [
      'tx transfer',
      'stake add',
      'stake remove',
      'name register',
      'name update',
      'name renew',
      'name transfer',
      'name cancel-transfer',
      'name release',
      'publish update',
      'publish retract',
      'app deploy',
      'app instantiate',
      'app call',
      'app install',
    ];
    const program = buildProgram();
    const found: string[] = [];
    for (const group of program.commands)
      for (const cmd of group.commands) {
        const longs = cmd.options.map((o) => o.long);
        // A command that signs is one with --gas-price.
        if (longs.includes('--gas-price')) {
          found.push(`${group.name()} ${cmd.name()}`);
          expect(longs).toContain('--from');
        }
      }
    expect(found.sort()).toEqual(signing.sort());
  });
  it('names a key of the home; "node" is the node key', () => {
    expect(keyPath('/h', 'alice')).toBe('/h/keys/alice.json');
    expect(keyPath('/h', 'node')).toBe('/h/key.json');
    expect(keyPath('/h')).toBe('/h/key.json');
    expect(() => keyPath('/h', '../x')).toThrow('invalid key name');
  });
});
