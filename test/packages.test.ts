/** Package metadata of every ecosystem → records, the whiteout-aware merge, diffs and the CycloneDX SBOM (validated against the library's bundled schema). */
import { expect } from 'chai';
import { classify, diffPackages, mergeLayers, metadataKind, packagesOf, packagesOfLayers, type LayerEntry } from '../src/packages/index.js';
import { buildSbom, osId, packagesFromSbom, purlOf } from '../src/packages/sbom.js';
import { cyclonedxValidator } from './fixtures/cyclonedx.js';

const DPKG = `Package: curl
Status: install ok installed
Architecture: amd64
Version: 7.88.1-10+deb12u5
Description: command line tool
 with a continuation line

Package: removed-one
Status: deinstall ok config-files
Version: 1.0

Package: libc6
Status: install ok installed
Architecture: amd64
Version: 2.36-9
`;
const METADATA = (name: string, version: string) => `Metadata-Version: 2.1\nName: ${name}\nVersion: ${version}\nSummary: x\n\nName: not-this\n`;
const file = (path: string, text: string): LayerEntry => ({ path, kind: 'file', text });
const entry = (name: string, text = ''): LayerEntry => ({ ...classify(name, 'file')!, text });

describe('packages: metadata parsers', () => {
  it('reads dpkg status (installed only), status.d, apk, dist-info, egg-info, conda-meta and R DESCRIPTION files', () => {
    const files = new Map([
      ['var/lib/dpkg/status', DPKG],
      ['var/lib/dpkg/status.d/tzdata', 'Package: tzdata\nVersion: 2024a-0\nArchitecture: all\n'],
      ['var/lib/dpkg/status.d/tzdata.md5sums', 'Package: nope\nVersion: 1\n'],
      ['lib/apk/db/installed', 'C:Q1x\nP:musl\nV:1.2.4-r2\nA:x86_64\n\nP:busybox\nV:1.36.1-r5\nA:x86_64\n'],
      ['usr/lib/python3/dist-packages/numpy-1.26.4.dist-info/METADATA', METADATA('numpy', '1.26.4')],
      ['opt/conda/lib/python3.11/site-packages/old_thing-0.1.egg-info/PKG-INFO', METADATA('Old_Thing', '0.1')],
      ['opt/conda/conda-meta/pandas-2.2.1-py311_0.json', JSON.stringify({ name: 'pandas', version: '2.2.1', subdir: 'linux-64', files: [] })],
      ['opt/conda/conda-meta/history', 'not json'],
      ['usr/local/lib/R/site-library/ggplot2/DESCRIPTION', 'Package: ggplot2\nVersion: 3.5.1\nBuilt: R 4.3.2\n'],
      ['usr/lib/R/library/ggplot2/DESCRIPTION', 'Package: ggplot2\nVersion: 3.4.0\n'],
      ['home/user/project/DESCRIPTION', 'Package: notinstalled\nVersion: 1\n'],
    ]);
    expect(packagesOf(files).map((p) => [p.ecosystem, p.name, p.version, p.arch ?? ''])).to.deep.equal([
      ['deb', 'curl', '7.88.1-10+deb12u5', 'amd64'], ['deb', 'libc6', '2.36-9', 'amd64'], ['deb', 'tzdata', '2024a-0', 'all'],
      ['apk', 'busybox', '1.36.1-r5', 'x86_64'], ['apk', 'musl', '1.2.4-r2', 'x86_64'],
      ['pypi', 'Old_Thing', '0.1', ''], ['pypi', 'numpy', '1.26.4', ''],
      ['conda', 'pandas', '2.2.1', 'linux-64'],
      ['cran', 'ggplot2', '3.4.0', ''], ['cran', 'ggplot2', '3.5.1', ''],
    ]);
  });

  it('leaves out records without a name or version, and metadata files that are not', () => {
    expect(packagesOf(new Map([['var/lib/dpkg/status', 'Package: x\nStatus: install ok installed\n\n\u0000garbage']]))).to.deep.equal([]);
    expect(metadataKind('etc/passwd')).to.equal(undefined);
    expect(metadataKind('x/conda-meta/sub/a.json')).to.equal(undefined);
  });
});

