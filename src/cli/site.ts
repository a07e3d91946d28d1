import { resolve } from 'node:path';
import { writeSite } from '../repository/site.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { plural } from '../model/words.js';
import { printable } from '../model/text.js';

export const site: Command = {
  name: 'site',
  summary: 'write the catalog: a static site of environments, revisions and builds',
  usage: `envctl site --out DIR [--packages]

Writes plain HTML, CSS and a little JavaScript into DIR (replaced whole once
complete): an index of every environment (filter by text and build status;
archived ones on request), a page per environment (overview, revisions with
build status, image by digest and log, projects using it, the active and
latest Dockerfiles and their diff, a chart of build time and image size),
and a graph of what is built on what. Nothing is loaded from elsewhere;
pages work from file:// and from GitHub Pages. Each revision's Packages tab
shows the counts the ledger keeps; with --packages it lists every package
(and the change from the revision before), read from the SBOM beside each
image in the registry, else from its layers (registry trouble is a warning).
  --packages  read each built image's packages from the registry`,
  options: { ...COMMON, out: { type: 'string', short: 'o' }, packages: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('site takes no arguments');
    if (typeof args.values.out !== 'string') throw new UsageError('name the folder to write with --out DIR');
    const root = repoDir(args, io);
    const out = resolve(io.cwd, args.values.out);
    const written = await writeSite(root, out, { registryPackages: args.values.packages === true });
    for (const w of written.warnings) io.err(`warning: ${printable(w)}`);
    io.err(`wrote ${written.pages} pages for ${plural(written.environments, 'environment')} to ${printable(out)}`);
    return 0;
  },
};
