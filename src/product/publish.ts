/**
 * The publish direction, envctl → product, as plain data: the form fields of
 * the product's revision-create request for an envctl revision whose image
 * is built, and the marker in the product revision's summary that says which
 * envctl content it is (so a publish whose answer was lost is found again,
 * not made twice). The reverse of map.ts and tools.ts. Pure.
 *
 * The product builds nothing: the base is envctl's image by digest and the
 * Dockerfile instructions are empty, so the image the product runs is the
 * one envctl built and tested.
 */
import { dump } from 'js-yaml';
import { EnvctlError } from '../model/errors.js';
import { isSecret, type ClusterType, type EnvironmentSpec, type WorkspaceTool } from '../model/spec.js';

export interface PublishInput {
  /** envctl environment name. */
  environment: string;
  /** envctl revision number. */
  revision: number;
  /** envctl's content key of the built revision: 'sha256:<64 hex>'. */
  contentKey: string;
  /** The built image by digest: 'registry/x/name@sha256:…'. */
  image: string;
  /** The environment's resolved spec. */
  spec: EnvironmentSpec;
}

const ENVIRONMENT = /^[a-z0-9][a-z0-9-]{0,99}$/;
const CONTENT_KEY = /^sha256:([0-9a-f]{64})$/;
/** A reference by digest, nothing unprintable or blank in it (it goes into a form and the product's records). */
const IMAGE_BY_DIGEST = /^[A-Za-z0-9][A-Za-z0-9._\/:-]*@sha256:[0-9a-f]{64}$/;
/**
 * The whole summary, anchored at both ends: a summary that only contains the
 * words (a revert's "Revert envctl x@3 (content …)", a line after it) is not
 * envctl's. `$` without the m flag matches only at the very end.
 */
const MARKER = /^envctl [a-z0-9][a-z0-9-]{0,99}@[1-9][0-9]{0,9} \(content ([0-9a-f]{12})\)$/;

/** The product's names for envctl's cluster types (python-domino-environments' ClusterType). */
const CLUSTER_NAMES: Record<ClusterType, string> = { spark: 'Spark', ray: 'Ray', dask: 'Dask', mpi: 'MPI' };

/** The input is envctl's own: a bad one is envctl's bug, said before anything is sent. */
function invalid(what: string): never {
  throw new EnvctlError('internal', 'publish-input-invalid', `cannot publish: ${what}`);
}

function checked(input: PublishInput): { hex: string } {
  if (!ENVIRONMENT.test(input.environment)) invalid(`the environment name ${JSON.stringify(input.environment.slice(0, 100))} is not one envctl gives`);
  if (!Number.isSafeInteger(input.revision) || input.revision < 1 || input.revision > 9_999_999_999) invalid(`revision ${String(input.revision)} is not a revision number`);
  const hex = CONTENT_KEY.exec(input.contentKey)?.[1];
  if (hex === undefined) invalid(`the content key ${JSON.stringify(input.contentKey.slice(0, 80))} is not sha256:<64 hex>`);
  if (!IMAGE_BY_DIGEST.test(input.image)) invalid(`the image ${JSON.stringify(input.image.slice(0, 200))} is not a reference by digest`);
  return { hex };
}

/** The 12-hex marker of a content key ('sha256:<64 hex>'); an EnvctlError (internal) for anything else. */
export function contentMarker(contentKey: string): string {
  const hex = CONTENT_KEY.exec(contentKey)?.[1];
  if (hex === undefined) invalid(`the content key ${JSON.stringify(contentKey.slice(0, 80))} is not sha256:<64 hex>`);
  return hex.slice(0, 12);
}

/** `envctl python-datascience@3 (content 1a2b3c4d5e6f)`: one printable line, read back by publishedContent. */
export function publishSummary(input: PublishInput): string {
  const { hex } = checked(input);
  return `envctl ${input.environment}@${input.revision} (content ${hex.slice(0, 12)})`;
}

/** The 12 hex of the content key in a summary publishSummary wrote, or undefined for any other summary. */
export function publishedContent(summary: string): string | undefined {
  return MARKER.exec(summary)?.[1];
}

/** One tool as the product's "properties" YAML has it: the fields tools.ts reads back, in the product's order, nothing else. */
function productTool(tool: WorkspaceTool): Record<string, unknown> {
  const out: Record<string, unknown> = { title: tool.title };
  if (tool.iconUrl !== undefined) out.iconUrl = tool.iconUrl;
  out.start = [...tool.start];
  const p = tool.httpProxy;
  if (p !== undefined) {
    const proxy: Record<string, unknown> = { port: p.port };
    if (p.rewrite !== undefined) proxy.rewrite = p.rewrite;
    if (p.internalPath !== undefined) proxy.internalPath = p.internalPath;
    if (p.requireSubdomain !== undefined) proxy.requireSubdomain = p.requireSubdomain;
    out.httpProxy = proxy;
  }
  if (tool.supportedFileExtensions !== undefined && tool.supportedFileExtensions.length) out.supportedFileExtensions = [...tool.supportedFileExtensions];
  return out;
}

/** The workspace tools as the product's "properties" YAML text (js-yaml's dump of a value, never joined strings); '' when none. */
export function toolsProperties(tools: EnvironmentSpec['workspaceTools']): string {
  const entries = Object.entries(tools ?? {});
  if (entries.length === 0) return '';
  const value = Object.fromEntries(entries.map(([name, tool]) => [name, productTool(tool)]));
  return dump(value, { lineWidth: -1, noRefs: true, sortKeys: false });
}

/** Plain variables in the spec's order; a secret is never sent, not even its name (envctl has no value for it). */
function variableFields(spec: EnvironmentSpec): [string, string][] {
  const plain = Object.entries(spec.variables ?? {}).filter((e): e is [string, string] => !isSecret(e[1]));
  return plain.flatMap(([name, value], i): [string, string][] => [[`environmentVariables[${i}].name`, name], [`environmentVariables[${i}].value`, value]]);
}

/**
 * The revision-create form, field by field in the order the product's web
 * form sends them. Every text field is sent, empty when the spec has none,
 * so the new revision carries nothing over from the one before; `username`
 * and `shouldUseVPN` only when set (the form leaves an unticked box out).
 */
export function revisionForm(input: PublishInput): [string, string][] {
  const spec = input.spec;
  const scripts = spec.scripts ?? {};
  const fields: [string, string][] = [
    ['base.imageType', 'CustomImage'],
    ['base.dockerImage', input.image],
    ['dockerfileInstructions', ''],
    ['properties', toolsProperties(spec.workspaceTools)],
    ['preRunScript', scripts.preRun ?? ''],
    ['postRunScript', scripts.postRun ?? ''],
    ['preSetupScript', scripts.preSetup ?? ''],
    ['postSetupScript', scripts.postSetup ?? ''],
    ['dockerArguments', (spec.dockerArguments ?? []).join('\n')],
    ['summary', publishSummary(input)],
    ...variableFields(spec),
  ];
  if (spec.username !== undefined && spec.username !== '') fields.push(['username', spec.username]);
  if (spec.vpn === true) fields.push(['shouldUseVPN', 'on']);
  // The product's cache is for its own builds; it builds nothing here.
  fields.push(['noCache', 'false']);
  for (const c of spec.clusterTypes ?? []) fields.push(['clusterTypes[]', CLUSTER_NAMES[c] ?? c]);
  return fields;
}
