/**
 * The catalog site's data, gathered from the head's environments, the
 * revision index, the ledger and the projects, and the site written out:
 * pages from src/site/ (pure), plus copies of the build logs kept here.
 */
import { createTwoFilesPatch } from 'diff';
import { mkdir, writeFile } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { replaceDir } from '../files/write.js';
import { readLedger } from '../git/ledger.js';
import { activeRevision, latestAttempts, type BuildRecord } from '../ledger/model.js';
import { environmentOf } from '../model/project.js';
import { comparePackages, type InstalledPackage, type PackageCounts } from '../packages/index.js';
import { baseOf } from '../model/spec.js';
import type { Revision } from '../revisions/number.js';
import { renderSite } from '../site/render.js';
import type { SiteData, SiteEnvironment, SiteRevision } from '../site/model.js';
import { environmentAt } from './history.js';
import { openRepository, validateRepository } from './index.js';
import { revisionsOf } from '../store/revision-index.js';
import { copyLog, logFolder, siteLog, type CheckedLog } from './site-logs.js';
import { packagesOfBuild } from './packages.js';
import { registryAccess } from '../registry/client.js';
import { withEmbeddedRegistry } from '../registry/embedded.js';

export interface GatheredSite {
  data: SiteData;
  /** Log files to copy: path in the site → the file here, as looked at (copied only if it is still that file). */
  logs: Map<string, CheckedLog>;
  /** Logs left out, and why, one line each. */
  warnings: string[];
}

/**
 * The packages of the image a build pushed, or undefined when they cannot be
 * known. The site stage reads no registry; whoever can (the registry, an
 * SBOM beside the image) answers here. Asked once per image digest.
 */
export type PackageLoader = (environment: string, build: BuildRecord) => Promise<InstalledPackage[] | undefined>;

export interface SiteOptions {
  now?: Date;
  loadPackages?: PackageLoader;
  /** Read each built image's packages from the registry (its SBOM, else its layers) when no loader is given. */
  registryPackages?: boolean;
}

/** A build record with the SBOM note sync is gaining (issue 16); read when present. */
type RecordWithSbom = BuildRecord & { sbom?: { digest?: unknown; packages?: PackageCounts } };

export async function gatherSite(root: string, opts: SiteOptions = {}): Promise<GatheredSite> {
  const repo = await openRepository(root);
  const { config } = repo;
  const [{ environments, consumers }, { ledger }] = await Promise.all([validateRepository(repo, { offline: true }), readLedger(root, config.stateBranch)]);
  const logs = new Map<string, CheckedLog>();
  const warnings: string[] = [];
  const logsAt = await logFolder(root, warnings);
  const out: SiteEnvironment[] = [];
  // One image (a reused one too) is read once, whichever revisions name it.
  const packagesByDigest = new Map<string, Promise<InstalledPackage[] | undefined>>();
  const packagesOf = (environment: string, b: BuildRecord | undefined): Promise<InstalledPackage[] | undefined> => {
    const load = opts.loadPackages;
    if (!load || !b || b.status !== 'succeeded' || !b.digest) return Promise.resolve(undefined);
    let found = packagesByDigest.get(b.digest);
    if (!found) {
      found = load(environment, b).then(
        (list) => (list ? [...list].sort(comparePackages) : undefined),
        (error: unknown) => {
          warnings.push(`${environment} revision ${b.revision}: its packages are not in the site: ${error instanceof Error ? error.message : String(error)}`);
          return undefined;
        },
      );
      packagesByDigest.set(b.digest, found);
    }
    return found;
  };
  for (const env of [...environments].sort((a, b) => (a.name < b.name ? -1 : 1))) {
    const revisions = await revisionsOf(root, config, env.name);
    const builds = ledger.get(env.name)?.builds ?? [];
    const attempts = latestAttempts(builds);
    const active = activeRevision(builds);
    const latest = revisions.at(-1);
    const dockerfileOf = async (r: Revision | undefined) => (r ? (await environmentAt(root, config, r)).rendered?.dockerfile : undefined);
    const activeRev = revisions.find((r) => r.number === active);
    const [activeFile, latestFile] = await Promise.all([dockerfileOf(activeRev), dockerfileOf(latest)]);
    const base = baseOf(env.spec);
    const spec = env.spec;
    out.push({
      name: env.name,
      title: spec.title ?? env.name,
      description: spec.description ?? '',
      owner: spec.owner,
      visibility: spec.visibility ?? 'private',
      archived: spec.archived === true,
      base: base.kind === 'default' ? { kind: 'default', image: config.defaultBase.image } : base,
      clusterTypes: spec.clusterTypes ?? [],
      workspaceTools: spec.workspaceTools ?? {},
      variables: Object.entries(spec.variables ?? {}).map(([name, v]) => (typeof v === 'object' ? { name, secret: true as const } : { name, value: String(v) })),
      dockerArguments: spec.dockerArguments ?? [],
      activeRevision: active,
      latestRevision: latest?.number ?? null,
      revisions: (await Promise.all(revisions.map(async (r) => {
        const b = attempts.get(r.number);
        const log = b?.log !== undefined ? await siteLog(logsAt, b.log, `${env.name} revision ${r.number}`, logs, warnings) : undefined;
        const revision = siteRevision(r, b, active, log);
        const packages = await packagesOf(env.name, b);
        if (packages) revision.packages = packages;
        else if (b?.status === 'succeeded' && (b as RecordWithSbom).sbom?.packages) revision.packageCounts = (b as RecordWithSbom).sbom!.packages!;
        return revision;
      }))).reverse(),
      users: consumers.filter((c) => environmentOf(c.spec).name === env.name).map((c) => ({ kind: c.kind, name: c.name, revision: environmentOf(c.spec).revision, file: c.file })),
      dockerfiles: {
        ...(activeFile !== undefined ? { active: activeFile } : {}),
        ...(latestFile !== undefined ? { latest: latestFile } : {}),
        diff: activeFile !== undefined && latestFile !== undefined && activeFile !== latestFile && activeRev && latest
          ? createTwoFilesPatch(`revision ${activeRev.number}`, `revision ${latest.number}`, activeFile, latestFile, undefined, undefined, { context: 3 }).split('\n').slice(1).join('\n')
          : '',
      },
      lastChange: latest ? new Date(latest.time * 1000).toISOString() : null,
      // `tests:` is the image tests' field the spec is gaining; read without depending on its type.
      tests: (spec as object as Record<string, unknown>)['tests'] !== undefined,
    });
  }
  const title = config.source?.replace(/\/+$/, '').split('/').slice(-2).join('/') ?? basename(root);
  return {
    data: { title, generatedAt: (opts.now ?? new Date()).toISOString(), ...(config.source ? { source: config.source.replace(/\/+$/, '') } : {}), environments: out },
    logs,
    warnings,
  };
}

