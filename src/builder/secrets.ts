/**
 * Build secrets reach the builder as files: each value, read from the
 * caller's environment at build time, is written (0600) into the build's
 * private temporary folder (mkdtemp: 0700, outside the build context) and
 * passed as `--secret id=ID,src=FILE`, which buildah 1.28 and docker buildx
 * both take. So the builder's environment (run.ts builderEnv) never carries
 * a value, no value is in its arguments (which the log prints), and the
 * folder is removed after the build. What the builder prints is masked.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { EnvctlError } from '../model/errors.js';

export interface BuildSecret {
  id: string;
  /** The variable of envctl's environment holding the value. */
  env: string;
}

/**
 * A build secret's variable is unset or empty (GitHub Actions gives "" for a
 * secret a workflow cannot see). External, code `build-secret-missing`: the
 * next sync, given the variable, tries again. The value is never named.
 */
export class BuildSecretMissing extends EnvctlError {
  constructor(environment: string, secret: BuildSecret) {
    super('external', 'build-secret-missing',
      `the build secret "${secret.id}" of ${environment} is read from the variable ${secret.env}, which is not set (or empty) in envctl sync's environment; pass it to the sync job (in GitHub Actions: env: { ${secret.env}: \${{ secrets.${secret.env} }} })`,
      { host: 'envctl sync', data: { environment, secret: secret.id, variable: secret.env } });
  }
}

/** Every secret's variable is set and not empty; throws BuildSecretMissing for the first that is not. */
export function requireSecrets(environment: string, secrets: readonly BuildSecret[], from: NodeJS.ProcessEnv = process.env): void {
  for (const s of secrets) if (!from[s.env]) throw new BuildSecretMissing(environment, s);
}

export interface SecretFile {
  id: string;
  file: string;
}

/** Writes each value into `dir` (the build's private folder), files named by position, never by id. */
export async function writeSecretFiles(dir: string, environment: string, secrets: readonly BuildSecret[], from: NodeJS.ProcessEnv = process.env): Promise<{ files: SecretFile[]; values: string[] }> {
  requireSecrets(environment, secrets, from);
  const files: SecretFile[] = [];
  const values: string[] = [];
  for (const [i, s] of secrets.entries()) {
    const file = join(dir, `secret-${i}`);
    await writeFile(file, from[s.env]!, { mode: 0o600 });
    files.push({ id: s.id, file });
    values.push(from[s.env]!);
  }
  return { files, values };
}

/**
 * `--secret id=ID,src=FILE` for each. Both builders split the value at
 * commas, so an id (checked: `[A-Za-z0-9_.-]+`) or path holding one (or a
 * quote or `=` in the path) is refused rather than passed on.
 */
export function secretArgs(files: readonly SecretFile[]): string[] {
  return files.flatMap(({ id, file }) => {
    if (!/^[A-Za-z0-9_.-]+$/.test(id) || /[,"'=\s]/.test(file)) {
      throw new EnvctlError('internal', 'build-secret-path', `the build secret "${id}" cannot be passed to the builder from ${file} (a comma, quote, "=" or space in it)`);
    }
    return ['--secret', `id=${id},src=${file}`];
  });
}

/** Replaces every secret value (and each line of a multi-line one) with `***`, as GitHub Actions masks secrets. */
export function masker(values: readonly string[]): (text: string) => string {
  const parts = [...new Set(values.flatMap((v) => [v, ...v.split(/\r?\n/).map((l) => l.trim()).filter((l) => l.length >= 4)]))]
    .filter((v) => v.length > 0)
    .sort((a, b) => b.length - a.length);
  if (parts.length === 0) return (text) => text;
  return (text) => parts.reduce((t, v) => t.split(v).join('***'), text);
}
