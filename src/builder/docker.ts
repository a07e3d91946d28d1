/**
 * docker buildx, for hosted CI runners that have a Docker engine: one
 * `buildx build` that builds and pushes, the pushed digest read from
 * `--metadata-file`. Provenance attestations are off so the digest is the
 * image manifest's, which is what children build FROM.
 */
import { execa } from 'execa';
import { copyFile, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runLogged } from './run.js';
import { BuilderUnavailable, BuildFailed, type BuildRequest, type Builder } from './types.js';

export async function dockerBuildxVersion(): Promise<string> {
  const result = await execa('docker', ['buildx', 'version'], { reject: false });
  if (result.exitCode !== 0) {
    const why = `${result.stderr ?? ''}`.trim().split('\n')[0] || result.shortMessage;
    throw new BuilderUnavailable(`docker buildx is not available (${why}); install the buildx plugin, or use builder: buildah in envctl.yaml`);
  }
  const version = /\sv?(\d+\.\d+\.\d+\S*)/.exec(result.stdout)?.[1] ?? result.stdout.trim();
  return `docker buildx ${version}`;
}

export async function dockerBuildx(): Promise<Builder> {
  return { version: await dockerBuildxVersion(), buildAndPush };
}

export function dockerBuildxArgs(req: BuildRequest, metadataFile: string): string[] {
  const output = ['type=image', `name=${req.tag}`, 'push=true', ...(req.insecure ? ['registry.insecure=true'] : [])].join(',');
  return [
    'buildx', 'build', '--progress=plain', '--provenance=false', '--platform', req.platform,
    '--file', req.dockerfile, '--output', output, '--metadata-file', metadataFile,
    ...(req.noCache ? ['--no-cache'] : []), req.contextDir,
  ];
}

async function buildAndPush(req: BuildRequest): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'envctl-buildx-'));
  try {
    const metadata = join(dir, 'metadata.json');
    const env: Record<string, string> = {};
    if (req.authFile) {
      // docker reads logins from $DOCKER_CONFIG/config.json, the same shape as a containers auth.json.
      await copyFile(req.authFile, join(dir, 'config.json'));
      env.DOCKER_CONFIG = dir;
    }
    await runLogged('docker', dockerBuildxArgs(req, metadata), { logFile: req.logFile, stage: 'build', env, ...(req.signal ? { signal: req.signal } : {}) });
    const digest = (JSON.parse(await readFile(metadata, 'utf8')) as Record<string, unknown>)['containerimage.digest'];
    if (typeof digest !== 'string') throw new BuildFailed('docker', 'push failed: docker buildx reported no image digest', '', 'push');
    return digest;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}