describe('packages: the whiteout-aware merge of layers', () => {
  const pip = (n: string) => `usr/lib/python3/dist-packages/${n}-1.0.dist-info/METADATA`;
  it('a whiteout of a dist-info folder removes its package; an upper file replaces a lower one', () => {
    const lower = [entry(pip('a'), METADATA('a', '1.0')), entry(pip('b'), METADATA('b', '1.0')), entry('var/lib/dpkg/status', DPKG)];
    const upper = [entry('usr/lib/python3/dist-packages/.wh.b-1.0.dist-info'), entry('var/lib/dpkg/status', 'Package: curl\nStatus: install ok installed\nVersion: 8\n')];
    expect(packagesOfLayers([lower, upper]).map((p) => `${p.name} ${p.version}`)).to.deep.equal(['curl 8', 'a 1.0']);
  });

  it('an opaque directory hides everything lower layers had in it, not what its own layer adds', () => {
    const lower = [entry(pip('a'), METADATA('a', '1.0')), entry(pip('b'), METADATA('b', '1.0'))];
    const upper = [entry(pip('c'), METADATA('c', '1.0')), entry('usr/lib/python3/dist-packages/.wh..wh..opq')];
    expect(packagesOfLayers([lower, upper]).map((p) => p.name)).to.deep.equal(['c']);
  });

  it('a whiteout hides only lower layers: the same layer may re-add the file', () => {
    expect([...mergeLayers([[file('a/x', '1')], [entry('a/.wh.x'), file('a/x', '2')]])]).to.deep.equal([['a/x', '2']]);
  });

  it('paths climbing out of the root are refused, ./ and // are cleaned', () => {
    expect(classify('../../etc/x', 'file')).to.equal(undefined);
    expect(classify('./a//b/.wh.c', 'file')).to.deep.equal({ path: 'a/b/c', kind: 'whiteout' });
  });
});

describe('packages: diff', () => {
  it('added, removed and changed per ecosystem, pip names compared normalised', () => {
    const p = (ecosystem: 'deb' | 'pypi', name: string, version: string) => ({ ecosystem, name, version, path: '' });
    const d = diffPackages(
      [p('deb', 'curl', '1'), p('deb', 'git', '2'), p('pypi', 'Scikit_Learn', '1.4'), p('pypi', 'six', '1')],
      [p('deb', 'curl', '1'), p('deb', 'git', '3'), p('deb', 'jq', '1.6'), p('pypi', 'scikit-learn', '1.5')],
    );
    expect(d).to.deep.equal([
      { ecosystem: 'deb', added: [{ name: 'jq', version: '1.6' }], removed: [], changed: [{ name: 'git', from: '2', to: '3' }] },
      { ecosystem: 'pypi', added: [], removed: [{ name: 'six', version: '1' }], changed: [{ name: 'scikit-learn', from: '1.4', to: '1.5' }] },
    ]);
  });
});

describe('packages: CycloneDX SBOM', () => {
  const packages = packagesOf(new Map([
    ['var/lib/dpkg/status', DPKG],
    ['usr/lib/python3/dist-packages/scikit_learn-1.5.0.dist-info/METADATA', METADATA('scikit_learn', '1.5.0')],
    ['opt/conda/conda-meta/numpy.json', JSON.stringify({ name: 'numpy', version: '1.26.4', subdir: 'linux-64' })],
    ['usr/lib/R/site-library/ggplot2/DESCRIPTION', 'Package: ggplot2\nVersion: 3.5.1\n'],
    ['a/site-packages/weird-1.dist-info/METADATA', METADATA('we ird@/?#', '1 "\u001b[31m')],
  ]));
  const text = buildSbom(packages, { image: '127.0.0.1:5000/envctl/a', digest: `sha256:${'a'.repeat(64)}`, distro: 'ubuntu', timestamp: '2026-01-01T00:00:00.000Z' });

  it('validates against the CycloneDX 1.6 JSON schema the library ships', () => {
    const validate = cyclonedxValidator();
    const ok = validate(JSON.parse(text));
    expect(validate.errors ?? [], JSON.stringify(validate.errors)).to.deep.equal([]);
    expect(ok).to.equal(true);
  });

  it('names every package by its package URL, encoded', () => {
    const purls = (JSON.parse(text) as { components: { purl: string }[] }).components.map((c) => c.purl).sort();
    expect(purls).to.deep.equal([
      'pkg:conda/numpy@1.26.4?subdir=linux-64', 'pkg:cran/ggplot2@3.5.1',
      'pkg:deb/ubuntu/curl@7.88.1-10%2Bdeb12u5?arch=amd64', 'pkg:deb/ubuntu/libc6@2.36-9?arch=amd64',
      'pkg:pypi/scikit-learn@1.5.0', 'pkg:pypi/we%20ird%40%2F%3F%23@1%20%22%1B%5B31m',
    ]);
    expect(purlOf({ ecosystem: 'deb', name: 'x', version: '1', path: '' })).to.equal('pkg:deb/debian/x@1');
  });

  it('reads back to the same packages; something that is not an SBOM reads as undefined', () => {
    expect(packagesFromSbom(text)).to.deep.equal(packages);
    expect(packagesFromSbom('{"bomFormat":"SPDX"}')).to.equal(undefined);
    expect(packagesFromSbom('nope')).to.equal(undefined);
  });

  it('reads the distribution from os-release', () => {
    expect(osId('NAME="Ubuntu"\nID=ubuntu\nID_LIKE=debian\n')).to.equal('ubuntu');
    expect(osId('ID="debian"\n')).to.equal('debian');
  });
});
