/**
 * Docker arguments read the way `docker run` reads them: its flag set
 * (docker/cli cli/command/container/opts.go and run.go) parsed by
 * spf13/pflag's rules (flag.go parseArgs, parseLongArg, parseShortArg).
 * Each YAML list item is one argv word: the run spec hands the list over as
 * it is, and the product's field takes one argument per line.
 */
import { always, harmless, mount, namespace, network, parseBool, privilegedNamespace, securityOpt, volume, type Judge } from './docker-values.js';

export interface DockerFlag {
  long: string;
  short?: string;
  /** A boolean: `--flag` alone means true, and it never takes the next word as its value. */
  bool?: true;
  judge: Judge;
}

const unlisted = (what: string) => always('unlisted', what);
const HOST_FILE = always('hostMounts', 'reads or writes a file on the host');

/**
 * Every flag of docker run (as of docker/cli 28), each with what its value
 * does. `unlisted`: docker knows it, envctl does not judge it harmless (it
 * changes what runs, how the launcher sees the run, or the host's view of
 * the container); an administrator allows it by name.
 */
const FLAGS: DockerFlag[] = [
  // Privileges and confinement.
  // Any form of --privileged counts, =false too: the Pod rendering (render/k8s.ts) reads the flag's name only.
  { long: 'privileged', bool: true, judge: always('privileged', 'gives the container full host privileges') },
  { long: 'cap-add', judge: always('privileged', 'adds kernel capabilities') },
  { long: 'device-cgroup-rule', judge: always('privileged', 'lets the container use host devices') },
  { long: 'security-opt', judge: securityOpt },
  { long: 'userns', judge: privilegedNamespace(['']) },
  { long: 'cgroupns', judge: privilegedNamespace(['', 'private']) },
  { long: 'cgroup-parent', judge: always('privileged', "places the container in another of the host's cgroups") },
  { long: 'runtime', judge: always('privileged', 'chooses the OCI runtime') },
  { long: 'use-api-socket', bool: true, judge: (v) => (parseBool(v) ? { class: 'privileged', what: "mounts the docker daemon's socket" } : undefined) },
  // Namespaces and the host's network.
  { long: 'network', judge: network },
  { long: 'net', judge: network },
  { long: 'pid', judge: namespace(['']) },
  { long: 'uts', judge: namespace(['']) },
  { long: 'ipc', judge: namespace(['', 'none', 'private', 'shareable']) },
  { long: 'publish', short: 'p', judge: always('hostNetwork', 'opens a port on the host') },
  { long: 'publish-all', short: 'P', bool: true, judge: (v) => (parseBool(v) ? { class: 'hostNetwork', what: 'opens ports on the host' } : undefined) },
  // Host paths, devices and files.
  { long: 'volume', short: 'v', judge: volume },
  { long: 'mount', judge: mount },
  { long: 'volumes-from', judge: always('hostMounts', "mounts another container's volumes") },
  { long: 'volume-driver', judge: always('hostMounts', 'chooses the driver of named volumes, which can bind host paths') },
  { long: 'device', judge: always('hostMounts', 'exposes a host device') },
  { long: 'env-file', judge: HOST_FILE },
  { long: 'label-file', judge: HOST_FILE },
  { long: 'cidfile', judge: HOST_FILE },
  // Harmless: the container's own environment, limits and metadata.
  ...['env:e', 'label:l', 'workdir:w', 'hostname:h', 'memory:m', 'cpu-shares:c'].map((f) => ({ long: f.split(':')[0]!, short: f.split(':')[1]!, judge: harmless })),
  ...[
    'add-host', 'blkio-weight', 'blkio-weight-device', 'cap-drop', 'cpu-count', 'cpu-percent', 'cpu-period', 'cpu-quota',
    'cpus', 'cpuset-cpus', 'cpuset-mems', 'device-read-bps', 'device-read-iops', 'device-write-bps', 'device-write-iops', 'dns', 'dns-opt',
    'dns-option', 'dns-search', 'domainname', 'expose', 'gpus', 'group-add', 'health-cmd', 'health-interval', 'health-retries',
    'health-start-interval', 'health-start-period', 'health-timeout', 'io-maxbandwidth', 'io-maxiops', 'ip', 'ip6', 'kernel-memory',
    'link-local-ip', 'mac-address', 'memory-reservation', 'memory-swap', 'memory-swappiness', 'net-alias', 'network-alias', 'pids-limit',
    'shm-size', 'stop-signal', 'stop-timeout', 'sysctl', 'tmpfs', 'ulimit',
  ].map((long) => ({ long, judge: harmless })),
  ...['init', 'read-only', 'rm', 'no-healthcheck'].map((long) => ({ long, bool: true as const, judge: harmless })),
  { long: 'interactive', short: 'i', bool: true, judge: harmless },
  { long: 'tty', short: 't', bool: true, judge: harmless },
  // Known, allowed only by name.
  { long: 'entrypoint', judge: unlisted('replaces what the image runs') },
  { long: 'user', short: 'u', judge: unlisted('chooses the user the container runs as (an administrator sets username)') },
  { long: 'annotation', judge: unlisted('passes an annotation to the OCI runtime, which may act on it') },
  { long: 'oom-kill-disable', bool: true, judge: unlisted("turns off the kernel's out-of-memory killer for the container") },
  { long: 'oom-score-adj', judge: unlisted("changes which of the host's processes the kernel kills first") },
  { long: 'cpu-rt-period', judge: unlisted('asks for real-time scheduling') },
  { long: 'cpu-rt-runtime', judge: unlisted('asks for real-time scheduling') },
  { long: 'storage-opt', judge: unlisted("sets the storage driver's options") },
  { long: 'isolation', judge: unlisted('chooses the isolation technology') },
  { long: 'log-driver', judge: unlisted('sends the logs elsewhere') },
  { long: 'log-opt', judge: unlisted("sets the log driver's options") },
  { long: 'link', judge: unlisted('links another container') },
  { long: 'restart', judge: unlisted('restarts the container after it ends') },
  { long: 'name', judge: unlisted('names the container, which the launcher does') },
  { long: 'attach', short: 'a', judge: unlisted("changes the launcher's view of the run") },
  { long: 'detach', short: 'd', bool: true, judge: unlisted("changes the launcher's view of the run") },
  { long: 'sig-proxy', bool: true, judge: unlisted("changes the launcher's view of the run") },
  { long: 'detach-keys', judge: unlisted("changes the launcher's view of the run") },
  { long: 'quiet', short: 'q', bool: true, judge: unlisted("changes the launcher's view of the run") },
  { long: 'pull', judge: unlisted('changes how the image is pulled') },
  { long: 'platform', judge: unlisted('runs the image for another platform') },
  { long: 'disable-content-trust', bool: true, judge: unlisted('is deprecated') },
  { long: 'help', bool: true, judge: unlisted('prints the usage instead of running') },
];

