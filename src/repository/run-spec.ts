/**
 * The run spec a launcher needs for an environment or for what uses it (a
 * project, model or data set): the revision's own spec read from git (the
 * one its image was built from), its base chain at the revisions its image
 * stood on, the image by digest from the ledger, and the workspace tools'
 * paths resolved for a session.
 */
import { checkEnvironments, type CheckedEnvironment } from '../check/index.js';
import { readLedger } from '../git/ledger.js';
import { readEntryFiles } from '../git/history.js';
import { activeRevision, succeededBuild, type Ledger } from '../ledger/model.js';
import { loadEnvironments } from '../load/environments.js';
import type { Config } from '../model/config.js';
import { inputError, notFound } from '../model/errors.js';
import { rawBaseEnvironment, rawBasePinnedRevision } from '../check/raw.js';
import type { SourceFile } from '../model/tree.js';
import { chainOf, imageName } from '../render/index.js';
import { renderRunSpec, withCommand, type RunCommand, type RunSpec } from '../render/runspec.js';
import { resolveTools, type ResolvedTool, type Session } from '../render/session.js';
import { revisionsOf } from '../store/revision-index.js';
import { podManifest, type PodManifest, type PodOptions, type ProjectSource } from '../render/k8s.js';
import { resolveCommit } from '../git/history.js';
import type { RunTarget } from './target.js';
import { registryAccess } from '../registry/client.js';
import { withEmbeddedRegistry } from '../registry/embedded.js';
import { passwdEntry, readImageFile } from '../registry/files.js';

export interface RunSpecRequest {
  environment: string;
  /** `active` (default): the newest revision whose build succeeded. */
  revision?: number | 'active';
  session?: Session;
  /** What the lifecycle's command step runs, when the caller knows (a job's command, a workspace tool). */
  run?: RunCommand;
}

export interface ResolvedRunSpec extends Omit<RunSpec, 'workspaceTools'> {
  revision: number;
  /** Built image: `<registry>/<prefix><name>@sha256:…`. */
  image: string;
  /** The platform the image was built for: the revision's `platform:`, else envctl.yaml's. */
  platform: string;
  workspaceTools: Record<string, ResolvedTool>;
}

export async function resolveRunSpec(root: string, config: Config, req: RunSpecRequest): Promise<ResolvedRunSpec> {
  const { ledger } = await readLedger(root, config.stateBranch);
  const files: SourceFile[] = [];
  const revisionOf = new Map<string, number>();
  // The environment, then each base at the revision its image was built on (active or pinned).
  let next: { name: string; revision: number | 'active'; builtOn?: string } | undefined = { name: req.environment, revision: req.revision ?? 'active' };
  while (next && !revisionOf.has(next.name)) {
    const number = pick(ledger, next.name, next.revision, next.builtOn);
    const revisions = await revisionsOf(root, config, next.name);
    const rev = revisions.find((r) => r.number === number);
    if (!rev) throw notFound('revision-unknown', `${next.name} has no revision ${number}`, { data: { name: next.name, revision: number } });
    const own = await readEntryFiles({ dir: root, folder: config.environmentsDir }, rev.environment, rev.entry);
    // A revision from before a rename lives under the old name: file it under the name asked for.
    files.push(...own.map((f) => ({ ...f, path: f.path.replace(`${config.environmentsDir}/${rev.environment}`, `${config.environmentsDir}/${next!.name}`) })));
    revisionOf.set(next.name, number);
    const loaded = loadEnvironments({ files: own, problems: [] }, config.environmentsDir).environments[0];
    const baseName = loaded && rawBaseEnvironment(loaded);
    const pinned = loaded && rawBasePinnedRevision(loaded);
    const base = baseName !== undefined ? { kind: 'environment' as const, environment: baseName, revision: pinned ?? 'active' as const } : undefined;
    // The base as it was when this image was built: the base build whose digest this one stood on.
    const builtOn: string | undefined = succeededBuild(ledger.get(next.name)?.builds ?? [], number)?.baseDigest;
    next = base?.kind === 'environment' ? { name: base.environment, revision: base.revision, ...(builtOn ? { builtOn } : {}) } : undefined;
  }
  const checked = checkEnvironments(loadEnvironments({ files, problems: [] }, config.environmentsDir).environments, { config }).environments;
  const all = new Map<string, CheckedEnvironment>(checked.map((e) => [e.name, e]));
  const env = all.get(req.environment);
  if (!env) throw inputError('spec-invalid', `${req.environment} at revision ${revisionOf.get(req.environment)} does not pass the schema; no run spec`, { data: { name: req.environment, revision: revisionOf.get(req.environment) } });
  const revision = revisionOf.get(req.environment)!;
  const digest = succeededBuild(ledger.get(req.environment)?.builds ?? [], revision)!.digest!;
  const rendered = renderRunSpec(env, chainOf(env, all), `${imageName(config, env.name)}@${digest}`, revision);
  const spec = req.run ? withCommand(rendered, req.run) : rendered;
  return { ...spec, revision, platform: env.spec.platform ?? config.platform, workspaceTools: resolveTools(spec.workspaceTools, req.session ?? {}) };
}

