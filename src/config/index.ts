/** `envctl.yaml` → Config, with defaults for everything left out. */
import type { Config } from '../model/config.js';
import type { Problem } from '../model/problem.js';
import { CONFIG_SCHEMA_ID, schemaProblems } from '../schema/index.js';
import { decodeSpec } from '../source/text.js';
import { parseYaml } from '../source/yaml.js';

export const CONFIG_FILE = 'envctl.yaml';
const EMBEDDED = 'embedded';
/** The init container that clones a project for a Pod: git, sh and tar in a small image. */
export const DEFAULT_GIT_IMAGE = 'docker.io/alpine/git:2.45.2';

export interface ConfigResult {
  config: Config;
  problems: Problem[];
}

/** Settings a CI job may give instead of editing envctl.yaml (ENVCTL_REGISTRY). */
export interface ConfigOverrides {
  /** host[:port][/namespace] of the registry, or `embedded`. */
  registry?: string;
}

/** `bytes` undefined: no config file; every default applies. */
export function loadConfig(bytes: Uint8Array | undefined, file = CONFIG_FILE, overrides: ConfigOverrides = {}): ConfigResult {
  // Lower case: repository paths must be, and a CI job builds it from names like github.repository_owner.
  const registry = overrides.registry?.toLowerCase();
  const withDefaults = (raw: RawConfig) => defaultsFor(registry === undefined ? raw : { ...raw, registry: { ...raw.registry, address: registry, insecure: undefined } });
  if (bytes === undefined) return { config: withDefaults({}), problems: [] };
  const decoded = decodeSpec(bytes, file);
  if (decoded.text === undefined) return { config: withDefaults({}), problems: decoded.problems };
  const parsed = parseYaml(decoded.text, file);
  if (parsed.problems.length > 0) return { config: withDefaults({}), problems: parsed.problems };
  const data = parsed.value ?? {};
  const problems = schemaProblems(CONFIG_SCHEMA_ID, data, { file, positions: parsed.positions, lines: parsed.lines });
  if (problems.length > 0) return { config: withDefaults({}), problems };
  return { config: withDefaults(data as RawConfig), problems };
}

type RawConfig = {
  environments?: string;
  branch?: string;
  stateBranch?: string;
  source?: string;
  project?: { repository?: string; gitImage?: string };
  publish?: { url: string; tokenEnv?: string; environments?: Record<string, string> };
  platform?: string;
  builder?: 'auto' | 'buildah' | 'docker';
  isolation?: 'oci' | 'chroot';
  storage?: 'auto' | 'overlay' | 'vfs';
  cache?: { registry?: boolean; repository?: string };
  buildx?: { builder?: string };
  registry?: { address?: string; embeddedPort?: number; prefix?: string; insecure?: boolean | undefined };
  defaultBase?: { image: string; layers?: number; debootstrap?: { suite?: string; mirror?: string; variant?: string; packages?: string[] } };
  layers?: { limit?: number; warnAt?: number };
  imageLayers?: Record<string, number>;
  administrators?: string[];
  policy?: { administratorFields?: string[]; privileged?: string[]; hostNetwork?: string[]; hostMounts?: string[]; arguments?: Record<string, string[]> };
};

export function withDefaults(raw: RawConfig): Config {
  return defaultsFor(raw);
}

function defaultsFor(raw: RawConfig): Config {
  const address = raw.registry?.address ?? EMBEDDED;
  const embeddedPort = raw.registry?.embeddedPort ?? 5115;
  const host = address === EMBEDDED ? `127.0.0.1:${embeddedPort}` : address;
  const limit = raw.layers?.limit ?? 127;
  const d = raw.defaultBase?.debootstrap;
  const config: Config = {
    environmentsDir: raw.environments ?? 'environments',
    branch: raw.branch ?? 'main',
    stateBranch: raw.stateBranch ?? 'envctl-state',
    platform: raw.platform ?? 'linux/amd64',
    builder: raw.builder ?? 'auto',
    isolation: raw.isolation ?? 'oci',
    storage: raw.storage ?? 'auto',
    cache: { registry: raw.cache?.registry ?? true, repository: raw.cache?.repository ?? '{image}/cache' },
    buildx: raw.buildx?.builder !== undefined ? { builder: raw.buildx.builder } : {},
    registry: {
      address: host,
      embedded: address === EMBEDDED,
      embeddedPort,
      prefix: raw.registry?.prefix ?? 'envctl/',
      insecure: raw.registry?.insecure ?? (address === EMBEDDED || /^(127\.|localhost[:/]|\[::1\])/.test(address)),
    },
    defaultBase: {
      image: (raw.defaultBase?.image ?? '{registry}/envctl/debian:bookworm').replace('{registry}', host),
      layers: raw.defaultBase?.layers ?? 1,
      debootstrap: {
        suite: d?.suite ?? 'bookworm',
        mirror: d?.mirror ?? 'system',
        variant: d?.variant ?? 'minbase',
        packages: d?.packages ?? [],
      },
    },
    layers: { limit, warnAt: raw.layers?.warnAt ?? Math.max(1, limit - 10) },
    imageLayers: raw.imageLayers ?? {},
    administrators: raw.administrators ?? [],
    policy: {
      administratorFields: raw.policy?.administratorFields ?? [],
      privileged: raw.policy?.privileged ?? [],
      hostNetwork: raw.policy?.hostNetwork ?? [],
      hostMounts: raw.policy?.hostMounts ?? [],
      arguments: raw.policy?.arguments ?? {},
    },
    project: { gitImage: DEFAULT_GIT_IMAGE },
  };
  if (raw.source !== undefined) config.source = raw.source;
  if (raw.publish) config.publish = { url: raw.publish.url.replace(/\/+$/, ''), tokenEnv: raw.publish.tokenEnv ?? 'DOMINO_API_KEY', environments: raw.publish.environments ?? {} };
  const repository = raw.project?.repository ?? raw.source;
  config.project = { ...(repository !== undefined ? { repository } : {}), gitImage: raw.project?.gitImage ?? DEFAULT_GIT_IMAGE };
  return config;
}
