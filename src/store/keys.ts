/**
 * Content keys remembered per revision files id, so a revision is rendered
 * once: `.envctl/cache/keys/<fingerprint>.json`, where the fingerprint covers
 * the parts of envctl.yaml a key depends on (a change there starts a new memo).
 */
import { mkdir, readFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { writeFileAtomic } from '../files/write.js';
import { statePaths } from './paths.js';

export interface KeyMemo {
  has(id: string): boolean;
  get(id: string): string | null | undefined;
  set(id: string, key: string | null): void;
  /** Writes the memo back when anything was added. */
  save(): Promise<void>;
}

export async function openKeyMemo(root: string, fingerprint: string): Promise<KeyMemo> {
  const path = await statePaths.keyMemo(root, fingerprint);
  let memo: Record<string, string | null> = {};
  try {
    memo = JSON.parse(await readFile(path, 'utf8')) as Record<string, string | null>;
  } catch {
    // none yet, or damaged: it is only a cache
  }
  let changed = false;
  return {
    has: (id) => Object.hasOwn(memo, id),
    get: (id) => memo[id],
    set: (id, key) => {
      memo[id] = key;
      changed = true;
    },
    save: async () => {
      if (!changed) return;
      await mkdir(dirname(path), { recursive: true });
      await writeFileAtomic(path, JSON.stringify(memo));
      changed = false;
    },
  };
}
