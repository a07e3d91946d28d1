/**
 * docker buildx without a Docker engine: the argument arrays (a named
 * builder, the registry layer cache, plain-http registries, noCache), and
 * the builder run against a stand-in `docker` on PATH that records each
 * call's arguments, variables and config.json as it received them: every
 * value one argument of its own and no shell in between, a missing named
 * builder refused in words that name envctl.yaml's setting, the docker
 * driver's refusal of cache export answered by a build without the cache.
 */
import { expect } from 'chai';
import { chmod, mkdir, readdir, readFile, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { checkBuildxBuilder, dockerBuildx, dockerBuildxArgs, dockerBuildxVersion, dockerConfigFor } from '../src/builder/docker.js';
import { BuilderUnavailable, BuildFailed, type BuildRequest } from '../src/builder/types.js';
import { isEnvctlError } from '../src/model/errors.js';
import { removeDir, tempDir } from './helpers.js';

const req: BuildRequest = {
  contextDir: '/b/context', dockerfile: '/b/Dockerfile', tag: 'reg.example:5000/envctl/b:3', platform: 'linux/arm64',
  insecure: false, logFile: '/b/log',
};
const cached: BuildRequest = { ...req, cacheFrom: ['reg.example:5000/envctl/b/cache', 'reg.example:5000/envctl/a/cache'], cacheTo: 'reg.example:5000/envctl/b/cache' };

/** Each `--cache-from` / `--cache-to` with its value. */
const cacheFlags = (args: string[]) => args.flatMap((a, i) => (a.startsWith('--cache-') ? [[a, args[i + 1]]] : []));
const valueOf = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);

