import { ECOSYSTEMS, type InstalledPackage } from '../packages/index.js';
import { printable } from '../model/text.js';
import { plural } from '../model/words.js';
import { revisionsFor } from '../repository/history.js';
import { openRepository } from '../repository/index.js';
import { revisionPackages, type RevisionPackages } from '../repository/packages.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { parseNameAtRevision, pickRevision } from './pick.js';

export const packages: Command = {
  name: 'packages',
  summary: "the packages inside an environment's built image (Debian, Alpine, pip, conda, R)",
  usage: `envctl packages <name>[@<revision>] [--json]

Lists the packages installed in the image of the environment's active
revision (or of the revision given: a number or "latest", which must have
been built), grouped by ecosystem (deb, apk, pypi, conda, cran), with name,
version and architecture. The image is the one the ledger records, by
digest; its packages are read from the SBOM sync pushed beside it (a
CycloneDX document, tagged sha256-<hex>.sbom where the registry has no
referrers API), else from the image's layers in the registry.
  --json   print it as data: environment, revision, image, platform, source
           (sbom or layers), counts and packages
Exit 0; 2 when the environment or revision has no built image.`,
  options: { ...COMMON, json: { type: 'boolean' } },
  async run(args, io) {
    const [arg, ...extra] = args.positionals;
    if (arg === undefined || extra.length > 0) throw new UsageError('name one environment, or <name>@<revision>');
    const repo = await openRepository(repoDir(args, io), io.env);
    let name = arg;
    let revision: number | 'active' = 'active';
    if (arg.includes('@')) {
      const parsed = parseNameAtRevision(arg);
      name = parsed.name;
      revision = pickRevision(await revisionsFor(repo, name), name, parsed.rev).number;
    }
    const result = await revisionPackages(repo, name, revision);
    if (args.values.json) {
      io.out(JSON.stringify(result, null, 2));
      return 0;
    }
    io.out(packageTable(result));
    return 0;
  },
};

/** A heading naming the image and where its list came from, then a table per ecosystem: name, version, architecture. */
export function packageTable(r: RevisionPackages): string {
  const from = r.source === 'sbom' ? `its SBOM ${r.sbom}` : 'its layers';
  const lines = [`${printable(r.environment)}@${r.revision}: ${printable(r.image)}, ${plural(r.packages.length, 'package')} (read from ${printable(from)})`];
  for (const ecosystem of ECOSYSTEMS) {
    const rows = r.packages.filter((p) => p.ecosystem === ecosystem);
    if (rows.length === 0) continue;
    // pip's, R's (and often conda's) packages have no architecture: no empty column for them.
    const arch = rows.some((p) => p.arch !== undefined);
    const cells = rows.map((p: InstalledPackage) => (arch ? [p.name, p.version, p.arch ?? ''] : [p.name, p.version]));
    lines.push('', `${ecosystem} (${rows.length})`, ...table(arch ? ['NAME', 'VERSION', 'ARCH'] : ['NAME', 'VERSION'], cells));
  }
  return lines.join('\n');
}

/** Rows of values (printable each: they come from the image), columns padded, indented two spaces. */
export function table(head: string[], rows: string[][]): string[] {
  const cells = rows.map((row) => row.map(printable));
  const widths = head.map((h, i) => Math.max(h.length, ...cells.map((row) => row[i]!.length)));
  return [head, ...cells].map((row) => `  ${row.map((c, i) => (i === row.length - 1 ? c : c.padEnd(widths[i]!))).join('  ')}`.trimEnd());
}
