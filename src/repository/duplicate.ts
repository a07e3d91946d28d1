/**
 * `envctl duplicate`: a new environment with another's spec and files. The
 * YAML is edited as text at the parsed positions of its top-level keys, so
 * comments, order and layout stay as the source had them; the result is
 * parsed again and compared with what was meant before anything is written.
 */
import { existsSync } from 'node:fs';
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { replaceDir, writeFileAtomic } from '../files/write.js';
import { FOLDER_SPEC, NAME_PATTERN } from '../load/environments.js';
import { editSpec } from '../source/yaml-edit.js';
import { inputError, notFound } from '../model/errors.js';
import type { Repository } from './index.js';
import { updateRevisions } from '../store/revision-index.js';

/** Same as the schema's owner pattern. */
const OWNER_PATTERN = /^@?[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)?$/;

/** Fields a duplicate does not take over: it is a new, selectable environment with its own history. */
export const NOT_COPIED = ['archived', 'renamedFrom'] as const;

export interface DuplicateOptions {
  /** The new environment's owner; default the source's. */
  owner?: string;
}

export interface Duplicated {
  from: string;
  to: string;
  /** What was written, relative to the repository root: `<dir>/<to>.yaml`, or the folder `<dir>/<to>/`. */
  path: string;
  /** Files written, relative to the repository root. */
  files: string[];
  owner: string | undefined;
  /** Top-level fields of the source left out of the copy. */
  removed: string[];
  /** When the new name had revisions before (deleted since): its numbering continues after this one. */
  previousRevisions?: number;
}

export async function duplicateEnvironment(repo: Repository, from: string, to: string, opts: DuplicateOptions = {}): Promise<Duplicated> {
  const dir = repo.config.environmentsDir;
  const { loaded, problems } = await repo.sources();
  if (!NAME_PATTERN.test(to)) throw inputError('name-invalid', `"${to}" is not a valid environment name: use lowercase letters, digits and single dashes`, { data: { name: to } });
  const source = loaded.find((e) => e.name === from);
  if (!source) throw notFound('environment-unknown', `no environment "${from}" in ${dir}/`, { data: { name: from } });
  if (opts.owner !== undefined && !OWNER_PATTERN.test(opts.owner)) throw inputError('owner-invalid', `"${opts.owner}" is not an owner: an owner is a GitHub login or @org/team`, { data: { option: 'owner', owner: opts.owner } });
  const taken = [`${dir}/${to}.yaml`, `${dir}/${to}.yml`, `${dir}/${to}`].filter((p) => existsSync(join(repo.root, p)));
  if (loaded.some((e) => e.name === to) || taken.length > 0) {
    throw inputError('environment-exists', `environment "${to}" already exists (${taken[0] ?? `${dir}/${to}`}); choose another name`, { data: { name: to } });
  }
  const broken = problems.find((p) => p.file === source.file && p.severity === 'error' && (p.rule.startsWith('yaml-') || p.rule === 'encoding' || p.rule === 'file-too-large'));
  if (broken || source.data === null || typeof source.data !== 'object' || Array.isArray(source.data)) {
    throw inputError('spec-unparsable', `${source.file} does not parse as a mapping${broken ? ` (line ${broken.line}: ${broken.message})` : ''}; fix it first`, { data: { path: source.file } });
  }

  const data = source.data as Record<string, unknown>;
  const removed = NOT_COPIED.filter((k) => Object.hasOwn(data, k));
  const owner = opts.owner ?? (typeof data.owner === 'string' ? data.owner : undefined);
  // A flow mapping is refused as input (YamlEditRefused, code yaml-flow-mapping).
  const text = editSpec(source, removed, opts.owner);

  const files: string[] = [];
  let path: string;
  if (source.folder) {
    path = `${dir}/${to}/`;
    await replaceDir(join(repo.root, dir, to), async (tmp) => {
      await writeFile(join(tmp, FOLDER_SPEC), text);
      files.push(`${dir}/${to}/${FOLDER_SPEC}`);
      for (const f of source.context) {
        const rel = f.path.slice(source.folder!.length + 1);
        await mkdir(dirname(join(tmp, rel)), { recursive: true });
        await writeFile(join(tmp, rel), f.bytes);
        if (f.executable) await chmod(join(tmp, rel), 0o755);
        files.push(`${dir}/${to}/${rel}`);
      }
    });
  } else {
    path = `${dir}/${to}.yaml`;
    await writeFileAtomic(join(repo.root, path), text);
    files.push(path);
  }

  const out: Duplicated = { from, to, path, files, owner, removed: [...removed] };
  const before = await previousRevisions(repo, to);
  if (before) out.previousRevisions = before;
  return out;
}

async function previousRevisions(repo: Repository, name: string): Promise<number | undefined> {
  try {
    const log = await updateRevisions(repo.root, repo.config);
    if (log.head === undefined) return undefined;
    const own = await log.read(name);
    return own.length ? Math.max(...own.map((r) => r.number)) : undefined;
  } catch {
    return undefined; // a shallow clone or no history: nothing to say
  }
}