/** The revision to run: the one whose image a child was built on, else active, or pinned (which must have an image). */
function pick(ledger: Ledger, name: string, revision: number | 'active', builtOn?: string): number {
  const builds = ledger.get(name)?.builds ?? [];
  const under = builtOn ? builds.find((b) => b.status === 'succeeded' && b.digest === builtOn) : undefined;
  if (under) return under.revision;
  if (revision === 'active') {
    const active = activeRevision(builds);
    if (active === null) throw notFound('image-unbuilt', `${name} has no built revision yet`, { data: { name }, hint: 'run envctl sync' });
    return active;
  }
  if (!succeededBuild(builds, revision)) throw notFound('image-unbuilt', `${name} revision ${revision} has no built image${builds.length ? '' : ' (nothing of it is built yet)'}`, { data: { name, revision }, hint: 'run envctl sync' });
  return revision;
}

/**
 * The Pod for a run spec; the spec's user becomes runAsUser, looked up in
 * the image's /etc/passwd, read through the registry (the embedded one
 * started for it if envctl.yaml names it, and stopped again if this started
 * it). Without a user the registry is not asked.
 */
export async function podFor(root: string, config: Config, spec: ResolvedRunSpec, opts: Omit<PodOptions, 'user'>): Promise<PodManifest> {
  let user: PodOptions['user'];
  if (spec.username) {
    const passwd = await withEmbeddedRegistry(root, config.registry, () => readImageFile(spec.image, 'etc/passwd', { access: registryAccess(config), platform: spec.platform }));
    user = passwd ? passwdEntry(passwd.toString('utf8'), spec.username) : undefined;
    if (!user) throw inputError('user-unknown', `${spec.environment} runs as ${spec.username}, but the image's /etc/passwd has no such user`, { data: { name: spec.environment, username: spec.username } });
  }
  return podManifest({ ...spec, workspaceTools: spec.workspaceTools }, { ...opts, ...(user ? { user } : {}) });
}

/**
 * What fills a Pod's project folder: the named volume when one is given;
 * else, for a project with a folder, that folder at the commit checked out
 * here (HEAD), cloned from envctl.yaml's project.repository (or `source`)
 * by an init container; else nothing (an empty folder).
 */
export async function projectSourceFor(root: string, config: Config, target: RunTarget, volume?: string): Promise<ProjectSource | undefined> {
  if (volume !== undefined) {
    // A claim's name is a DNS-1123 subdomain; anything else would make a Pod the API server refuses.
    if (!/^[a-z0-9](?:[-a-z0-9.]{0,251}[a-z0-9])?$/.test(volume)) throw inputError('project-volume-invalid', 'a volume claim name is lowercase letters, digits, "-" and ".", at most 253', { data: { option: 'project-volume', value: volume } });
    return { claim: volume };
  }
  const folder = target.consumer?.folder;
  if (folder === undefined) return undefined;
  const repository = config.project.repository;
  if (repository === undefined) {
    throw inputError('project-repository-missing', `a Pod for ${target.consumer!.kind} ${target.consumer!.name} clones ${folder}/ into /mnt/project, but envctl.yaml names no repository to clone from`, {
      data: { name: target.consumer!.name },
      hint: 'set project.repository (or source) in envctl.yaml, or give a volume holding the project with --project-volume NAME',
    });
  }
  const commit = await resolveCommit(root, 'HEAD');
  if (commit === undefined) throw notFound('commit-unknown', 'this repository has no commit yet to clone the project at', { data: { name: target.consumer!.name } });
  return { git: { repository, commit, path: folder, image: config.project.gitImage } };
}
