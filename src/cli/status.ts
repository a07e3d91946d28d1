import { outcomeLabel } from '../ledger/model.js';
import { environmentStatus } from '../repository/status.js';
import { openRepository } from '../repository/index.js';
import { productStates, productStateText } from '../repository/product.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { printable } from '../model/text.js';

export const status: Command = {
  name: 'status',
  summary: 'active revision, image and latest build of each environment',
  usage: `envctl status [name] [--json]

Per environment: the active revision (the newest whose build succeeded) with
its image and digest, and the latest revision with its build status, from
the ledger on the state branch (envctl.yaml: stateBranch); a build a sync
on this machine is running shows as queued or building. With publish: in
envctl.yaml, also the product's side: in sync, drift (another revision is
active in the product than the one envctl published), not published yet,
or unknown (the product could not be asked; ENVCTL_OFFLINE=1 does not ask).`,
  options: { ...COMMON, json: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 1) throw new UsageError('name at most one environment');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const name = args.positionals[0];
    const rows = await environmentStatus(root, repo.config, name);
    if (name !== undefined && rows.length === 0) throw new UsageError(`no environment "${name}" in history or ledger`);
    const product = io.env.ENVCTL_OFFLINE === '1' ? undefined : await productStates(root, repo.config, io.env, rows.map((r) => r.environment));
    if (args.values.json) {
      io.out(JSON.stringify(product ? rows.map((r) => ({ ...r, product: product.get(r.environment) })) : rows, null, 2));
      return 0;
    }
    const table = rows.map((r) => [
      r.environment,
      r.active ? String(r.active.revision) : '-',
      r.active?.digest ? `${r.active.image ?? ''}@${r.active.digest}` : '-',
      r.latest ? String(r.latest.revision) : 'deleted',
      r.inProgress && r.inProgress.revision === r.latest?.revision ? `${r.inProgress.status} (sync pid ${r.inProgress.pid})`
        : r.latestBuild ? outcomeLabel(r.latestBuild) : r.latest ? 'not built' : '-',
      ...(product ? [productStateText(product.get(r.environment) ?? { state: 'unlinked' })] : []),
    ].map(printable)); // names and images come from the ledger, which any pusher of the state branch writes
    const head = ['ENVIRONMENT', 'ACTIVE', 'IMAGE', 'LATEST', 'BUILD', ...(product ? ['PRODUCT'] : [])];
    const widths = head.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
    io.out([head, ...table].map((cells) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')).join('\n'));
    return 0;
  },
};
