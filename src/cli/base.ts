import { ensureBase } from '../builder/base.js';
import { openRepository } from '../repository/index.js';
import { ensureEmbeddedRegistry } from '../registry/embedded.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';
import { printable } from '../model/text.js';

export const base: Command = {
  name: 'base',
  summary: 'make the deployment default image with debootstrap when the registry lacks it',
  usage: `envctl base [--force]

When the registry answers that it has no defaultBase.image (envctl.yaml), makes it: a Debian
root by debootstrap (suite, variant and mirror from defaultBase.debootstrap;
mirror "system" is the one this machine's apt uses), committed with buildah
and pushed. --force makes it even when it exists. A registry that cannot be
reached (or refuses the login) is an error: nothing is made.`,
  options: { ...COMMON, force: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('base takes no arguments');
    const root = repoDir(args, io);
    const { config } = await openRepository(root, io.env);
    const registry = config.registry.embedded ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort) : undefined;
    try {
      // A registry that cannot be asked fails the command (exit 1, naming it): nothing is made over an image that may exist.
      const base = await ensureBase(root, config, { force: args.values.force === true, log: (line) => io.err(printable(line)) });
      const image = printable(`${base.image}@${base.digest}`);
      io.out(base.made ? image : `${image} exists`);
      return 0;
    } finally {
      await registry?.stop();
    }
  },
};