describe('docker buildx arguments', () => {
  it('names the buildx builder right after `buildx build` when one is configured, and no builder otherwise', () => {
    const args = dockerBuildxArgs({ ...req, buildxBuilder: 'k8s-buildkit' }, '/m.json');
    expect(args.slice(0, 4)).to.deep.equal(['buildx', 'build', '--builder', 'k8s-buildkit']);
    expect(args.filter((a) => a === '--builder')).to.have.length(1);
    expect(dockerBuildxArgs(req, '/m.json')).to.not.include('--builder');
  });

  it('passes the tag with --tag, never inside the comma-separated output, and pushes without attestations', () => {
    const args = dockerBuildxArgs(req, '/m.json');
    expect(valueOf(args, '--tag')).to.equal('reg.example:5000/envctl/b:3');
    expect(valueOf(args, '--output')).to.equal('type=image,push=true');
    expect(args.filter((a) => a.includes('reg.example:5000/envctl/b:3'))).to.deep.equal(['reg.example:5000/envctl/b:3']);
    expect(args).to.include('--provenance=false');
    expect(valueOf(args, '--platform')).to.equal('linux/arm64');
    expect(valueOf(args, '--file')).to.equal('/b/Dockerfile');
    expect(valueOf(args, '--metadata-file')).to.equal('/m.json');
    expect(args.at(-1)).to.equal('/b/context');
  });

  it('reads every cache repository in order and writes its own, all under :buildcache, mode=max, a failed export ignored', () => {
    const args = dockerBuildxArgs(cached, '/m.json');
    expect(cacheFlags(args)).to.deep.equal([
      ['--cache-from', 'type=registry,ref=reg.example:5000/envctl/b/cache:buildcache'],
      ['--cache-from', 'type=registry,ref=reg.example:5000/envctl/a/cache:buildcache'],
      ['--cache-to', 'type=registry,ref=reg.example:5000/envctl/b/cache:buildcache,mode=max,ignore-error=true'],
    ]);
    expect(args.indexOf('--cache-to')).to.be.below(args.length - 1);
    expect(args).to.not.include('--no-cache');
  });

  it('a base-only cache (nothing to write) and no cache at all', () => {
    expect(cacheFlags(dockerBuildxArgs({ ...req, cacheFrom: ['r/envctl/a/cache'] }, '/m'))).to.deep.equal([['--cache-from', 'type=registry,ref=r/envctl/a/cache:buildcache']]);
    expect(cacheFlags(dockerBuildxArgs(req, '/m'))).to.deep.equal([]);
    expect(cacheFlags(dockerBuildxArgs(cached, '/m', { cache: false }))).to.deep.equal([]);
  });

  it('insecure and noCache: http for the image and every cache reference; noCache builds anew and touches no cache', () => {
    const cases: { insecure: boolean; noCache: boolean; output: string; cache: string[][] }[] = [
      { insecure: false, noCache: false, output: 'type=image,push=true', cache: [
        ['--cache-from', 'type=registry,ref=reg.example:5000/envctl/b/cache:buildcache'],
        ['--cache-from', 'type=registry,ref=reg.example:5000/envctl/a/cache:buildcache'],
        ['--cache-to', 'type=registry,ref=reg.example:5000/envctl/b/cache:buildcache,mode=max,ignore-error=true'],
      ] },
      { insecure: true, noCache: false, output: 'type=image,push=true,registry.insecure=true', cache: [
        ['--cache-from', 'type=registry,ref=reg.example:5000/envctl/b/cache:buildcache,registry.insecure=true'],
        ['--cache-from', 'type=registry,ref=reg.example:5000/envctl/a/cache:buildcache,registry.insecure=true'],
        ['--cache-to', 'type=registry,ref=reg.example:5000/envctl/b/cache:buildcache,mode=max,ignore-error=true,registry.insecure=true'],
      ] },
      { insecure: false, noCache: true, output: 'type=image,push=true', cache: [] },
      { insecure: true, noCache: true, output: 'type=image,push=true,registry.insecure=true', cache: [] },
    ];
    for (const c of cases) {
      const args = dockerBuildxArgs({ ...cached, insecure: c.insecure, noCache: c.noCache }, '/m');
      const what = JSON.stringify({ insecure: c.insecure, noCache: c.noCache });
      expect(valueOf(args, '--output'), what).to.equal(c.output);
      expect(cacheFlags(args), what).to.deep.equal(c.cache);
      expect(args.includes('--no-cache'), what).to.equal(c.noCache);
      if (!c.insecure) expect(args.some((a) => a.includes('insecure')), what).to.equal(false);
    }
  });

  it('refuses a cache repository that would add options to the comma-separated cache specification', () => {
    for (const bad of ['r/envctl/a/cache,mode=min', 'r/envctl/a/cache,dest=/etc', 'r/envctl/"a"/cache', 'r/envctl/a b/cache', '-r/cache', 'r/a=b']) {
      let thrown: unknown;
      try {
        dockerBuildxArgs({ ...req, cacheTo: bad }, '/m');
      } catch (err) {
        thrown = err;
      }
      expect(isEnvctlError(thrown, 'input') && thrown.code, bad).to.equal('cache-repository-invalid');
    }
    // The same repository with noCache is never put in a specification, so nothing to refuse.
    expect(() => dockerBuildxArgs({ ...req, cacheTo: 'r/a,b', noCache: true }, '/m')).to.not.throw();
  });

  it('a context folder that starts with "-" cannot be read as an option', () => {
    expect(dockerBuildxArgs({ ...req, contextDir: '--push' }, '/m').at(-1)).to.equal('./--push');
  });

  it('a docker config for one build: the user\'s settings, the logins given, no credential store that would hide them', () => {
    const original = {
      currentContext: 'ci', proxies: { default: { httpProxy: 'http://p:3128' } }, credsStore: 'desktop',
      credHelpers: { 'gcr.io': 'gcloud', 'reg.example:5000': 'ecr-login' }, auths: { 'old.example': { auth: 'b2xkOm9sZA==' } },
    };
    const auth = { auths: { 'reg.example:5000': { auth: 'Ym90OnNlY3JldA==' } } };
    expect(dockerConfigFor(original, auth)).to.deep.equal({
      currentContext: 'ci', proxies: { default: { httpProxy: 'http://p:3128' } },
      credHelpers: { 'gcr.io': 'gcloud' }, auths: { 'reg.example:5000': { auth: 'Ym90OnNlY3JldA==' } },
    });
    expect(dockerConfigFor(undefined, auth)).to.deep.equal(auth);
    expect(dockerConfigFor(['not', 'an', 'object'], {})).to.deep.equal({ auths: {} });
  });
});

/**
 * A stand-in for docker: each call's arguments (NUL-separated), the
 * variables that matter here, and the config.json it was given are kept
 * beside it as call-N.*; files beside it decide its answers (builder-NAME:
 * that builder exists; docker-driver: cache export is refused; fail-build:
 * the Dockerfile fails).
 */
