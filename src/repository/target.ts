/**
 * What `run-spec` and `run` are pointed at: an environment, or a project,
 * model or data set (which names an environment and a revision, and may
 * have a folder to mount and a default command). `kind/name` settles a
 * name that is both.
 */
import { CONSUMER_DIRS, environmentOf, type Consumer, type ConsumerKind } from '../model/project.js';
import { inputError, notFound } from '../model/errors.js';
import { validateRepository, type Repository } from './index.js';

export interface RunTarget {
  environment: string;
  revision: number | 'active';
  consumer?: Consumer;
}

export async function resolveTarget(repo: Repository, given: string, revision?: number): Promise<RunTarget> {
  const slash = given.indexOf('/');
  const kind = slash > 0 ? given.slice(0, slash) : undefined;
  const name = slash > 0 ? given.slice(slash + 1) : given;
  const kinds = Object.keys(CONSUMER_DIRS) as ConsumerKind[];
  if (kind !== undefined && kind !== 'environment' && !kinds.includes(kind as ConsumerKind)) {
    throw inputError('target-kind-unknown', `"${kind}" is not environment, ${kinds.join(', ')}`, { data: { kind } });
  }
  const { consumers } = await validateRepository(repo, { offline: true });
  const isEnvironment = (await repo.sources()).loaded.some((e) => e.name === name);
  const matches = consumers.filter((c) => c.name === name && (kind === undefined || c.kind === kind));
  if (kind !== 'environment' && matches.length > 0) {
    if (matches.length > 1 || (kind === undefined && isEnvironment)) {
      throw inputError('target-ambiguous', `"${name}" names ${[...(isEnvironment ? ['an environment'] : []), ...matches.map((c) => `a ${c.kind}`)].join(' and ')}: say which, e.g. ${matches[0]!.kind}/${name}`, { data: { name } });
    }
    const consumer = matches[0]!;
    const choice = environmentOf(consumer.spec);
    if (revision !== undefined) throw inputError('revision-for-consumer', `${consumer.kind} ${name} chooses its revision in ${consumer.file}; a revision can be asked for only for an environment`, { data: { option: 'revision', name } });
    return { environment: choice.name, revision: choice.revision, consumer };
  }
  if (kind !== undefined && kind !== 'environment') throw notFound('target-unknown', `no ${kind} "${name}" in ${CONSUMER_DIRS[kind as ConsumerKind]}/`, { data: { kind, name } });
  if (!isEnvironment) throw notFound('target-unknown', `no environment, project, model or data set "${name}"`, { data: { name } });
  return { environment: name, revision: revision ?? 'active' };
}
