/**
 * Deterministic text for dates, durations, sizes and hashes: no locale and
 * no clock, so the same SiteData always renders the same bytes.
 */
import type { BuildStatus } from '../ledger/model.js';
import type { SiteEnvironment, SiteFailure, SiteRevision } from './model.js';

/** `2024-05-01 12:34 UTC`; text that is no date is shown as given. */
export function formatDate(iso: string): string {
  const ms = Date.parse(iso);
  if (!Number.isFinite(ms)) return iso;
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getUTCFullYear()}-${p(d.getUTCMonth() + 1)}-${p(d.getUTCDate())} ${p(d.getUTCHours())}:${p(d.getUTCMinutes())} UTC`;
}

/** Whether a `<time datetime>` may carry the value (a parseable date). */
export function isDate(iso: string): boolean {
  return Number.isFinite(Date.parse(iso));
}

export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '—';
  const s = Math.round(seconds);
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return s % 60 ? `${m} min ${s % 60} s` : `${m} min`;
  const h = Math.floor(m / 60);
  return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

export function formatBytes(bytes: number): string {
  if (!Number.isFinite(bytes) || bytes < 0) return '—';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = bytes;
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit++;
  }
  return unit === 0 ? `${value} B` : `${value.toFixed(value < 10 ? 2 : 1)} ${units[unit]}`;
}

export function shortSha(commit: string): string {
  return commit.slice(0, 7);
}

export function shortContentKey(key: string): string {
  return key.replace(/^sha256:/, '').slice(0, 12);
}

/** The build's duration in seconds: as recorded, else from its start and end times; undefined when unknown. */
export function buildDuration(build: NonNullable<SiteRevision['build']>): number | undefined {
  if (build.durationSeconds !== undefined) return Number.isFinite(build.durationSeconds) && build.durationSeconds >= 0 ? build.durationSeconds : undefined;
  if (build.endedAt === undefined) return undefined;
  const seconds = (Date.parse(build.endedAt) - Date.parse(build.startedAt)) / 1000;
  return Number.isFinite(seconds) && seconds >= 0 ? seconds : undefined;
}

/** What the page says about an attempt that did not succeed, by its failure kind. */
export const FAILURE_NOTES: Record<SiteFailure, string> = {
  build: 'its build failed; fix the environment to build it again',
  test: 'its image tests failed; the image was built, but the revision is not active until it passes: fix the environment or its tests',
  registry: 'registry trouble; the next sync tries again',
  skipped: 'not built: its base did not build; the next sync tries again',
  cancelled: 'stopped: another sync builds it',
  unexpected: 'an unexpected error; the next sync tries again',
};

/** The status filter's value for a build: its status, or `not-built`. */
export type StatusKey = BuildStatus | 'not-built';

export const STATUS_LABELS: Record<StatusKey, string> = {
  succeeded: 'succeeded',
  failed: 'failed',
  building: 'building',
  queued: 'queued',
  cancelled: 'cancelled',
  'not-built': 'not built',
};

export function statusKey(revision: SiteRevision | undefined): StatusKey {
  const status = revision?.build?.status;
  return status !== undefined && status in STATUS_LABELS ? status : 'not-built';
}

/**
 * Whether the revision's image tests passed: `failed` when its latest
 * attempt failed in its tests, `passed` when it succeeded and the
 * environment has tests (a build of an environment without tests says
 * nothing about tests), else undefined.
 */
export function testOutcome(env: SiteEnvironment, revision: SiteRevision): 'passed' | 'failed' | undefined {
  const build = revision.build;
  if (build?.failure === 'test') return 'failed';
  if (build?.status === 'succeeded' && env.tests === true) return 'passed';
  return undefined;
}
