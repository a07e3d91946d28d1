/**
 * What the value of one docker run flag does, read as docker reads it:
 * volume specs as docker/cli's internal/volumespec, `--mount` and long-form
 * `--network` as Go's encoding/csv, security options as the CLI's
 * parseSecurityOpts. Whatever docker would refuse or envctl cannot read is
 * judged as the flag's risky case, never as harmless.
 */

/** The policy class a risky argument needs, or `unlisted`: known to docker, but only allowed by name. */
export type RiskClass = 'privileged' | 'hostNetwork' | 'hostMounts' | 'unlisted';
export interface Risk { class: RiskClass; what: string }
/** undefined: harmless. */
export type Verdict = Risk | undefined;
export type Judge = (value: string) => Verdict;

export const harmless: Judge = () => undefined;
export const always = (cls: RiskClass, what: string): Judge => () => ({ class: cls, what });

/** moby's RestrictedNamePattern: a named volume; anything else with a source is a host path to the daemon. */
const VOLUME_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]+$/;
const HOST_PATH: Risk = { class: 'hostMounts', what: 'mounts a host path' };

/** `-v/--volume`: source, target and options split at colons, a Windows drive letter kept whole (volumespec.Parse). */
export const volume: Judge = (spec) => {
  if (spec.length === 0) return { class: 'hostMounts', what: 'is a volume docker cannot read' };
  if (spec.length <= 2) return undefined; // a target only: an anonymous volume
  const parts: string[] = [];
  let buffer = '';
  for (const char of [...spec, '\0']) {
    if (char === ':' && buffer.length === 1 && /\p{L}/u.test(buffer)) buffer += char; // "C:" stays one part
    else if (char === ':' || char === '\0') {
      if (buffer === '' || parts.length === 3) return { class: 'hostMounts', what: 'is a volume docker cannot read' };
      parts.push(buffer);
      buffer = '';
    } else buffer += char;
  }
  if (parts.length === 1) return undefined; // anonymous volume at a container path
  return VOLUME_NAME.test(parts[0]!) ? undefined : { ...HOST_PATH, what: `mounts host path ${parts[0]!}` };
};

/**
 * One record of Go's encoding/csv without LazyQuotes: a field opening with
 * `"` runs to a `"` not doubled and must end there; a bare `"` elsewhere
 * is an error (undefined).
 */
export function csvRecord(text: string): string[] | undefined {
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    let field = '';
    if (text[i] === '"') {
      i++;
      for (;;) {
        if (i >= text.length) return undefined;
        if (text[i] === '"') {
          if (text[i + 1] === '"') { field += '"'; i += 2; continue; }
          i++;
          break;
        }
        field += text[i++];
      }
      if (i < text.length && text[i] !== ',') return undefined;
    } else {
      const end = text.indexOf(',', i);
      field = text.slice(i, end === -1 ? text.length : end);
      if (field.includes('"')) return undefined;
      i += field.length;
    }
    fields.push(field);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

const UNREADABLE_MOUNT: Risk = { class: 'hostMounts', what: 'is a mount envctl cannot read as docker would' };

/** `--mount`: key=value fields (keys and the type in any case, as opts/mount.go lowers them); the last type wins. */
export const mount: Judge = (value) => {
  const fields = csvRecord(value.trim());
  if (!fields || value.trim() === '') return UNREADABLE_MOUNT;
  let type = 'volume';
  let source: string | undefined;
  let driven = false;
  for (const field of fields) {
    const eq = field.indexOf('=');
    const key = (eq === -1 ? field : field.slice(0, eq)).toLowerCase();
    if (key.trim() !== key || key === '') return UNREADABLE_MOUNT;
    const val = eq === -1 ? '' : field.slice(eq + 1);
    if (key === 'type') type = val.toLowerCase();
    else if (key === 'source' || key === 'src') source = val;
    else if (key === 'volume-driver' || key === 'volume-opt') driven = true; // the local driver's o=bind,device=/… binds a host path
  }
  if (type === 'tmpfs') return undefined;
  if (type === 'bind') return { class: 'hostMounts', what: `bind-mounts host path ${source ?? '(none given)'}` };
  if (type !== 'volume') return { class: 'hostMounts', what: `is a ${type} mount, which envctl does not judge harmless` };
  if (driven) return { class: 'hostMounts', what: 'is a volume with a driver or driver options, which can bind host paths' };
  if (source !== undefined && !VOLUME_NAME.test(source)) return { class: 'hostMounts', what: `names volume source ${source}, which is no volume name` };
  return undefined;
};

/** Network modes that keep the container in a network of its own. */
const OWN_NETWORK = new Set(['bridge', 'none', 'default']);

/** `--network/--net`: a mode or name, or docker's long form `name=…,alias=…` (opts/network.go, which lowers each field). */
export const network: Judge = (value) => {
  let target = value;
  if (/\w+=\w+(,\w+=\w+)*/.test(value)) {
    const fields = csvRecord(value);
    if (!fields) return { class: 'hostNetwork', what: 'is a network envctl cannot read as docker would' };
    target = '';
    for (const field of fields) {
      const [key, val] = cut(field.toLowerCase(), '=');
      if (key.trim() === 'name') target = (val ?? '').trim();
    }
  }
  if (OWN_NETWORK.has(target)) return undefined;
  if (target === 'host') return { class: 'hostNetwork', what: "shares the host's network" };
  if (target.startsWith('container:')) return { class: 'hostNetwork', what: "shares another container's network" };
  return { class: 'hostNetwork', what: `joins docker network ${target}` };
};

/** `--pid`, `--uts`, `--ipc`: any value but the container's own namespace shares one (`host`, `container:…`). */
export const namespace = (own: string[]): Judge => (value) =>
  own.includes(value) ? undefined : { class: 'hostNetwork', what: value === 'host' ? 'shares a host namespace' : `shares namespace ${value}` };

/** `--userns`, `--cgroupns`: leaving the container's own namespace weakens isolation from the host. */
export const privilegedNamespace = (own: string[]): Judge => (value) =>
  own.includes(value) ? undefined : { class: 'privileged', what: `leaves the container's own namespace (${value})` };

/**
 * `--security-opt`: key and value split at `=`, else `:` (the CLI's
 * parseSecurityOpts). Harmless only: no-new-privileges (true),
 * seccomp=builtin and apparmor=docker-default. label (disable, type:spc_t,
 * a level), seccomp/apparmor unconfined or a profile from a host file,
 * systempaths=unconfined and any other key turn confinement down or are
 * unknown.
 */
export const securityOpt: Judge = (value) => {
  let [key, val] = cut(value, '=');
  if (val === undefined && key !== 'no-new-privileges') [key, val] = cut(value, ':');
  const k = key.toLowerCase();
  if (k === 'no-new-privileges' && (val === undefined || parseBool(val) === true)) return undefined;
  if (k === 'seccomp' && val === 'builtin') return undefined;
  if (k === 'apparmor' && val === 'docker-default') return undefined;
  return { class: 'privileged', what: 'turns off or changes confinement' };
};

/** strconv.ParseBool, which pflag's boolean flags use. */
export function parseBool(value: string): boolean | undefined {
  if (['1', 't', 'T', 'TRUE', 'true', 'True'].includes(value)) return true;
  if (['0', 'f', 'F', 'FALSE', 'false', 'False'].includes(value)) return false;
  return undefined;
}

function cut(text: string, sep: string): [string, string | undefined] {
  const at = text.indexOf(sep);
  return at === -1 ? [text, undefined] : [text.slice(0, at), text.slice(at + 1)];
}
