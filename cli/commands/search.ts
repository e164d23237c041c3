/** `vos search QUERY [--kind K] [--mime M] [--owner ADDR] [--limit N] [--cursor C]` (`--json`: `{results, cursor}`). */
import type { Command } from 'commander';
import { rpcClient } from '../context.js';
import { CliError, emit } from '../output.js';

interface SearchOptions {
  rpc?: string;
  home?: string;
  json?: boolean;
  kind?: string;
  mime?: string;
  owner?: string;
  limit?: string;
  cursor?: string;
}

interface Hit {
  id: string;
  cid: string | null;
  title: string;
  kind: string;
  owner: string;
  score: number;
}

export function registerSearch(program: Command): void {
  program
    .command('search')
    .description('search published items and names (answered by the node from its index of the ledger)')
    .argument('<query...>')
    .option('--kind <kind>', 'text|image|audio|video|executable|other|name')
    .option('--mime <type>', 'mime type')
    .option('--owner <address>', 'publisher')
    .option('--limit <n>', 'results per page (1-100, default 20)')
    .option('--cursor <c>', 'the next page (the cursor a previous search printed)')
    .option('--rpc <url>', 'node JSON-RPC URL')
    .option('--home <dir>', 'node home')
    .option('--json', 'machine output')
    .action(async (words: string[], o: SearchOptions) => {
      const limit = o.limit === undefined ? undefined : Number(o.limit);
      if (limit !== undefined && (!Number.isInteger(limit) || limit < 1 || limit > 100))
        throw new CliError('--limit must be 1-100', 2, 'INVALID_ARGUMENT');
      const r = await (await rpcClient(o)).call<{ results: Hit[]; cursor: string | null }>('search_query', [
        { q: words.join(' '), kind: o.kind, mime: o.mime, owner: o.owner, limit, cursor: o.cursor },
      ]);
      emit(o, r, () =>
        [
          ...r.results.map(
            (h) => `${h.score.toFixed(2).padStart(6)}  ${h.kind.padEnd(10)} ${h.title}  ${h.cid ?? h.id}`,
          ),
          r.results.length === 0 ? 'no results' : '',
          r.cursor === null ? '' : `more: --cursor ${r.cursor}`,
        ]
          .filter((l) => l !== '')
          .join('\n'),
      );
    });
}