/** `logHref`: the log as linked from the page (a CI URL, or the site's copy of a checked local log). */
function siteRevision(r: Revision, b: BuildRecord | undefined, active: number | null, logHref: string | undefined): SiteRevision {
  let build: SiteRevision['build'] = null;
  if (b) {
    build = { status: b.status, startedAt: b.startedAt };
    if (b.endedAt) {
      build.endedAt = b.endedAt;
      build.durationSeconds = Math.max(0, (Date.parse(b.endedAt) - Date.parse(b.startedAt)) / 1000);
    }
    if (b.digest && b.image) build.imageReference = `${b.image.replace(/:[^:/@]+$/, '')}@${b.digest}`;
    if (b.size !== undefined) build.sizeBytes = b.size;
    if (b.reason) build.reason = b.reason;
    if (b.failure) build.failure = b.failure.kind;
    if (b.reusedFrom !== undefined) build.reusedFrom = b.reusedFrom;
    if (logHref !== undefined) build.logHref = logHref;
  }
  return {
    number: r.number, summary: r.subject, author: r.author, date: new Date(r.time * 1000).toISOString(), commit: r.commit,
    contentKey: b?.contentKey || null, build, active: r.number === active,
  };
}

/** Writes the whole site into `out`, replacing what was there only once it is complete. */
export async function writeSite(root: string, out: string, opts: SiteOptions = {}): Promise<{ pages: number; environments: number; warnings: string[] }> {
  if (opts.registryPackages && !opts.loadPackages) {
    const { config } = await openRepository(root);
    const access = registryAccess(config);
    // The embedded registry is started once for the whole site, if it is the one.
    return withEmbeddedRegistry(root, config.registry, () => writeSite(root, out, {
      ...opts, registryPackages: false, loadPackages: async (environment, build) => (await packagesOfBuild(config, environment, build, access)).packages,
    }));
  }
  const { data, logs, warnings } = await gatherSite(root, opts);
  const files = renderSite(data);
  await replaceDir(out, async (dir) => {
    for (const [path, text] of files) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      await writeFile(join(dir, path), text);
    }
    for (const [path, log] of logs) {
      await mkdir(dirname(join(dir, path)), { recursive: true });
      const why = await copyLog(log, join(dir, path));
      if (why !== undefined) warnings.push(`${log.what}: its log ${log.name} is not in the site: ${why}`);
    }
  });
  return { pages: [...files.keys()].filter((p) => p.endsWith('.html')).length, environments: data.environments.length, warnings };
}
