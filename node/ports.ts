/**
 * The ports a node listens on, checked before anything is opened, so that a port in use is one clear
 * error naming the port and the config key it comes from (and not a libp2p stack trace or a hang).
 * The listeners themselves can still lose a race to another process: `portErrorFrom` turns their
 * EADDRINUSE into the same error.
 */
import { createSocket } from 'node:dgram';
import { createServer } from 'node:net';
import { VosError } from '../util/errors.js';
import { homePaths, type NodeConfig } from './config.js';

export interface PortUse {
  host: string;
  port: number;
  protocol: 'tcp' | 'udp';
  /** Where the port is configured, e.g. `rpc.port in /home/x/config.json` or `VOS_RPC_PORT`. */
  source: string;
  /** What listens on it. */
  purpose: string;
}

export type PortErrorCode = 'PORT_IN_USE' | 'PORT_UNAVAILABLE' | 'PORT_CONFLICT';
export class PortError extends VosError<{
  code: PortErrorCode;
  port: number;
  protocol: 'tcp' | 'udp';
  source: string;
}> {}

/** The ports of a node's config: RPC (TCP), P2P (TCP, and UDP for QUIC), DNS (UDP and TCP). Port 0 (ephemeral) is skipped. */
export function nodePorts(
  config: NodeConfig,
  home: string,
  opts: { p2p?: boolean; env?: NodeJS.ProcessEnv } = {},
): PortUse[] {
  const env = opts.env ?? process.env;
  const file = homePaths(home).config;
  const src = (key: string, envName: string) =>
    env[envName] !== undefined ? `${envName} in the environment` : `${key} in ${file}`;
  const out: PortUse[] = [
    {
      host: config.rpc.host,
      port: config.rpc.port,
      protocol: 'tcp',
      source: src('rpc.port', 'VOS_RPC_PORT'),
      purpose: 'JSON-RPC',
    },
  ];
  if (opts.p2p !== false && config.p2p.direct !== false) {
    const source = src('p2p.port', 'VOS_P2P_PORT');
    out.push(
      { host: config.p2p.host, port: config.p2p.port, protocol: 'tcp', source, purpose: 'P2P (TCP)' },
      { host: config.p2p.host, port: config.p2p.port, protocol: 'udp', source, purpose: 'P2P (QUIC)' },
    );
  }
  const dns = src('dns.port', 'VOS_DNS_PORT');
  out.push(
    {
      host: config.dns.host,
      port: config.dns.port,
      protocol: 'udp',
      source: dns,
      purpose: 'DNS gateway (UDP)',
    },
    {
      host: config.dns.host,
      port: config.dns.port,
      protocol: 'tcp',
      source: dns,
      purpose: 'DNS gateway (TCP)',
    },
  );
  return out.filter((p) => p.port !== 0);
}

/** Throws PortError for the first port that cannot be bound. */
export async function checkPortsFree(ports: PortUse[]): Promise<void> {
  for (const [i, p] of ports.entries()) {
    const twin = ports.slice(0, i).find((q) => q.port === p.port && q.protocol === p.protocol);
    if (twin !== undefined)
      throw new PortError(
        { code: 'PORT_CONFLICT', port: p.port, protocol: p.protocol, source: p.source },
        `port ${p.port} is configured twice: ${twin.source} (${twin.purpose}) and ${p.source} (${p.purpose})`,
      );
  }
  for (const p of ports) {
    const err = await (p.protocol === 'tcp' ? probeTcp(p.host, p.port) : probeUdp(p.host, p.port));
    if (err !== null) throw portError(p, err);
  }
}

export function portError(p: PortUse, err: NodeJS.ErrnoException): PortError {
  const where = `port ${p.port}${p.protocol === 'udp' ? '/udp' : ''} (${p.source})`;
  const ctx = { port: p.port, protocol: p.protocol, source: p.source };
  if (err.code === 'EADDRINUSE')
    return new PortError({ code: 'PORT_IN_USE', ...ctx }, `${where} is already in use`, { cause: err });
  if (err.code === 'EACCES')
    return new PortError(
      { code: 'PORT_UNAVAILABLE', ...ctx },
      `${where} cannot be used: permission denied (ports below 1024 need privileges)`,
      { cause: err },
    );
  if (err.code === 'EADDRNOTAVAIL')
    return new PortError(
      { code: 'PORT_UNAVAILABLE', ...ctx },
      `${where}: ${p.host} is not an address of this machine`,
      { cause: err },
    );
  return new PortError({ code: 'PORT_UNAVAILABLE', ...ctx }, `${where} cannot be used: ${err.message}`, {
    cause: err,
  });
}

/**
 * A listener's failure as a PortError for the port it names, or undefined if it is not one: Node's
 * listen errors (code EADDRINUSE, with `port`) and libp2p's "Some configured addresses failed to be
 * listened on: /ip4/127.0.0.1/udp/8546/quic-v1: Error: Address already in use (os error 98)".
 */
export function portErrorFrom(err: unknown, ports: PortUse[]): PortError | undefined {
  if (err instanceof PortError) return err;
  const e = err as NodeJS.ErrnoException & { port?: unknown };
  if (typeof e?.code === 'string' && typeof e.port === 'number' && errnoOf(e.code) !== undefined) {
    const use = ports.find((p) => p.port === e.port && p.protocol === 'tcp');
    return use === undefined ? undefined : portError(use, e);
  }
  const text = err instanceof Error ? `${err.message}\n${String((err.cause as Error)?.message ?? '')}` : '';
  for (const m of text.matchAll(/\/ip[46]\/[^/\s]+\/(tcp|udp)\/(\d{1,5})[^:\s]*: (?:Error: )?([^\n]*)/g)) {
    const code = errnoOf(m[3]);
    if (code === undefined) continue;
    const use = ports.find((p) => p.protocol === m[1] && p.port === Number(m[2]));
    if (use !== undefined) return portError(use, Object.assign(new Error(m[3]), { code }));
  }
  return undefined;
}

/** The errno code a listen failure's text stands for (Node's codes or the OS's words, e.g. from Rust). */
function errnoOf(text: string): string | undefined {
  if (/EADDRINUSE|address already in use|os error 98\b/i.test(text)) return 'EADDRINUSE';
  if (/EACCES|permission denied|os error 13\b/i.test(text)) return 'EACCES';
  if (/EADDRNOTAVAIL|cannot assign requested address|os error 99\b/i.test(text)) return 'EADDRNOTAVAIL';
  return undefined;
}

function probeTcp(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const srv = createServer();
    srv.once('error', (err) => resolve(err as NodeJS.ErrnoException));
    srv.listen({ host, port, exclusive: true }, () => srv.close(() => resolve(null)));
  });
}

function probeUdp(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  return new Promise((resolve) => {
    const sock = createSocket(host.includes(':') ? 'udp6' : 'udp4');
    sock.once('error', (err) => {
      sock.close();
      resolve(err as NodeJS.ErrnoException);
    });
    sock.bind({ address: host, port, exclusive: true }, () => sock.close(() => resolve(null)));
  });
}
