/**
 * The review of the working tree (a pull request's checkout) against a
 * target branch: the target's environments and revisions read from git,
 * the change's from the work tree and validated as `envctl validate
 * --against <target>` would, and the ledger for reuse.
 */
import { checkEnvironments } from '../check/index.js';
import { readLedger } from '../git/ledger.js';
import { entriesAt, openObjects, readEntryFiles, resolveCommit } from '../git/history.js';
import { loadEnvironments, type LoadedEnvironment } from '../load/environments.js';
import { attachSharedAt } from '../git/shared-context.js';
import { notFound } from '../model/errors.js';
import type { SourceFile } from '../model/tree.js';
import { reviewChange, type Review } from '../plan/review.js';
import { openRepository, validateRepository } from './index.js';
import { baseImageLookups } from './plan.js';
import { updateRevisions } from '../store/revision-index.js';

export interface ReviewOptions {
  /** The branch the change merges into: a branch, remote branch or commit. */
  target: string;
  /** Do not ask registries (layer counts and base digests). */
  offline?: boolean;
  /** The commit the plan is for (a pull request's head); default the work tree's HEAD. */
  head?: string;
}

export async function reviewRepository(root: string, opts: ReviewOptions): Promise<Review> {
  const repo = await openRepository(root);
  const { config } = repo;
  const commit = await resolveCommit(root, opts.target);
  if (!commit) throw notFound('ref-unknown', `no branch or commit "${opts.target}"`, { data: { option: 'base', ref: opts.target }, hint: `in CI, fetch it first: git fetch origin ${opts.target}` });

  const files: SourceFile[] = [];
  const store = openObjects(root);
  let targetLoaded: LoadedEnvironment[];
  try {
    for (const [name, entry] of entriesAt({ dir: root, folder: config.environmentsDir }, commit, undefined, store)) {
      files.push(...(await readEntryFiles({ dir: root, folder: config.environmentsDir }, name, entry, { store })));
    }
    // The target's shared folders too: a change to one shows as a changed key of the environments naming it.
    targetLoaded = attachSharedAt(store, commit, loadEnvironments({ files, problems: [] }, config.environmentsDir).environments, config.environmentsDir);
  } finally {
    store.close();
  }
  const [validation, log, state] = await Promise.all([
    validateRepository(repo, { against: opts.target, ...(opts.offline ? { offline: true } : {}) }),
    updateRevisions(root, config, opts.target),
    readLedger(root, config.stateBranch),
  ]);
  // Offline, nothing is asked and images are keyed by their tags, as the option says; online, images whose
  // registry could not be asked have no content key (see baseImageLookups).
  // The head the comment is for: `comment` refuses to post it once the pull request has moved on.
  const head = opts.head ?? await resolveCommit(root, 'HEAD');
  const images = opts.offline ? { digests: new Map<string, string>(), unknown: new Map<string, string>() } : await baseImageLookups(root, config, validation.environments);
  return reviewChange({
    config,
    target: {
      label: opts.target,
      environments: checkEnvironments(targetLoaded, { config }).environments,
      texts: new Map(targetLoaded.map((e) => [e.name, e.text])),
      revisions: await log.read(),
    },
    change: {
      label: 'this change',
      environments: validation.environments,
      texts: new Map((await repo.sources()).loaded.map((e) => [e.name, e.text])),
      problems: validation.problems,
    },
    ledger: state.ledger,
    imageDigests: images.digests,
    unknownImages: new Set(images.unknown.keys()),
    consumers: validation.consumers,
    ...(head ? { head } : {}),
  });
}
