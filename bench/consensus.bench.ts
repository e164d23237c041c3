/**
 * Consensus engine speed in the deterministic simulator (consensus/sim): N real engines in one thread,
 * every message delayed exactly 1 ms of simulated time, no faults. Reports heights/s of wall time and
 * the commit latency in message delays (simulated ms per height / 1 ms). Baseline in the same run:
 * the Ed25519 verify rate of one core, turned into the heights/s the simulated processes could reach
 * if each had to verify every vote it counts (n processes x 2n votes per height) - the sim skips
 * signatures, the node does not.
 */
import { simulate } from '../consensus/sim/simulation.js';
import { measureVerifyRates } from './verify.bench.js';

function runOnce(n: number, heights: number) {
  const t0 = performance.now();
  const r = simulate({
    seed: 1,
    powers: Array.from({ length: n }, () => 1n),
    behaviours: Array.from({ length: n }, () => 'honest'),
    heights,
    network: { minDelayMs: 1, maxDelayMs: 1, dropRate: 0, dupRate: 0 },
    // Gossip re-sends are for lossy networks; here they would only add work.
    gossipMs: 60_000,
    maxTimeMs: 600_000,
  });
  const seconds = (performance.now() - t0) / 1000;
  const decided = Math.min(...r.honest.map((name) => r.decisions.get(name)?.length ?? 0));
  if (decided < heights)
    throw new Error(`only ${decided} of ${heights} heights decided with ${n} validators`);
  return {
    heightsPerSec: Math.round(decided / seconds),
    commitLatencyMessageDelays: Number((r.timeMs / decided).toFixed(2)),
    maxRound: Math.max(...r.maxRoundByHeight.values()),
  };
}

export async function run() {
  const { singleCoreVerifyPerSec } = await measureVerifyRates(10_000);
  const four = runOnce(4, 2000);
  const hundred = runOnce(100, 30);
  const verifyBound = (n: number) => Math.round(singleCoreVerifyPerSec / (n * 2 * n));
  return {
    validators4HeightsPerSec: four.heightsPerSec,
    validators4CommitLatencyMessageDelays: four.commitLatencyMessageDelays,
    validators100HeightsPerSec: hundred.heightsPerSec,
    validators100CommitLatencyMessageDelays: hundred.commitLatencyMessageDelays,
    baselineSingleCoreVerifyPerSec: singleCoreVerifyPerSec,
    verifyBoundHeightsPerSec4: verifyBound(4),
    verifyBoundHeightsPerSec100: verifyBound(100),
    note: 'one thread runs all n engines; latency 3 = propose, prevote, precommit',
  };
}