const BY_LONG = new Map(FLAGS.map((f) => [f.long, f]));
const BY_SHORT = new Map(FLAGS.filter((f) => f.short).map((f) => [f.short!, f]));

/** One thing docker would read from the list; `at` is the index of the word it starts at. */
export type Reading =
  | { kind: 'flag'; flag: DockerFlag; spelled: string; value: string; at: number }
  | { kind: 'unknown'; long: string; at: number }
  | { kind: 'unreadable'; why: Unreadable; spelled: string; at: number };

/**
 * positional: not a flag, so docker (interspersed parsing off) takes it and
 * everything after it as the image and its command; end-of-flags: `--`, the
 * same; missing-value: the last word wants a value, the image name would be
 * it; spaced: a flag and its value in one item; syntax: `---x`, `--=x`;
 * unknown-shorthand: a single letter docker run does not have; not-boolean:
 * a boolean given a value strconv.ParseBool refuses.
 */
export type Unreadable = 'positional' | 'end-of-flags' | 'missing-value' | 'spaced' | 'syntax' | 'unknown-shorthand' | 'not-boolean';

/** The list as pflag reads it; reading stops where docker's flags would end. */
export function readDockerArguments(words: readonly string[]): Reading[] {
  const out: Reading[] = [];
  let i = 0;
  while (i < words.length) {
    const at = i;
    const word = words[i++]!;
    if (word.length < 2 || word[0] !== '-') {
      out.push({ kind: 'unreadable', why: 'positional', spelled: '', at });
      break;
    }
    if (word === '--') {
      out.push({ kind: 'unreadable', why: 'end-of-flags', spelled: '--', at });
      break;
    }
    const taken = word[1] === '-' ? readLong(word, words, i, at, out) : readShorts(word, words, i, at, out);
    if (taken === undefined) break;
    i += taken;
  }
  return out;
}

