/**
 * docker buildx, for machines with a Docker engine or a BuildKit elsewhere:
 * one `buildx build` that builds and pushes, the pushed digest read from
 * `--metadata-file`. Provenance attestations are off so the digest is the
 * image manifest's, which is what children build FROM.
 *
 * A named builder (`buildx.builder` in envctl.yaml, `--builder`) lets a
 * team build on BuildKit running elsewhere, e.g. on its Kubernetes cluster
 * (`docker buildx create --name NAME --driver kubernetes`, or `--driver
 * remote tcp://buildkitd:1234`): the runner then only sends the context.
 *
 * The layer cache: `--cache-from type=registry` each cache repository (the
 * environment's own first, then its bases'; a missing one is skipped by
 * BuildKit) and `--cache-to type=registry,mode=max,ignore-error=true` its own,
 * all under the tag `buildcache`, so a failed cache export never fails the
 * build. The docker driver (a plain engine's default builder) refuses cache
 * export outright; such a build is run once more without the cache.
 *
 * Every value (tag, paths, builder name) is one argument of its own, never
 * put through a shell; the only comma-separated values are the output and
 * cache specifications, and the repositories in those are checked first.
 */
import { execa } from 'execa';
import { appendFile, lstat, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { inputError } from '../model/errors.js';
import { runLogged } from './run.js';
import { masker, secretArgs, writeSecretFiles, type SecretFile } from './secrets.js';
import { BuilderUnavailable, BuildFailed, buildArgArgs, type BuildRequest, type Builder } from './types.js';

/** The tag BuildKit's registry cache is kept under in each cache repository. */
export const BUILDX_CACHE_TAG = 'buildcache';

/** `docker buildx 0.12.1`, or with a named builder `docker buildx 0.12.1 (builder k8s)`, after checking that builder exists. */
export async function dockerBuildxVersion(builder?: string): Promise<string> {
  const result = await execa('docker', ['buildx', 'version'], { reject: false });
  if (result.exitCode !== 0) {
    throw new BuilderUnavailable(`docker buildx is not available (${firstLine(result.stderr, result.shortMessage)}); install the buildx plugin, or use builder: buildah in envctl.yaml`);
  }
  const version = /\sv?(\d+\.\d+\.\d+\S*)/.exec(result.stdout)?.[1] ?? result.stdout.trim();
  if (builder !== undefined) await checkBuildxBuilder(builder);
  return `docker buildx ${version}${builder !== undefined ? ` (builder ${builder})` : ''}`;
}

/**
 * `docker buildx inspect NAME`: whether the named builder exists here. Not
 * `--bootstrap`: a kubernetes builder's pods may start with the first build.
 */
export async function checkBuildxBuilder(name: string): Promise<void> {
  const result = await execa('docker', ['buildx', 'inspect', name], { reject: false });
  if (result.exitCode === 0) return;
  throw new BuilderUnavailable(
    `the buildx builder "${name}" (buildx.builder in envctl.yaml) is not available here: docker buildx inspect ${name}: ${firstLine(result.stderr, result.shortMessage)}; `
    + `create it (docker buildx create --name ${name} --driver kubernetes, or --driver remote tcp://HOST:PORT), or remove buildx.builder from envctl.yaml to build with the current builder`,
  );
}

/**
 * docker buildx as a Builder. `builder` (envctl.yaml's buildx.builder) is
 * checked now; a request naming another builder is checked before its
 * first build.
 */
export async function dockerBuildx(builder?: string): Promise<Builder> {
  const version = await dockerBuildxVersion(builder);
  const checked = new Map<string, Promise<void>>(builder !== undefined ? [[builder, Promise.resolve()]] : []);
  return {
    version,
    async buildAndPush(req) {
      if (req.buildxBuilder !== undefined) {
        let check = checked.get(req.buildxBuilder);
        if (!check) {
          check = checkBuildxBuilder(req.buildxBuilder);
          checked.set(req.buildxBuilder, check);
        }
        await check;
      }
      return buildAndPush(req);
    },
  };
}

/**
 * The `docker` arguments for one build and push. `cache: false` leaves the
 * registry cache out (as `noCache` does, which also builds every step anew).
 */
export function dockerBuildxArgs(req: BuildRequest, metadataFile: string, opts: { cache?: boolean; secrets?: SecretFile[] } = {}): string[] {
  const insecure = req.insecure ? ['registry.insecure=true'] : [];
  const output = ['type=image', 'push=true', ...insecure].join(',');
  const cache = opts.cache === false || req.noCache ? [] : cacheArgs(req);
  return [
    'buildx', 'build', ...(req.buildxBuilder !== undefined ? ['--builder', req.buildxBuilder] : []),
    '--progress=plain', '--provenance=false', '--platform', req.platform,
    '--file', req.dockerfile, '--tag', req.tag, '--output', output, '--metadata-file', metadataFile,
    ...cache, ...buildArgArgs(req), ...(req.noCache ? ['--no-cache'] : []), ...secretArgs(opts.secrets ?? []),
    // The context is the one positional argument: never let it read as an option.
    req.contextDir.startsWith('-') ? `./${req.contextDir}` : req.contextDir,
  ];
}

function cacheArgs(req: BuildRequest): string[] {
  // Plain http for the cache as for the image: BuildKit's registry cache reads registry.insecure on import and export.
  const insecure = req.insecure ? ',registry.insecure=true' : '';
  return [
    ...(req.cacheFrom ?? []).flatMap((repo) => ['--cache-from', `type=registry,ref=${cacheRef(repo)}${insecure}`]),
    ...(req.cacheTo !== undefined ? ['--cache-to', `type=registry,ref=${cacheRef(req.cacheTo)},mode=max,ignore-error=true${insecure}`] : []),
  ];
}

/**
 * A cache repository as BuildKit's `ref`. It sits in a comma-separated
 * specification, so a repository that is not plainly a reference (a comma,
 * `=`, quotes, spaces) is refused rather than passed on.
 */
function cacheRef(repository: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._\-/:[\]]*$/.test(repository)) {
    throw inputError('cache-repository-invalid', `the cache repository "${repository}" is not a repository name (cache.repository in envctl.yaml, under the registry's address)`, { data: { repository } });
  }
  return `${repository}:${BUILDX_CACHE_TAG}`;
}

