import { makeBase } from '../builder/base.js';
import { openRepository } from '../repository/index.js';
import { ensureEmbeddedRegistry } from '../registry/embedded.js';
import { registryAccess } from '../registry/client.js';
import { resolveDigest } from '../registry/tag.js';
import { COMMON, repoDir, UsageError, type Command } from './command.js';

export const base: Command = {
  name: 'base',
  summary: 'make the deployment default image with debootstrap when the registry lacks it',
  usage: `envctl base [--force]

When the registry has no defaultBase.image (envctl.yaml), makes it: a Debian
root by debootstrap (suite, variant and mirror from defaultBase.debootstrap;
mirror "system" is the one this machine's apt uses), committed with buildah
and pushed. --force makes it even when it exists.`,
  options: { ...COMMON, force: { type: 'boolean' } },
  async run(args, io) {
    if (args.positionals.length > 0) throw new UsageError('base takes no arguments');
    const root = repoDir(args, io);
    const { config } = await openRepository(root, io.env);
    const registry = config.registry.embedded ? await ensureEmbeddedRegistry(root, config.registry.embeddedPort) : undefined;
    try {
      const existing = await resolveDigest(config.defaultBase.image, registryAccess(config));
      if (existing && !args.values.force) {
        io.out(`${config.defaultBase.image}@${existing} exists`);
        return 0;
      }
      const made = await makeBase(root, config, (line) => io.err(line));
      io.out(`${made.image}@${made.digest}`);
      return 0;
    } finally {
      await registry?.stop();
    }
  },
};