const FAKE_DOCKER = `#!/usr/bin/env bash
here=$(cd "$(dirname "$0")" && pwd)
n=$(find "$here" -maxdepth 1 -name 'call-*.args' | wc -l)
call="$here/call-$n"
printf '%s\\0' "$@" > "$call.args"
{
  echo "DOCKER_CONFIG=\${DOCKER_CONFIG-}"
  echo "BUILDX_CONFIG=\${BUILDX_CONFIG-}"
  echo "KUBECONFIG=\${KUBECONFIG-}"
  echo "ENVCTL_REGISTRY_PASSWORD=\${ENVCTL_REGISTRY_PASSWORD-}"
} > "$call.env"
if [ -n "\${DOCKER_CONFIG-}" ]; then
  [ -f "$DOCKER_CONFIG/config.json" ] && cp "$DOCKER_CONFIG/config.json" "$call.config.json"
  [ -L "$DOCKER_CONFIG/cli-plugins" ] && readlink "$DOCKER_CONFIG/cli-plugins" > "$call.plugins"
fi
case "$1 $2" in
  "buildx version") echo "github.com/docker/buildx v0.12.1 542e5d810e4a1a155684f5f3c5bd7e797632a12f"; exit 0 ;;
  "buildx inspect")
    if [ -e "$here/builder-$3" ]; then printf 'Name:   %s\\nDriver: kubernetes\\n' "$3"; exit 0; fi
    echo "ERROR: no builder \\"$3\\" found" >&2; exit 1 ;;
  "buildx build")
    meta=; cache_to=false; prev=
    for a in "$@"; do
      [ "$prev" = --metadata-file ] && meta=$a
      [ "$a" = --cache-to ] && cache_to=true
      prev=$a
    done
    echo "#1 [internal] load build definition from Dockerfile"
    if $cache_to && [ -e "$here/docker-driver" ]; then
      echo "ERROR: failed to build: Cache export is not supported for the docker driver." >&2
      echo "Switch to a different driver, or turn on the containerd image store, and try again." >&2
      exit 1
    fi
    if [ -e "$here/fail-build" ]; then
      echo 'ERROR: process "/bin/sh -c false" did not complete successfully: exit code: 1' >&2
      exit 1
    fi
    printf '{"containerimage.digest":"sha256:%064d"}' 7 > "$meta"
    exit 0 ;;
esac
echo "fake docker: unexpected call: $*" >&2
exit 2
`;

const DIGEST = `sha256:${'0'.repeat(63)}7`;