/** buildx's refusal to export cache from the docker driver (a plain engine's default builder). */
const DOCKER_DRIVER_NO_CACHE = /cache export (feature )?is (currently )?not supported for (the )?docker driver/i;

async function buildAndPush(req: BuildRequest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'envctl-buildx-'));
  try {
    const metadata = join(dir, 'metadata.json');
    const env = await dockerEnv(dir, req.authFile);
    // As files rather than `env=`: docker's environment then never carries a value (secrets.ts).
    const secrets = await writeSecretFiles(dir, req.tag, req.secrets ?? []);
    const mask = secrets.values.length > 0 ? { mask: masker(secrets.values) } : {};
    const run = (args: string[]) => runLogged('docker', args, { logFile: req.logFile, stage: 'build', env, ...mask, ...(req.signal ? { signal: req.signal } : {}) });
    const cached = !req.noCache && ((req.cacheFrom?.length ?? 0) > 0 || req.cacheTo !== undefined);
    try {
      await run(dockerBuildxArgs(req, metadata, { secrets: secrets.files }));
    } catch (err) {
      if (!cached || !(err instanceof BuildFailed) || !DOCKER_DRIVER_NO_CACHE.test(err.logTail)) throw err;
      await appendFile(req.logFile, `envctl: this buildx builder (the docker driver) cannot use the registry layer cache; building once more without it. For the cache, create a builder with another driver (docker buildx create --name envctl --driver docker-container) and name it in envctl.yaml as buildx.builder\n`);
      await run(dockerBuildxArgs(req, metadata, { cache: false, secrets: secrets.files }));
    }
    const digest = (JSON.parse(await readFile(metadata, 'utf8')) as Record<string, unknown>)['containerimage.digest'];
    if (typeof digest !== 'string') throw new BuildFailed('docker', 'push failed: docker buildx reported no image digest', '', 'push');
    return digest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/**
 * The variables docker is run with beyond those every builder gets. With a
 * login to hand (`authFile`, a containers auth.json), docker reads it from
 * `$DOCKER_CONFIG/config.json` in `dir`; the rest of the user's docker
 * configuration stays in reach: buildx's builders (BUILDX_CONFIG, where a
 * named builder is kept), CLI plugins (buildx itself may be one) and
 * contexts are linked from the usual folder, and config.json keeps its
 * other settings. KUBECONFIG is passed for the kubernetes driver.
 */
async function dockerEnv(dir: string, authFile: string | undefined, from: NodeJS.ProcessEnv = process.env): Promise<Record<string, string>> {
  const env: Record<string, string> = from.KUBECONFIG ? { KUBECONFIG: from.KUBECONFIG } : {};
  if (!authFile) return env;
  const usual = dockerConfigDir(from);
  const original = await readFile(join(usual, 'config.json'), 'utf8').then((t) => JSON.parse(t) as unknown, () => undefined);
  const auth = JSON.parse(await readFile(authFile, 'utf8')) as unknown;
  await writeFile(join(dir, 'config.json'), `${JSON.stringify(dockerConfigFor(original, auth), null, 2)}\n`, { mode: 0o600 });
  for (const folder of ['cli-plugins', 'contexts']) {
    if (await lstat(join(usual, folder)).then(() => true, () => false)) await symlink(join(usual, folder), join(dir, folder));
  }
  return { ...env, DOCKER_CONFIG: dir, BUILDX_CONFIG: from.BUILDX_CONFIG ?? join(usual, 'buildx') };
}

/** The folder docker reads its configuration from. */
export function dockerConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  return env.DOCKER_CONFIG ?? join(env.HOME ?? homedir(), '.docker');
}

/**
 * A docker config.json for one build: the user's settings (current context,
 * proxies, plugin folders) with the logins of `auth` (a containers
 * auth.json, which already holds the usual files' logins). A credential
 * store would take precedence over those logins, so it is left out, and a
 * credential helper only stays for a registry `auth` has no login for.
 */
export function dockerConfigFor(original: unknown, auth: unknown): Record<string, unknown> {
  const base = isRecord(original) ? original : {};
  const auths = isRecord(auth) && isRecord(auth.auths) ? auth.auths : {};
  const { auths: _auths, credsStore: _store, credHelpers, ...settings } = base;
  const helpers = isRecord(credHelpers) ? Object.fromEntries(Object.entries(credHelpers).filter(([host]) => !(host in auths))) : {};
  return { ...settings, ...(Object.keys(helpers).length > 0 ? { credHelpers: helpers } : {}), auths };
}

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function firstLine(stderr: unknown, fallback: string | undefined): string {
  return `${typeof stderr === 'string' ? stderr : ''}`.trim().split('\n')[0]?.replace(/^ERROR:\s*/, '') || fallback || 'no output';
}
