/**
 * fast-check parameters for every property test: a printed seed (reproduce with VOS_SEED=<seed>) and a
 * fixed number of runs in `npm test`, many more under `npm run test:soak` (VOS_SOAK=1).
 */
import type { Parameters } from 'fast-check';

export function propertyParams<T>(name: string, runs: number, soakRuns = runs * 30): Parameters<T> {
  const seed =
    process.env.VOS_SEED !== undefined
      ? Number(process.env.VOS_SEED)
      : Date.now() ^ (Math.random() * 0x7fffffff);
  const numRuns = process.env.VOS_SOAK ? soakRuns : runs;
  process.stdout.write(`property "${name}": seed=${seed} runs=${numRuns}\n`);
  return { seed, numRuns };
}
