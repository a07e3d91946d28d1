/**
 * The SBOM beside its image, against an OCI registry stand-in: with the
 * referrers API (found through it, no tag needed) and without it, as
 * Distribution 2.8 answers (tagged sha256-<hex>.sbom, found by the tag).
 */
import { expect } from 'chai';
import { buildSbom, packagesFromSbom } from '../src/packages/sbom.js';
import { EMPTY_CONFIG, findSbom, pushSbom, sbomTag } from '../src/registry/sbom.js';
import { RegistryError } from '../src/registry/client.js';
import { readImagePackages } from '../src/registry/layers.js';
import { checkBuild } from '../src/ledger/results.js';
import { makeTar, OciRegistry, sha256 } from './fixtures/oci-registry.js';

const access = { insecure: [] };
const DPKG = 'Package: curl\nStatus: install ok installed\nArchitecture: amd64\nVersion: 7.88.1\n';

describe('SBOM: pushed as an OCI artifact beside the image, and found again', () => {
  for (const referrers of [true, false]) {
    describe(referrers ? 'a registry with the referrers API' : 'a registry without it (Distribution 2.8)', () => {
      let registry: OciRegistry;
      before(async () => {
        registry = new OciRegistry();
        registry.referrers = referrers;
        await registry.start();
      });
      after(() => registry.stop());

      it(`pushes the artifact (empty config, one CycloneDX layer, subject the image)${referrers ? '' : ' and tags it sha256-<hex>.sbom'}; finds it ${referrers ? 'through the referrers API' : 'by that tag'}`, async () => {
        registry.image('envctl/a', '1', [await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG }])]);
        const read = (await readImagePackages(`${registry.address}/envctl/a:1`, { access, platform: 'linux/amd64' }))!;
        const text = buildSbom(read.packages, { image: `${registry.address}/envctl/a`, digest: read.subject.digest, timestamp: '2026-01-01T00:00:00.000Z' });
        const pushed = await pushSbom(`${registry.address}/envctl/a`, read.subject, text, access, { created: '2026-01-01T00:00:00Z' });
        expect(pushed.referrers).to.equal(referrers);
        expect(pushed.tag).to.equal(referrers ? undefined : `sha256-${read.subject.digest.slice(7)}.sbom`);
        expect(sbomTag(read.subject.digest)).to.equal(`sha256-${read.subject.digest.slice(7)}.sbom`);
        expect(registry.tags.has(`envctl/a:${sbomTag(read.subject.digest)}`)).to.equal(!referrers);

        const manifest = JSON.parse(registry.manifests.get(`envctl/a@${pushed.digest}`)!.bytes.toString('utf8')) as Record<string, unknown>;
        expect(manifest).to.deep.include({
          schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', artifactType: 'application/vnd.cyclonedx+json',
          config: EMPTY_CONFIG, subject: read.subject,
        });
        expect(manifest.layers).to.deep.equal([{
          mediaType: 'application/vnd.cyclonedx+json', digest: sha256(text), size: Buffer.byteLength(text), annotations: { 'org.opencontainers.image.title': 'sbom.cdx.json' },
        }]);
        expect(registry.blobs.get(EMPTY_CONFIG.digest)!.toString()).to.equal('{}');

        const found = await findSbom(`${registry.address}/envctl/a`, read.subject.digest, access);
        expect(found).to.deep.include({ digest: pushed.digest, via: referrers ? 'referrers' : 'tag', text });
        expect(packagesFromSbom(found!.text)!.map((p) => `${p.name} ${p.version}`)).to.deep.equal(['curl 7.88.1']);
        const asked = registry.requests.filter((r) => r.path.includes('/referrers/'));
        expect(asked.length).to.be.greaterThan(0);
      });

      it('a second push of the same blobs uploads nothing again; an image without an SBOM has none', async () => {
        const subject = registry.image('envctl/b', '1', [await makeTar([{ name: 'var/lib/dpkg/status', text: DPKG }])]);
        expect(await findSbom(`${registry.address}/envctl/b`, subject.digest, access)).to.equal(undefined);
        await pushSbom(`${registry.address}/envctl/b`, subject, '{"bomFormat":"CycloneDX"}', access);
        const uploads = registry.requests.filter((r) => r.method === 'POST').length;
        await pushSbom(`${registry.address}/envctl/b`, subject, '{"bomFormat":"CycloneDX"}', access);
        expect(registry.requests.filter((r) => r.method === 'POST').length).to.equal(uploads);
      });

      if (referrers) {
        it('of several SBOMs of one image the referrers API lists, the newest by its created annotation', async () => {
          const subject = registry.image('envctl/c', '1', [await makeTar([])]);
          const older = await pushSbom(`${registry.address}/envctl/c`, subject, '{"n":1}', access, { created: '2026-01-01T00:00:00Z' });
          const newer = await pushSbom(`${registry.address}/envctl/c`, subject, '{"n":2}', access, { created: '2026-02-01T00:00:00Z' });
          expect(older.digest).to.not.equal(newer.digest);
          expect((await findSbom(`${registry.address}/envctl/c`, subject.digest, access))?.text).to.equal('{"n":2}');
        });

        it('a registry that lists referrers without answering OCI-Subject is asked, and needs no tag either', async () => {
          registry.subjectHeader = false;
          try {
            const subject = registry.image('envctl/e', '1', [await makeTar([])]);
            const pushed = await pushSbom(`${registry.address}/envctl/e`, subject, '{}', access);
            expect(pushed.referrers).to.equal(true);
            expect(pushed).to.not.have.property('tag');
            expect([...registry.tags.keys()].filter((k) => k.startsWith('envctl/e:'))).to.deep.equal(['envctl/e:1']);
          } finally {
            registry.subjectHeader = true;
          }
        });
      } else {
        it('a tag of the scheme whose manifest is about another image is not taken for this one\'s SBOM', async () => {
          const one = registry.image('envctl/d', '1', [await makeTar([])]);
          const two = registry.image('envctl/d', '2', [await makeTar([{ name: 'x', text: 'y' }])]);
          await pushSbom(`${registry.address}/envctl/d`, two, '{}', access);
          registry.tags.set(`envctl/d:${sbomTag(one.digest)}`, registry.tags.get(`envctl/d:${sbomTag(two.digest)}`)!);
          expect(await findSbom(`${registry.address}/envctl/d`, one.digest, access)).to.equal(undefined);
        });
      }
    });
  }

  it('a registry that cannot be reached is registry-unreachable', async () => {
    const err = await pushSbom('127.0.0.1:1/envctl/a', EMPTY_CONFIG, '{}', access).catch((e: unknown) => e);
    expect(err).to.be.instanceOf(RegistryError);
    expect((err as RegistryError).code).to.equal('registry-unreachable');
  });
});

