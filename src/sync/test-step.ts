/**
 * The image tests of one planned build, after its image is pushed (or a
 * reused one tagged) and before its record may say `succeeded`: every
 * workspace tool's start checked, the spec's `tests.commands` run, and with
 * `tests.tools` each tool started and asked over HTTP (builder/tests.ts). A
 * failure throws TestFailed, which sync records as failure kind `test`: the
 * digest stays in the record, the revision does not become active.
 *
 * A reused image is tested too: the content key covers the image's bytes,
 * not its tests, so a revision that only adds a test reuses the earlier
 * image and must still pass it before it is active.
 */
import { mkdir } from 'node:fs/promises';
import { chooseEngine } from '../builder/container.js';
import { resolveStorage } from '../builder/storage.js';
import { BuilderUnavailable } from '../builder/types.js';
import { runImageTests, tailOf, TestFailed, type TestResult } from '../builder/tests.js';
import type { BuildRecord } from '../ledger/model.js';
import { testCommands, toolWaitSeconds } from '../model/spec.js';
import { printable } from '../model/text.js';
import { noun } from '../model/words.js';
import type { PlannedBuild } from '../plan/index.js';
import { writeLoginFile } from '../registry/auth.js';
import { chainOf, imageName } from '../render/index.js';
import { lifecycleScript } from '../render/lifecycle.js';
import { renderRunSpec, type RequirementsStep } from '../render/runspec.js';
import { PROJECT_DIR } from '../repository/run.js';
import { statePaths } from '../store/paths.js';
import type { StepContext } from './types.js';

/** Longest test name a reason carries; the log has it whole. */
const NAME_IN_REASON = 80;

/** `image`: what to test, when it is not the record's pushed digest (a review build's local image). */
export async function testStep(step: PlannedBuild, ctx: StepContext, record: BuildRecord, signal: AbortSignal, image = `${imageName(ctx.config, step.environment)}@${record.digest!}`): Promise<void> {
  const { root, config } = ctx;
  const all = new Map(ctx.plan.environments.map((e) => [e.name, e]));
  const env = all.get(step.environment)!;
  // The run spec's tools: the image holds its bases' tools too, and a run may start any of them.
  const runSpec = renderRunSpec(env, chainOf(env, all), image, step.revision);
  const commands = testCommands(env.spec);
  const tools = Object.entries(runSpec.workspaceTools).map(([id, t]) => ({ id, start: t.start, ...(t.httpProxy ? { port: t.httpProxy.port } : {}) }));
  if (commands.length === 0 && tools.length === 0) return;
  const wait = toolWaitSeconds(env.spec);
  const count = tools.length + commands.length + (wait === undefined ? 0 : tools.filter((t) => t.port !== undefined).length);
  ctx.progress({ environment: step.environment, revision: step.revision, state: step.action === 'reuse' ? 'reusing' : 'building', message: `testing the image (${noun(count, 'test')})` });
  // A reused image has no build log yet: its tests get one of their own.
  if (record.log === undefined) {
    await mkdir(await statePaths.logs(root), { recursive: true });
    record.log = (await statePaths.log(root, step.environment, step.revision, record.startedAt)).relative;
  }
  const logFile = await statePaths.log(root, step.environment, step.revision, record.startedAt);
  const engine = await chooseEngine().catch((err: unknown) => {
    // Said for what needs it here; retried (unexpected), as the machine may get one.
    if (err instanceof BuilderUnavailable) throw new BuilderUnavailable('image tests (and the workspace tools\' start checks) need buildah or podman: run scripts/ensure.sh apt buildah');
    throw err;
  });
  const storage = engine === 'buildah' ? ctx.local?.driver ?? (await resolveStorage(config.storage)).driver : undefined;
  const venv = runSpec.lifecycle.start.find((s): s is RequirementsStep => s.step === 'requirements')?.venv;
  const login = await writeLoginFile(config.registry.address);
  let results: TestResult[];
  try {
    const run = () => runImageTests({
      engine, image, commands, tools, projectDir: PROJECT_DIR,
      toolScript: (start) => lifecycleScript(runSpec, { command: start, projectDir: PROJECT_DIR }),
      env: runSpec.variables.flatMap((v) => ('value' in v ? [{ name: v.name, value: v.value }] : [])),
      insecure: config.registry.insecure, isolation: config.isolation, logFile: logFile.file, signal,
      ...(wait !== undefined ? { toolWaitSeconds: wait } : {}),
      ...(venv !== undefined ? { venv } : {}),
      ...(storage ? { storage } : {}),
      ...(login ? { authFile: login.file } : {}),
    });
    // Noted as a build is: a sync killed meanwhile leaves a working container the next one removes.
    results = await (ctx.local ? ctx.local.building(step.environment, run) : run());
  } finally {
    await login?.remove();
  }
  const failed = results.filter((r) => !r.passed);
  if (failed.length === 0) return;
  const first = failed[0]!;
  const name = first.name.length > NAME_IN_REASON ? `${first.name.slice(0, NAME_IN_REASON - 1)}…` : first.name;
  const more = failed.length > 1 ? ` (and ${failed.length - 1} more of ${results.length})` : '';
  throw new TestFailed(first.name, `test "${printable(name)}" failed: ${printable(first.why)}${more}`, tailOf(first.output));
}
