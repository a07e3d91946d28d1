import { isEnvctlError } from '../model/errors.js';
import { printable } from '../model/text.js';
import { importFromProduct, type ImportEvent } from '../repository/import.js';
import { openRepository } from '../repository/index.js';
import { COMMON, repoDir, UsageError, type Command, type Io } from './command.js';

export const DEFAULT_TOKEN_ENV = 'DOMINO_API_KEY';

export const importCommand: Command = {
  name: 'import',
  summary: 'import environments and their revisions from the hosted product, one commit per revision',
  usage: `envctl import --url URL [--token-env VAR] [--environment ID]… [--dry-run]

Reads the product's environments (every one the API key may see, or those
named with --environment, with the environments they are built on) and
commits each of their revisions onto the current branch, oldest first, with
the revision's author, time and summary: envctl revisions then numbers them
as the product did. Bases come before the environments built on them.
Secret variables are written by name only. A revision that cannot be read is
committed as the content before it with a comment naming it, and reported.
Run it again to import what is new since; a run that stopped continues.
  --url URL         the product's address, e.g. https://domino.example.com
  --token-env VAR   the variable holding the API key (default ${DEFAULT_TOKEN_ENV})
  --environment ID  a product environment id (repeatable)
  --dry-run         print what would be written and committed; write nothing
Exit 0, 1 when the product or the repository refuses, 2 for a usage error.`,
  options: {
    ...COMMON,
    url: { type: 'string' },
    'token-env': { type: 'string' },
    environment: { type: 'string', multiple: true },
    'dry-run': { type: 'boolean' },
  },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('import takes no arguments; name environments with --environment ID');
    const url = productUrl(args.values.url);
    const tokenEnv = typeof args.values['token-env'] === 'string' ? args.values['token-env'] : DEFAULT_TOKEN_ENV;
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(tokenEnv)) throw new UsageError(`--token-env ${printable(tokenEnv)}: not a variable name`);
    const token = io.env[tokenEnv];
    if (token === undefined || token === '') throw new UsageError(`no API key: set ${tokenEnv} (or name another variable with --token-env)`);
    const ids = (args.values.environment as string[] | undefined) ?? [];
    for (const id of ids) if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$/.test(id)) throw new UsageError(`--environment ${printable(id)}: not a product environment id`);
    const dryRun = args.values['dry-run'] === true;
    const repo = await openRepository(repoDir(args, io), io.env);
    try {
      const result = await importFromProduct(repo, { url, token, ...(ids.length ? { environments: ids } : {}), dryRun, onEvent: (e) => print(e, io, dryRun) });
      if (result.revisions === 0) io.out('up to date: the product has no revision that is not imported');
      else {
        const gaps = result.gaps ? `, ${result.gaps} of them unreadable (gaps, named above)` : '';
        io.out(`${dryRun ? 'would import' : 'imported'} ${result.revisions} revision${result.revisions === 1 ? '' : 's'} of ${printable(result.environments.join(', '))}${gaps}${dryRun ? '; nothing written' : ''}`);
      }
      return 0;
    } catch (err) {
      // The repository's refusal (detached HEAD, uncommitted changes): the command line was right, exit 1.
      if (isEnvctlError(err) && err.code === 'import-refused') {
        io.err(`envctl import: ${printable(err.message)}`);
        return 1;
      }
      throw err;
    }
  },
};

function productUrl(value: unknown): string {
  if (typeof value !== 'string') throw new UsageError('--url URL is required: the product\'s address');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new UsageError(`--url ${printable(value)}: not a URL`);
  }
  if ((url.protocol !== 'https:' && url.protocol !== 'http:') || url.username || url.password || url.search || url.hash) {
    throw new UsageError(`--url ${printable(value)}: give the product's http(s) address without credentials, query or fragment`);
  }
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

function print(e: ImportEvent, io: Io, dryRun: boolean): void {
  const id = (c?: string) => (c ? c.slice(0, 7) : dryRun ? 'would commit' : '');
  switch (e.kind) {
    case 'version':
      io.err(`product version ${printable(e.version)}`);
      return;
    case 'note':
      io.err(`note: ${printable(e.text)}`);
      return;
    case 'name':
      io.out(`note: product environment ${printable(e.id)} is imported as ${e.name}: ${e.collided} is taken`);
      return;
    case 'revision':
      io.out(`${id(e.commit)} ${e.name} revision ${e.number}: ${printable(e.summary)} (${printable(e.author)}, ${e.date})`);
      if (dryRun) io.out(`  writes ${printable(e.files.join(', ') || 'nothing new')}${e.removed.length ? `; removes ${printable(e.removed.join(', '))}` : ''}`);
      for (const n of e.notes) io.out(`  note: ${printable(n)}`);
      return;
    case 'gap':
      io.out(`${id(e.commit)} ${e.name} revision ${e.number}: GAP, could not be read (${printable(e.reason)}); committed with the content before it so numbers match`);
      return;
  }
}
