/** A node's ports: checked before it opens anything, and a listener's EADDRINUSE named by its config key. */
import { createSocket, type Socket } from 'node:dgram';
import { createServer, type Server } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { PrivateKey } from '../../../chain/keys.js';
import { defaultConfig, homePaths } from '../../../node/config.js';
import { checkPortsFree, nodePorts, type PortUse, portErrorFrom } from '../../../node/ports.js';
import { createHost, listenAddrs } from '../../../p2p/host.js';

const closers: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of closers.splice(0)) await c();
});

async function takeTcp(): Promise<number> {
  const srv: Server = createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => srv.close(() => r())));
  return (srv.address() as { port: number }).port;
}

async function takeUdp(port = 0): Promise<number> {
  const sock: Socket = createSocket('udp4');
  await new Promise<void>((r) => sock.bind(port, '127.0.0.1', () => r()));
  closers.push(() => new Promise((r) => sock.close(() => r())));
  return sock.address().port;
}

const home = '/tmp/vos-ports-home';

function configWith(rpc: number, p2p: number) {
  const c = defaultConfig({ rpcPort: rpc, p2pPort: p2p });
  return c;
}

describe('checkPortsFree', () => {
  it('names the RPC port and its config key when it is taken', async () => {
    const port = await takeTcp();
    await expect(checkPortsFree(nodePorts(configWith(port, 0), home, { env: {} }))).rejects.toThrow(
      `port ${port} (rpc.port in ${homePaths(home).config}) is already in use`,
    );
  });

  it('names the P2P port when its TCP or its UDP (QUIC) side is taken', async () => {
    const tcp = await takeTcp();
    await expect(checkPortsFree(nodePorts(configWith(0, tcp), home, { env: {} }))).rejects.toThrow(
      `port ${tcp} (p2p.port in ${homePaths(home).config}) is already in use`,
    );
    const udp = await takeUdp();
    await expect(checkPortsFree(nodePorts(configWith(0, udp), home, { env: {} }))).rejects.toThrow(
      `port ${udp}/udp (p2p.port in ${homePaths(home).config}) is already in use`,
    );
  });

  it('names the environment variable when the port came from one', async () => {
    const port = await takeTcp();
    await expect(
      checkPortsFree(nodePorts(configWith(port, 0), home, { env: { VOS_RPC_PORT: String(port) } })),
    ).rejects.toThrow(`port ${port} (VOS_RPC_PORT in the environment) is already in use`);
  });

  it('refuses the same port for RPC and P2P', async () => {
    await expect(checkPortsFree(nodePorts(configWith(30999, 30999), home, { env: {} }))).rejects.toThrow(
      'port 30999 is configured twice',
    );
  });

  it('passes free ports, and skips port 0', async () => {
    const port = await takeTcp();
    closers.splice(0).forEach((c) => void c());
    await new Promise((r) => setTimeout(r, 50));
    await checkPortsFree(nodePorts(configWith(port, 0), home, { env: {} }));
    expect(nodePorts(configWith(0, 0), home, { env: {} })).toEqual([]);
  });
});

describe('portErrorFrom', () => {
  it("turns libp2p's listen failure on a taken TCP or UDP port into the port error", async () => {
    const tcp = await takeTcp();
    // The UDP side of that port number free, the TCP side taken; and the other way round.
    const udpOnly = await takeUdp();
    for (const [port, protocol] of [
      [tcp, 'tcp'],
      [udpOnly, 'udp'],
    ] as const) {
      const uses: PortUse[] = nodePorts(configWith(0, port), home, { env: {} });
      let err: unknown;
      try {
        const host = await createHost({
          key: PrivateKey.generate(),
          chainId: 'vos-test',
          listen: listenAddrs('127.0.0.1', port),
        });
        await host.stop();
      } catch (e) {
        err = e;
      }
      expect(err).toBeDefined();
      const mapped = portErrorFrom(err, uses);
      expect(mapped?.message).toBe(
        `port ${port}${protocol === 'udp' ? '/udp' : ''} (p2p.port in ${homePaths(home).config}) is already in use`,
      );
    }
  });

  it("turns the RPC server's listen error into the port error of rpc.port", async () => {
    const port = await takeTcp();
    const srv = createServer();
    const err = await new Promise<Error>((r) => {
      srv.once('error', r);
      srv.listen(port, '127.0.0.1');
    });
    expect(portErrorFrom(err, nodePorts(configWith(port, 0), home, { env: {} }))?.message).toBe(
      `port ${port} (rpc.port in ${homePaths(home).config}) is already in use`,
    );
  });

  it('leaves other errors alone', () => {
    expect(portErrorFrom(new Error('Database failed to open'), [])).toBeUndefined();
  });
});
