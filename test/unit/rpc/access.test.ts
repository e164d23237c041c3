import { describe, expect, it } from '@jest/globals';
import {
  type AccessPolicy,
  checkOrigin,
  hostnameOf,
  isHostAllowed,
  normaliseOrigin,
} from '../../../rpc/access.js';

const policy: AccessPolicy = {
  hosts: ['node.example'],
  corsOrigins: ['https://app.example'],
  listenHost: '127.0.0.1',
};

describe('RPC access policy', () => {
  it('parses Host headers: name, port, IPv6 in brackets, trailing dot; refuses garbage', () => {
    expect(hostnameOf('LocalHost:8545')).toBe('localhost');
    expect(hostnameOf('[::1]:8545')).toBe('::1');
    expect(hostnameOf('node.example.')).toBe('node.example');
    for (const bad of ['', 'a b', 'x@127.0.0.1', 'http://x', '127.0.0.1:port', 'a/b'])
      expect(hostnameOf(bad)).toBeNull();
  });

  it('allows IPs, localhost, the listen host and configured names; "*" allows any', () => {
    for (const h of ['127.0.0.1:1', '[::1]', '192.168.1.20', 'localhost:80', 'node.example:8545'])
      expect([h, isHostAllowed(h, policy)]).toEqual([h, true]);
    for (const h of ['attacker.example', 'sub.node.example', 'localhost.attacker.example', undefined])
      expect([h, isHostAllowed(h, policy)]).toEqual([h, false]);
    expect(isHostAllowed('node.lan:8545', { ...policy, listenHost: 'node.lan' })).toBe(true);
    expect(isHostAllowed('attacker.example', { ...policy, hosts: ['*'] })).toBe(true);
  });

  it('origins: none, same-origin, configured, refused; "*" allows any', () => {
    expect(checkOrigin(undefined, 'x', policy)).toBe('none');
    expect(checkOrigin('http://127.0.0.1:8545', '127.0.0.1:8545', policy)).toBe('same-origin');
    expect(checkOrigin('http://127.0.0.1:8546', '127.0.0.1:8545', policy)).toBe('refused');
    expect(checkOrigin('https://app.example', '127.0.0.1:8545', policy)).toBe('allowed');
    expect(checkOrigin('https://app.example:444', '127.0.0.1:8545', policy)).toBe('refused');
    expect(checkOrigin('null', '127.0.0.1:8545', policy)).toBe('refused');
    expect(checkOrigin('https://evil.example', '127.0.0.1', { ...policy, corsOrigins: ['*'] })).toBe(
      'allowed',
    );
    expect(normaliseOrigin('https://App.example:443/')).toBe('https://app.example');
    expect(normaliseOrigin('https://app.example/path')).toBeNull();
    expect(normaliseOrigin('ftp://app.example')).toBeNull();
  });
});
