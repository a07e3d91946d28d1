/**
 * The shipped python-datascience image (built here by envctl sync on the
 * lab's Debian base): reading its packages as a sync does right after its
 * build (from local storage, unpacked, and its manifest from the registry:
 * builder/image-files.ts), against the bare download of its layers from the
 * same local registry, three at once, sampled alternately. The note gives
 * the registry reader's ratio too (what `envctl packages` and docker
 * buildx builds use), and the download gunzipped alone.
 */
import { localImagePackages } from '../src/builder/image-files.js';
import { readImageManifest, readImagePackages } from '../src/registry/layers.js';
import type { RegistryAccess } from '../src/registry/client.js';
import { shippedSet, type Lab, type Result } from './builds.js';
import { commitFiles, dropStorage, envctl, expectOk, git, lastRecords, makeStorage, MiB, removeTree, tempFolder, withStorageEnv } from './lab.js';
import { download } from './packages.js';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

const access: RegistryAccess = { insecure: [] };
const platform = 'linux/amd64';
const ENVIRONMENT = 'python-datascience';

export async function shippedPackagesBench(lab: Lab): Promise<Result> {
  const dir = await tempFolder('envctl-bench-shipped-packages-');
  const repo = join(dir, 'repo');
  const store = await makeStorage(join(dir, 'storage'), lab.driver);
  try {
    await mkdir(repo, { recursive: true });
    await git(repo, 'init', '-q', '-b', 'main');
    const files = shippedSet(lab, repo);
    await git(repo, 'add', '--', 'environments');
    await commitFiles(repo, { ...files, '.gitignore': '.envctl/\n' }, 'environments');
    const built = expectOk(await envctl(repo, ['sync', '--only', ENVIRONMENT], store.env), `envctl sync --only ${ENVIRONMENT}`);
    const record = (await lastRecords(repo)).get(ENVIRONMENT);
    if (record?.status !== 'succeeded' || !record.digest || !record.image) throw new Error(`bench: ${ENVIRONMENT} did not build`);
    const tag = record.image;
    const ref = `${tag.replace(/:[^:/]+$/, '')}@${record.digest}`;
    const [registry, ...rest] = ref.split('@')[0]!.split('/');
    const repository = rest.join('/');
    return await withStorageEnv(store, async () => {
      const manifest = (await readImageManifest(ref, { access, platform }))!;
      let found = 0;
      const afterBuild = async () => {
        const local = await localImagePackages(tag, { storage: store.driver });
        await readImageManifest(ref, { access, platform });
        found = local.packages.length;
      };
      let fromRegistry = 0;
      const registryRead = async () => { fromRegistry = (await readImagePackages(ref, { access, platform }))!.packages.length; };
      const floor = () => download(registry!, repository, manifest.layers);
      const inflate = () => download(registry!, repository, manifest.layers, true);
      const time = async (fn: () => Promise<unknown>) => {
        (globalThis as { gc?: () => void }).gc?.();
        const t = process.hrtime.bigint();
        await fn();
        return Number(process.hrtime.bigint() - t) / 1e9;
      };
      await afterBuild();
      await floor();
      const samples: number[][] = [[], [], [], []];
      for (let i = 0; i < 5; i++) {
        samples[0]!.push(await time(afterBuild));
        samples[1]!.push(await time(floor));
        samples[2]!.push(await time(registryRead));
        samples[3]!.push(await time(inflate));
      }
      if (found === 0 || found !== fromRegistry) throw new Error(`bench: local storage read ${found} packages, the registry's layers ${fromRegistry}`);
      const [a, b, c, d] = samples.map((xs) => xs.sort((x, y) => x - y)[Math.floor(xs.length / 2)]!) as [number, number, number, number];
      const size = manifest.layers.reduce((n, l) => n + l.size, 0);
      return {
        name: `read the packages of the shipped ${ENVIRONMENT} image after its build (${found} packages, ${manifest.layers.length} layers, ${(size / MiB).toFixed(0)} MiB gzipped; ${store.driver} storage)`,
        value: a, floor: b, goal: 1.5, unit: 'ms',
        note: `floor: a bare download of its layers from the local registry, three at once; from the registry's layers instead, ratio ${(c / b).toFixed(2)}; the download gunzipped alone, ${(d / b).toFixed(2)}; the sync took ${built.seconds.toFixed(0)} s`,
      } satisfies Result;
    });
  } finally {
    await dropStorage(join(dir, 'storage'), store);
    await removeTree(dir);
  }
}
