import { openRepository } from '../repository/index.js';
import { pushLedger } from '../git/remote.js';
import { sync as runSync } from '../sync/index.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { progressFor } from './progress.js';
import { resolve } from 'node:path';
import { writeFileAtomic } from '../files/write.js';
import { formatResults } from '../ledger/results.js';
import { plural } from '../model/words.js';
import { formatBytes } from '../site/format.js';
import type { StorageReport } from '../sync/storage.js';
import { printable } from '../model/text.js';
import { publishLines } from './report.js';
import { publishFailed } from '../sync/publish.js';

export const sync: Command = {
  name: 'sync',
  summary: 'carry out the plan: build, push and record in the ledger',
  usage: `envctl sync [--jobs N] [--push REMOTE] [--only NAMES --results FILE] [--prune]

Builds what envctl plan lists, bases first, with the builder envctl.yaml
names (buildah, or docker buildx); pushes to the registry (the embedded one
is started on 127.0.0.1 when needed; credentials from
ENVCTL_REGISTRY_USERNAME/PASSWORD or a buildah/docker login); reuses the
image of an identical earlier build instead of rebuilding; records every
result in one commit on the state branch. In a terminal each environment
has a live line; elsewhere one prefixed line per step. Full build logs are
kept under .envctl/logs/. A revision another sync on this machine is
already building is left to it; a newer revision stops an older one's
build (recorded as cancelled). Exit 1 when a build failed (the previous
active revision stays active; other environments still build).
RUN steps run in an OCI container (rootless when envctl is not root); each
build reads and writes its layer cache in the registry (envctl.yaml cache).
A base image the registry lacks holds back the builds on it, recorded as
nothing, and exits 1 naming what makes it; the embedded registry's default
base is made on the spot, as envctl base does. With publish: in
envctl.yaml, each revision that became active is then published to the
hosted product (as envctl publish does; not with --results); a failed
publish exits 1 and is tried again by the next sync.
  --jobs N        build up to N independent groups at once (default 1)
  --push REMOTE   push the state branch to REMOTE afterwards; if another sync
                  pushed first, its records are merged in and the push retried
  --only NAMES    build only the plan groups holding these environments
                  (comma-separated; a CI matrix job's group from plan --matrix)
  --results FILE  write the results to FILE instead of the ledger, for a
                  final job to record them all at once (envctl record)
  --prune         remove local images once pushed, and the pulled layer cache
                  at the end (the default when CI is set: runners have little disk)
  --json          print the results as data on stdout (progress goes to stderr)`,
  options: { ...COMMON, jobs: { type: 'string', short: 'j' }, push: { type: 'string' }, only: { type: 'string' }, results: { type: 'string' }, json: { type: 'boolean' }, prune: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('sync takes no arguments');
    const root = repoDir(args, io);
    const repo = await openRepository(root, io.env);
    const jobs = args.values.jobs === undefined ? 1 : Number(args.values.jobs);
    if (!Number.isInteger(jobs) || jobs < 1) throw new UsageError('--jobs takes a whole number of 1 or more');
    const results = typeof args.values.results === 'string' ? resolve(io.cwd, args.values.results) : undefined;
    if (results && args.values.push !== undefined) throw new UsageError('--results leaves the ledger alone; push after envctl record');
    const only = typeof args.values.only === 'string' ? args.values.only.split(',').map((n) => n.trim()).filter(Boolean) : undefined;
    const json = args.values.json === true;
    const progress = progressFor(json ? { ...io, out: io.err, terminal: undefined } : io);
    // Builder, registry and git messages and the names in them are values: one line each.
    const prune = args.values.prune === true || isCi(io.env);
    const result = await runSync(root, repo.config, {
      jobs, progress: progress.event, prune, env: io.env, log: (line) => io.err(`envctl sync: ${printable(line)}`), ...(only ? { only } : {}), ...(results ? { record: false } : {}),
    }).finally(progress.end);
    for (const w of result.warnings) io.err(`envctl sync: warning: ${printable(w)}`);
    for (const m of result.missingImages) {
      io.err(`envctl sync: error: base image ${printable(m.image)} is not in its registry; not built: ${printable(m.environments.join(', '))}`);
      io.err(`  ${printable(m.hint)}`);
    }
    if (result.storage) io.err(`envctl sync: ${printable(storageLine(result.storage))}`);
    const missing = result.missingImages.length > 0;
    if (json) io.out(formatResults(result.head, result.builds).trimEnd());
    if (results) {
      await writeFileAtomic(results, formatResults(result.head, result.builds));
      io.err(`wrote ${plural(result.builds.length, 'result')} (${result.failed} failed) to ${printable(results)}`);
      return result.failed > 0 || missing ? 1 : 0;
    }
    if (result.records.length === 0 && result.left.length === 0 && !json && !missing) io.out('nothing to build: the ledger has every revision at the head');
    else if (result.records.length === 0) io.err(`nothing recorded: another sync is building ${printable(result.left.join(', '))}`);
    else io.err(`recorded ${plural(result.records.length, 'build')} (${result.failed} failed) in ${printable(repo.config.stateBranch)} ${result.ledgerCommit?.slice(0, 7)}`);
    for (const line of publishLines(result.published)) io.err(`envctl sync: ${line}`);
    if (typeof args.values.push === 'string' && (result.records.length > 0 || result.published?.ledgerCommit !== undefined)) {
      await pushLedger(root, repo.config.stateBranch, args.values.push);
      io.err(`pushed ${printable(repo.config.stateBranch)} to ${printable(args.values.push)}`);
    }
    return result.failed > 0 || missing || publishFailed(result.published) ? 1 : 0;
  },
};

/** CI=true (GitHub Actions, most CI services) or CI=1. */
const isCi = (env: NodeJS.ProcessEnv) => env.CI !== undefined && env.CI !== '' && env.CI !== '0' && env.CI.toLowerCase() !== 'false';

function storageLine(s: StorageReport): string {
  const used = s.usedBytes !== undefined ? `, ${formatBytes(s.usedBytes)} used${s.peakBytes !== undefined ? ` (at most ${formatBytes(s.peakBytes)} after a build)` : ''}` : '';
  const cleaned = [s.pruned ? 'pushed images pruned' : '', s.removedContainers > 0 ? `${plural(s.removedContainers, 'working container')} left by a killed sync removed` : ''].filter(Boolean);
  return `storage: ${s.driver} (${s.why})${used}${cleaned.length ? `; ${cleaned.join('; ')}` : ''}`;
}
