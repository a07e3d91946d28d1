/** Spec → Dockerfile text, in two parts: what builds the image, and the revision labels. */
import type { CheckedEnvironment } from '../check/index.js';
import { EnvctlError } from '../model/errors.js';
import { isSecret } from '../model/spec.js';
import { oneLine } from './escape.js';
import { takeSyntax } from '../check/directives.js';
import { withFinalBase, type RenderedStage } from './stages.js';
import { buildTemplate, headerTemplate, labelsTemplate, syntaxTemplate } from './templates.js';

/** Facts about the revision being built; absent when rendering the work tree. */
export interface RevisionInfo {
  number: number;
  commit: string;
  /** ISO time for org.opencontainers.image.created; left out of the content key. */
  created?: string;
}

export interface DockerfileInput {
  env: CheckedEnvironment;
  /** The resolved base image reference for FROM. */
  from: string;
  revision?: RevisionInfo;
  /** Repository URL for org.opencontainers.image.source. */
  source?: string;
  /** Build stages rendered before the final FROM. */
  stages?: RenderedStage[];
}

/** The environment cannot be rendered as it stands (input: its spec must change; code `instructions-unterminated`). */
export class RenderError extends EnvctlError {
  constructor(code: string, message: string, data: Record<string, unknown> = {}) {
    super('input', code, message, { data });
  }
}

export function renderBuildPart(input: DockerfileInput): string {
  const { env } = input;
  const variables = Object.entries(env.spec.variables ?? {})
    .filter(([, v]) => !isSecret(v)) // secrets are provided at run time only
    .map(([name, value]) => ({ name, value: String(value) }));
  // On one of its stages: FROM that stage's name, and the stage its chain starts from takes the resolved base.
  const onStage = typeof env.spec.base === 'object' && 'stage' in env.spec.base ? env.spec.base.stage : undefined;
  return buildTemplate({
    stages: onStage === undefined ? input.stages ?? [] : withFinalBase(input.stages ?? [], env.spec, input.from),
    from: onStage ?? input.from,
    // Declared for the whole stage, values from --build-arg (never written here); a user's own `ARG NAME=default` later only redeclares it.
    args: Object.keys(env.spec.buildArgs ?? {}).sort(),
    variables,
    instructions: instructionsBlock(env),
    user: env.spec.username ?? '',
  });
}

/** The `# syntax=` line the instructions start with, moved to the file's first line; '' without one. */
export function renderSyntax(input: DockerfileInput): string {
  const { syntax } = takeSyntax(input.env.spec.instructions ?? '');
  return syntax === undefined ? '' : syntaxTemplate({ syntax });
}

export function renderHeader(input: DockerfileInput): string {
  return headerTemplate({ file: input.env.file });
}

export function renderLabels(input: DockerfileInput): string {
  const { env, revision } = input;
  const labels: { name: string; value: string }[] = [];
  const add = (name: string, value: string | undefined) => {
    if (value !== undefined && value !== '') labels.push({ name, value });
  };
  add('org.opencontainers.image.title', env.spec.title ?? env.name);
  add('org.opencontainers.image.description', env.spec.description === undefined ? undefined : truncate(oneLine(env.spec.description).trim(), 500));
  add('org.opencontainers.image.source', input.source);
  add('org.opencontainers.image.revision', revision?.commit);
  add('org.opencontainers.image.created', revision?.created);
  add('io.envctl.environment', env.name);
  add('io.envctl.revision', revision ? String(revision.number) : undefined);
  return labelsTemplate({ labels });
}

/** Trailing blank lines go; instructions that do not end cleanly would swallow the lines envctl writes after them. */
function instructionsBlock(env: CheckedEnvironment): string {
  if (!env.instructionsEndCleanly) throw new RenderError('instructions-unterminated', `${env.name}: its instructions do not end cleanly (a trailing "\\" or an open heredoc)`, { name: env.name });
  return takeSyntax(env.spec.instructions ?? '').rest.replace(/\s+$/, ''); // its `# syntax=` line goes first (renderSyntax)
}

/** Cut at a code point, never inside a surrogate pair. */
function truncate(text: string, max: number): string {
  const points = Array.from(text);
  return points.length <= max ? text : `${points.slice(0, max - 1).join('')}…`;
}