describe('SBOM: in build records carried between CI jobs', () => {
  const DIGEST = `sha256:${'a'.repeat(64)}`;
  const entry = (sbom: unknown) => ({
    environment: 'a',
    record: { id: '1-x', revision: 1, commit: 'c'.repeat(40), contentKey: DIGEST, status: 'succeeded', startedAt: '2026-01-01T00:00:00.000Z', endedAt: '2026-01-01T00:00:01.000Z', digest: DIGEST, sbom },
  });

  it('a record\'s sbom (artifact digest, counts per ecosystem) is kept as it is; one without stays without', () => {
    const ok = checkBuild(entry({ digest: DIGEST, packages: { deb: 90, pypi: 3 }, extra: 'dropped' }), true);
    expect(ok).to.not.be.a('string');
    expect((ok as { record: { sbom?: unknown } }).record.sbom).to.deep.equal({ digest: DIGEST, packages: { deb: 90, pypi: 3 } });
    const none = checkBuild({ ...entry(undefined) }, true);
    expect((none as { record: object }).record).to.not.have.property('sbom');
  });

  it('a malformed sbom refuses the entry, saying why', () => {
    for (const [sbom, why] of [
      ['x', 'sbom is not an object'], [{ digest: 'sha256:1', packages: {} }, 'sbom digest'], [{ digest: DIGEST }, 'sbom packages is not an object'],
      [{ digest: DIGEST, packages: { deb: -1 } }, 'is not a count'], [{ digest: DIGEST, packages: { __proto__x: 1 } }, 'which is not an ecosystem'],
      [{ digest: DIGEST, packages: { 'Deb\u001b': 1 } }, 'which is not an ecosystem'],
    ] as [unknown, string][]) {
      expect(checkBuild(entry(sbom), true)).to.be.a('string').that.contains(why);
    }
  });
});