/** `--name`, `--name=value`, `--name value`; returns how many following words it took, undefined to stop. */
function readLong(word: string, words: readonly string[], next: number, at: number, out: Reading[]): number | undefined {
  const body = word.slice(2);
  if (body === '' || body[0] === '-' || body[0] === '=') {
    out.push({ kind: 'unreadable', why: 'syntax', spelled: word, at });
    return 0;
  }
  const eq = body.indexOf('=');
  const name = eq === -1 ? body : body.slice(0, eq);
  const spelled = `--${name}`;
  if (/\s/.test(name)) {
    out.push({ kind: 'unreadable', why: 'spaced', spelled, at });
    return 0;
  }
  const flag = BY_LONG.get(name);
  if (!flag) {
    // Read as a boolean: every word after it is then still looked at as a flag of its own.
    out.push({ kind: 'unknown', long: spelled, at });
    return 0;
  }
  if (eq !== -1) return value(flag, spelled, body.slice(eq + 1), at, out, 0);
  if (flag.bool) return value(flag, spelled, 'true', at, out, 0);
  if (next >= words.length) {
    out.push({ kind: 'unreadable', why: 'missing-value', spelled, at });
    return undefined;
  }
  return value(flag, spelled, words[next]!, at, out, 1);
}

/** `-abc` clusters: booleans, then at most one flag that takes the rest of the word (`-vX`, `-v=X`) or the next word. */
function readShorts(word: string, words: readonly string[], next: number, at: number, out: Reading[]): number | undefined {
  let rest = word.slice(1);
  while (rest.length > 0) {
    const c = rest[0]!;
    const flag = BY_SHORT.get(c);
    const spelled = `-${c}`;
    if (!flag) {
      out.push({ kind: 'unreadable', why: 'unknown-shorthand', spelled, at });
      return 0;
    }
    if (rest.length > 2 && rest[1] === '=') return value(flag, spelled, rest.slice(2), at, out, 0);
    if (flag.bool) {
      value(flag, spelled, 'true', at, out, 0);
      rest = rest.slice(1);
      continue;
    }
    if (rest.length > 1) {
      const inline = rest.slice(1);
      // "-v /etc:/x" in one item: docker's value starts with a space, which nobody means.
      if (/^\s/.test(inline)) {
        out.push({ kind: 'unreadable', why: 'spaced', spelled, at });
        return 0;
      }
      return value(flag, spelled, inline, at, out, 0);
    }
    if (next >= words.length) {
      out.push({ kind: 'unreadable', why: 'missing-value', spelled, at });
      return undefined;
    }
    return value(flag, spelled, words[next]!, at, out, 1);
  }
  return 0;
}

function value(flag: DockerFlag, spelled: string, text: string, at: number, out: Reading[], taken: number): number {
  if (flag.bool && parseBool(text) === undefined) out.push({ kind: 'unreadable', why: 'not-boolean', spelled, at });
  else out.push({ kind: 'flag', flag, spelled, value: text, at });
  return taken;
}