describe('docker buildx against a stand-in docker on PATH', () => {
  let dir: string;
  let bin: string;
  let usual: string;
  const saved: Record<string, string | undefined> = {};
  const VARS = ['PATH', 'DOCKER_CONFIG', 'BUILDX_CONFIG', 'KUBECONFIG', 'ENVCTL_REGISTRY_PASSWORD'];

  interface Call { args: string[]; env: Record<string, string>; config?: unknown; plugins?: string }
  async function calls(): Promise<Call[]> {
    const names = (await readdir(bin)).filter((n) => /^call-\d+\.args$/.test(n)).sort((a, b) => Number(/\d+/.exec(a)![0]) - Number(/\d+/.exec(b)![0]));
    return Promise.all(names.map(async (n) => {
      const base = join(bin, n.replace(/\.args$/, ''));
      const args = (await readFile(`${base}.args`, 'utf8')).split('\0').slice(0, -1);
      const env = Object.fromEntries((await readFile(`${base}.env`, 'utf8')).trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
      const config = existsSync(`${base}.config.json`) ? JSON.parse(await readFile(`${base}.config.json`, 'utf8')) as unknown : undefined;
      const plugins = existsSync(`${base}.plugins`) ? (await readFile(`${base}.plugins`, 'utf8')).trim() : undefined;
      return { args, env, ...(config === undefined ? {} : { config }), ...(plugins === undefined ? {} : { plugins }) };
    }));
  }
  const builds = async () => (await calls()).filter((c) => c.args[1] === 'build');

  before(async () => {
    for (const v of VARS) saved[v] = process.env[v];
  });

  beforeEach(async () => {
    dir = await tempDir('envctl-buildx-test-');
    bin = join(dir, 'bin');
    usual = join(dir, 'docker-config');
    await mkdir(bin);
    await mkdir(join(usual, 'cli-plugins'), { recursive: true });
    await writeFile(join(usual, 'config.json'), JSON.stringify({ currentContext: 'ci', credsStore: 'desktop', auths: { 'old.example': { auth: 'b2xkOm9sZA==' } } }));
    await writeFile(join(bin, 'docker'), FAKE_DOCKER);
    await chmod(join(bin, 'docker'), 0o755);
    process.env.PATH = `${bin}:${saved.PATH ?? ''}`;
    process.env.DOCKER_CONFIG = usual;
    delete process.env.BUILDX_CONFIG;
    delete process.env.KUBECONFIG;
    process.env.ENVCTL_REGISTRY_PASSWORD = 'ghs_never_passed_on';
  });

  afterEach(async () => {
    for (const v of VARS) {
      if (saved[v] === undefined) delete process.env[v];
      else process.env[v] = saved[v];
    }
    await removeDir(dir);
  });

  const request = (over: Partial<BuildRequest> = {}): BuildRequest => ({
    contextDir: join(dir, 'context'), dockerfile: join(dir, 'Dockerfile'), tag: 'reg.example:5000/envctl/b:3', platform: 'linux/amd64',
    insecure: false, logFile: join(dir, 'build.log'), ...over,
  });

  describe('a named builder', () => {
    it('is checked with `docker buildx inspect NAME`; a missing one is refused naming it and envctl.yaml\'s buildx.builder', async () => {
      const err = await dockerBuildxVersion('k8s-buildkit').then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(BuilderUnavailable);
      const e = err as BuilderUnavailable;
      expect(e.kind).to.equal('external');
      expect(e.code).to.equal('builder-missing');
      expect(e.message).to.include('"k8s-buildkit"').and.include('buildx.builder in envctl.yaml').and.include('no builder "k8s-buildkit" found')
        .and.include('docker buildx create --name k8s-buildkit');
      expect((await calls()).map((c) => c.args)).to.deep.equal([['buildx', 'version'], ['buildx', 'inspect', 'k8s-buildkit']]);
    });

    it('an existing builder is named in the version recorded with each build; without one nothing is inspected', async () => {
      await writeFile(join(bin, 'builder-k8s-buildkit'), '');
      expect(await dockerBuildxVersion('k8s-buildkit')).to.equal('docker buildx 0.12.1 (builder k8s-buildkit)');
      expect(await dockerBuildxVersion()).to.equal('docker buildx 0.12.1');
      expect((await calls()).map((c) => c.args)).to.deep.equal([['buildx', 'version'], ['buildx', 'inspect', 'k8s-buildkit'], ['buildx', 'version']]);
      await checkBuildxBuilder('k8s-buildkit');
    });

    it('a request naming a builder that does not exist is refused before any build runs', async () => {
      const builder = await dockerBuildx();
      const err = await builder.buildAndPush(request({ buildxBuilder: 'gone' })).then(() => undefined, (e: unknown) => e);
      expect(err).to.be.instanceOf(BuilderUnavailable);
      expect((err as Error).message).to.include('"gone"');
      expect(await builds()).to.deep.equal([]);
    });

    it('builds on the named builder, which is checked once', async () => {
      await writeFile(join(bin, 'builder-k8s'), '');
      const builder = await dockerBuildx('k8s');
      expect(builder.version).to.equal('docker buildx 0.12.1 (builder k8s)');
      expect(await builder.buildAndPush(request({ buildxBuilder: 'k8s' }))).to.equal(DIGEST);
      expect(await builder.buildAndPush(request({ buildxBuilder: 'k8s' }))).to.equal(DIGEST);
      const all = await calls();
      expect(all.filter((c) => c.args[1] === 'inspect')).to.have.length(1);
      for (const b of await builds()) expect(b.args.slice(0, 4)).to.deep.equal(['buildx', 'build', '--builder', 'k8s']);
    });
  });

  it('every value reaches docker as one argument, exactly as given, with no shell in between', async () => {
    const marker = join(dir, 'PWNED');
    const hostile = request({
      contextDir: join(dir, `ctx with space; touch ${marker}`),
      dockerfile: join(dir, `Docker'file"$(touch ${marker})`),
      tag: `reg.example:5000/envctl/b:3\`touch ${marker}\``,
      buildxBuilder: 'k8s $(id) `id`; x',
      cacheFrom: ['reg.example:5000/envctl/b/cache'], cacheTo: 'reg.example:5000/envctl/b/cache',
    });
    await writeFile(join(bin, `builder-${hostile.buildxBuilder!}`), '');
    const builder = await dockerBuildx();
    expect(await builder.buildAndPush(hostile)).to.equal(DIGEST);
    const [build] = await builds();
    const metadata = valueOf(build!.args, '--metadata-file')!;
    expect(build!.args).to.deep.equal(dockerBuildxArgs(hostile, metadata));
    expect(valueOf(build!.args, '--tag')).to.equal(hostile.tag);
    expect(valueOf(build!.args, '--builder')).to.equal(hostile.buildxBuilder);
    expect(build!.args.at(-1)).to.equal(hostile.contextDir);
    const inspect = (await calls()).find((c) => c.args[1] === 'inspect');
    expect(inspect!.args).to.deep.equal(['buildx', 'inspect', hostile.buildxBuilder]);
    expect(existsSync(marker)).to.equal(false);
    expect(await readFile(hostile.logFile, 'utf8')).to.include('$ docker buildx build');
  });

  it('with a login: its own config.json with that login and the user\'s settings, the usual builders, plugins and contexts, no password in the environment', async () => {
    const authFile = join(dir, 'auth.json');
    await writeFile(authFile, JSON.stringify({ auths: { 'reg.example:5000': { auth: 'Ym90OnNlY3JldA==' } } }));
    await mkdir(join(usual, 'contexts'));
    process.env.KUBECONFIG = '/k/config';
    const builder = await dockerBuildx();
    expect(await builder.buildAndPush(request({ authFile }))).to.equal(DIGEST);
    const [build] = await builds();
    expect(build!.env.DOCKER_CONFIG).to.not.equal(usual).and.not.equal('');
    expect(build!.config).to.deep.equal({ currentContext: 'ci', auths: { 'reg.example:5000': { auth: 'Ym90OnNlY3JldA==' } } });
    expect(build!.env.BUILDX_CONFIG).to.equal(join(usual, 'buildx'));
    expect(build!.plugins).to.equal(join(usual, 'cli-plugins'));
    expect(build!.env.KUBECONFIG).to.equal('/k/config');
    expect(build!.env.ENVCTL_REGISTRY_PASSWORD).to.equal('');
    expect(existsSync(build!.env.DOCKER_CONFIG!), 'the build\'s docker config is removed afterwards').to.equal(false);
  });

  it('without a login docker keeps its own configuration; a BUILDX_CONFIG already set is kept', async () => {
    process.env.BUILDX_CONFIG = '/elsewhere/buildx';
    const builder = await dockerBuildx();
    await builder.buildAndPush(request());
    const [build] = await builds();
    expect(build!.env.DOCKER_CONFIG).to.equal(usual);
    expect(build!.env.BUILDX_CONFIG).to.equal('/elsewhere/buildx');
    expect(build!.config).to.deep.equal(JSON.parse(await readFile(join(usual, 'config.json'), 'utf8')));

    const authFile = join(dir, 'auth.json');
    await writeFile(authFile, JSON.stringify({ auths: {} }));
    await builder.buildAndPush(request({ authFile }));
    expect((await builds())[1]!.env.BUILDX_CONFIG).to.equal('/elsewhere/buildx');
  });

  it('the docker driver refuses cache export: the build runs once more without the cache, and the log says why', async () => {
    await writeFile(join(bin, 'docker-driver'), '');
    const builder = await dockerBuildx();
    expect(await builder.buildAndPush(request({ cacheFrom: ['reg.example:5000/envctl/b/cache'], cacheTo: 'reg.example:5000/envctl/b/cache' }))).to.equal(DIGEST);
    const [first, second, ...rest] = await builds();
    expect(rest).to.deep.equal([]);
    expect(cacheFlags(first!.args).map(([flag]) => flag)).to.deep.equal(['--cache-from', '--cache-to']);
    expect(cacheFlags(second!.args)).to.deep.equal([]);
    expect(await readFile(join(dir, 'build.log'), 'utf8')).to.include('Cache export is not supported for the docker driver')
      .and.include('building once more without it').and.include('buildx.builder');
  });

  it('noCache on the docker driver builds once; a failing Dockerfile is not retried', async () => {
    await writeFile(join(bin, 'docker-driver'), '');
    const builder = await dockerBuildx();
    expect(await builder.buildAndPush(request({ cacheTo: 'reg.example:5000/envctl/b/cache', noCache: true }))).to.equal(DIGEST);
    expect(await builds()).to.have.length(1);

    await writeFile(join(bin, 'fail-build'), '');
    const err = await builder.buildAndPush(request({ cacheTo: 'reg.example:5000/envctl/b/cache' })).then(() => undefined, (e: unknown) => e);
    // The stand-in refuses the cache first, then fails the Dockerfile on the build without the cache: two calls, no third.
    expect(err).to.be.instanceOf(BuildFailed);
    expect((err as BuildFailed).trouble).to.equal('build');
    expect(await builds()).to.have.length(3);

    await removeDir(join(bin, 'docker-driver'));
    const again = await builder.buildAndPush(request({ cacheTo: 'reg.example:5000/envctl/b/cache' })).then(() => undefined, (e: unknown) => e);
    expect(again).to.be.instanceOf(BuildFailed);
    expect(await builds(), 'a build failure that is not about the cache runs once').to.have.length(4);
  });
});
