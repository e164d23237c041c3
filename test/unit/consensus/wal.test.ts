import { appendFile, mkdtemp, readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import { Wal } from '../../../consensus/wal.js';
import { utf8 } from '../../../util/bytes.js';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'vos-wal-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

const rec = (s: string) => utf8(s);
const text = (rs: Uint8Array[]) => rs.map((r) => Buffer.from(r).toString());

async function segmentFile(): Promise<string> {
  const names = (await readdir(dir)).filter((n) => n.endsWith('.log')).sort();
  return join(dir, names[names.length - 1]);
}

describe('consensus WAL', () => {
  it('replays the inputs of the height in progress', async () => {
    const wal = await Wal.open(dir);
    await wal.append(rec('a1'), { sync: false });
    await wal.endHeight(1);
    await wal.append(rec('b1'), { sync: true });
    await wal.append(rec('b2'), { sync: false });
    await wal.close();
    const again = await Wal.open(dir);
    expect(again.lastEndHeight).toBe(1);
    expect(text(await again.recordsOfCurrentHeight())).toEqual(['b1', 'b2']);
    await again.close();
  });

  it('truncates a torn tail at every byte offset of the last record and keeps the earlier ones', async () => {
    const wal = await Wal.open(dir);
    await wal.append(rec('first'), { sync: true });
    await wal.append(rec('second-record'), { sync: true });
    await wal.close();
    const file = await segmentFile();
    const full = await readFile(file);
    const lastStart = 8 + 'first'.length;
    for (let cut = lastStart + 1; cut < full.length; cut++) {
      await writeFile(file, full.subarray(0, cut));
      const w = await Wal.open(dir);
      expect(text(await w.recordsOfCurrentHeight())).toEqual(['first']);
      expect((await stat(file)).size).toBe(lastStart);
      // appending after the repair continues cleanly
      await w.append(rec('next'), { sync: true });
      expect(text(await w.recordsOfCurrentHeight())).toEqual(['first', 'next']);
      await w.close();
    }
  });

  it('drops a tail whose CRC does not match, and everything after a corrupt middle record', async () => {
    const wal = await Wal.open(dir);
    for (const s of ['r1', 'r2', 'r3']) await wal.append(rec(s), { sync: true });
    await wal.close();
    const file = await segmentFile();
    const buf = await readFile(file);
    buf[buf.length - 1] ^= 0xff; // corrupt r3's payload
    await writeFile(file, buf);
    let w = await Wal.open(dir);
    expect(text(await w.recordsOfCurrentHeight())).toEqual(['r1', 'r2']);
    await w.close();
    const buf2 = await readFile(file);
    buf2[8] ^= 0xff; // corrupt r1's payload: r2 is no longer trusted either
    await writeFile(file, buf2);
    w = await Wal.open(dir);
    expect(await w.recordsOfCurrentHeight()).toEqual([]);
    await w.close();
  });

  it('a crash between write and fsync (partial record, garbage length) is repaired on open', async () => {
    const wal = await Wal.open(dir);
    await wal.append(rec('durable'), { sync: true });
    await wal.close();
    const file = await segmentFile();
    await appendFile(file, Buffer.from([0x00, 0x00, 0x10, 0x00, 0xde, 0xad])); // header of a record never finished
    const w = await Wal.open(dir);
    expect(text(await w.recordsOfCurrentHeight())).toEqual(['durable']);
    await w.close();
    await appendFile(file, Buffer.from([0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0])); // absurd length
    const w2 = await Wal.open(dir);
    expect(text(await w2.recordsOfCurrentHeight())).toEqual(['durable']);
    await w2.close();
  });

  it('rejects an oversize record and keeps working', async () => {
    const wal = await Wal.open(dir);
    await expect(wal.append(new Uint8Array(33 * 1024 * 1024), { sync: false })).rejects.toThrow('WAL record');
    await wal.append(rec('ok'), { sync: true });
    expect(text(await wal.recordsOfCurrentHeight())).toEqual(['ok']);
    await wal.close();
  });

  it('an empty file (crash right after creating a segment) opens cleanly', async () => {
    const wal = await Wal.open(dir);
    await wal.close();
    await truncate(await segmentFile(), 0);
    const w = await Wal.open(dir);
    expect(await w.recordsOfCurrentHeight()).toEqual([]);
    await w.close();
  });
});
