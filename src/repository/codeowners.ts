/**
 * `.github/CODEOWNERS` for a repository: the environments' owners and
 * envctl.yaml's administrators gathered from the work tree, the file
 * generated (ownership/codeowners.ts, pure), compared with the one on disk,
 * and written unless only checking.
 */
import { createTwoFilesPatch } from 'diff';
import { existsSync } from 'node:fs';
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { rawOwner, rawVisibility } from '../check/raw.js';
import { writeFileAtomic } from '../files/write.js';
import { errorCount, type Problem } from '../model/problem.js';
import { packageScriptPaths, workflowPaths, type CiFile, type CiPath } from '../ownership/ci-paths.js';
import { contextFoldersOf } from '../load/shared-context.js';
import { CODEOWNERS_FILE, generateCodeowners, type Codeowners, type OwnedConsumer, type OwnedEnvironment } from '../ownership/codeowners.js';
import type { Repository } from './index.js';

export interface CodeownersOptions {
  /** Compare only; write nothing. */
  check?: boolean;
}

/** The generated file against the one on disk, line by line. */
export interface CodeownersDiff {
  /** No file on disk yet. */
  missing: boolean;
  added: number;
  removed: number;
  /** The unified diff (headers and hunks), one entry per line. */
  lines: string[];
}

export type CodeownersOutcome =
  /** envctl.yaml has errors: it loads as the defaults, which name no administrators, so nothing is generated. */
  | { generated: false; file: string; configErrors: Problem[] }
  | (Codeowners & {
    generated: true;
    file: string;
    upToDate: boolean;
    written: boolean;
    /** Set when the file on disk differs from the generated one. */
    diff?: CodeownersDiff;
    /** Errors loading the environments folder (those environments may be missing from the rules). */
    loadErrors: number;
    /** Other CODEOWNERS locations present; GitHub reads CODEOWNERS_FILE first. */
    shadowed: string[];
  });

export async function codeownersOf(repo: Repository, options: CodeownersOptions = {}): Promise<CodeownersOutcome> {
  const { root, config } = repo;
  const sources = await repo.sources();
  const configErrors = repo.configProblems.filter((p) => p.severity === 'error');
  if (configErrors.length > 0) return { generated: false, file: CODEOWNERS_FILE, configErrors };

  const environments: OwnedEnvironment[] = sources.loaded.map((e) => ({
    name: e.name,
    path: e.folder ?? e.file,
    folder: e.folder !== undefined,
    owner: rawOwner(e),
    visibility: rawVisibility(e),
    context: contextFoldersOf(e.data, config.environmentsDir),
  }));
  const consumers: OwnedConsumer[] = sources.consumers.map((c) => ({
    kind: c.kind,
    name: c.name,
    path: c.folder ?? c.file,
    folder: c.folder !== undefined,
    owner: rawOwner(c),
  }));
  const result = generateCodeowners({
    environmentsDir: config.environmentsDir,
    administrators: config.administrators,
    administratorFields: config.policy.administratorFields,
    environments,
    consumers,
    ciPaths: await ciPathsOf(root),
  });

  const target = join(root, CODEOWNERS_FILE);
  const current = await readFile(target, 'utf8').catch((e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  const upToDate = current === result.text;
  const written = options.check !== true && !upToDate;
  if (written) await writeFileAtomic(target, result.text);
  return {
    ...result,
    generated: true,
    file: CODEOWNERS_FILE,
    upToDate,
    written,
    ...(upToDate ? {} : { diff: diffOf(current, result.text) }),
    loadErrors: errorCount(sources.problems),
    shadowed: ['CODEOWNERS', 'docs/CODEOWNERS'].filter((other) => existsSync(join(root, other))),
  };
}

/** The bytes read from one CI file at most; a workflow is a few kilobytes. */
const MAX_CI_FILE = 1024 * 1024;

/** What package.json's scripts, the workflows and the root action name (see ownership/ci-paths.ts). */
async function ciPathsOf(root: string): Promise<CiPath[]> {
  const out: CiPath[] = [];
  const pkg = await ciFile(root, 'package.json');
  if (pkg) out.push(...packageScriptPaths(pkg));
  for (const name of ['action.yml', 'action.yaml']) {
    const action = await ciFile(root, name);
    if (action) out.push(...workflowPaths(action, ''));
  }
  const dir = '.github/workflows';
  const names = await readdir(join(root, dir)).catch(() => [] as string[]);
  for (const name of names.filter((n) => /\.ya?ml$/.test(n)).sort()) {
    const workflow = await ciFile(root, `${dir}/${name}`);
    if (workflow) out.push(...workflowPaths(workflow));
  }
  return out;
}

async function ciFile(root: string, path: string): Promise<CiFile | undefined> {
  const bytes = await readFile(join(root, path)).catch(() => undefined);
  if (bytes === undefined || bytes.length > MAX_CI_FILE) return undefined;
  return { path, text: bytes.toString('utf8') };
}

function diffOf(current: string | undefined, generated: string): CodeownersDiff {
  const patch = createTwoFilesPatch(
    current === undefined ? '/dev/null' : `a/${CODEOWNERS_FILE}`, `b/${CODEOWNERS_FILE}`,
    current ?? '', generated, undefined, undefined, { context: 1 },
  );
  const lines = patch.split('\n').filter((l) => !/^=+$/.test(l) && l !== '');
  const body = lines.filter((l) => !l.startsWith('---') && !l.startsWith('+++'));
  return {
    missing: current === undefined,
    added: body.filter((l) => l.startsWith('+')).length,
    removed: body.filter((l) => l.startsWith('-')).length,
    lines,
  };
}
