/**
 * Static checks of the GitHub workflows and the composite action: every
 * envctl call names a real command and only options it declares, token
 * permissions are exactly the expected (minimal) sets, the merge flow's
 * concurrency and job wiring, full-history checkouts where revisions are
 * numbered, and no untrusted value expanded into a script.
 */
import { expect } from 'chai';
import { execa } from 'execa';
import { readdirSync, readFileSync } from 'node:fs';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { load } from 'js-yaml';
import { COMMANDS } from '../src/cli/main.js';
import { parseOutputs } from './fixtures/actions.js';
import { removeDir, tempDir } from './helpers.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOWS = join(ROOT, '.github', 'workflows');

interface Step { id?: string; name?: string; uses?: string; run?: string; with?: Record<string, unknown>; env?: Record<string, unknown>; if?: unknown; shell?: string }
interface Job { needs?: string | string[]; if?: unknown; permissions?: unknown; env?: Record<string, unknown>; outputs?: Record<string, string>; strategy?: { matrix?: unknown }; steps: Step[] }
interface Workflow { name: string; on: Record<string, unknown>; permissions?: unknown; concurrency?: unknown; env?: Record<string, unknown>; jobs: Record<string, Job> }
interface Action {
  inputs: Record<string, { description?: string; required?: boolean; default?: string }>;
  outputs: Record<string, { description?: string; value: string }>;
  runs: { using: string; steps: Step[] };
}

const workflowFiles = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const workflows = new Map(workflowFiles.map((f) => [f, load(readFileSync(join(WORKFLOWS, f), 'utf8')) as Workflow]));
const action = load(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as Action;

function workflow(file: string): Workflow {
  const wf = workflows.get(file);
  if (!wf) throw new Error(`no workflow ${file}`);
  return wf;
}

/**
 * The token permissions each workflow and job may have, exactly. Changing a
 * workflow's permissions means changing this table too, deliberately.
 */
const PERMISSIONS: Record<string, { workflow: Record<string, string>; jobs: Record<string, Record<string, string>> }> = {
  'pull-request.yml': {
    workflow: { contents: 'read' },
    jobs: { validate: { contents: 'read', packages: 'read' }, build: { contents: 'read', packages: 'read' } },
  },
  'plan-comment.yml': {
    workflow: { contents: 'read' },
    jobs: { comment: { contents: 'read', actions: 'read', 'pull-requests': 'write' } },
  },
  'sync.yml': {
    workflow: { contents: 'read' },
    jobs: {
      plan: { contents: 'read', packages: 'read' },
      build: { contents: 'read', packages: 'write' },
      record: { contents: 'write', statuses: 'write', deployments: 'write' },
      publish: { contents: 'write' },
      site: { contents: 'read', packages: 'read', pages: 'write', 'id-token': 'write' },
    },
  },
};

/** One envctl call found in a workflow or the action: its command and its argument tokens. */
interface Invocation {
  where: string;
  /** undefined when the command is a shell variable (the action's `envctl "$ENVCTL_COMMAND"`) */
  command: string | undefined;
  args: string[];
}

/** `${{ … }}` stands for a value. */
const EXPRESSION = /\$\{\{.*?\}\}/g;
const withoutExpressions = (text: string) => text.replace(EXPRESSION, 'EXPR');

/** A `uses: ./` step: `with.command` and `with.args` split on spaces, as action.yml splits them. */
function actionInvocation(step: Step, where: string): Invocation {
  const command = step.with?.command;
  return {
    where,
    command: typeof command === 'string' ? command : `(not a name: ${JSON.stringify(command)})`,
    args: withoutExpressions(String(step.with?.args ?? '')).split(/\s+/).filter(Boolean),
  };
}

/**
 * `envctl …` and `…/bin/envctl.js …` calls in a bash script, each up to the
 * end of its simple command. Shell expansions among the arguments (`"$@"`,
 * `"${args[@]}"`) are left out: their values are checked where they are given.
 */
function scriptInvocations(script: string, where: string): Invocation[] {
  const out: Invocation[] = [];
  const call = /(?:^|[\s;&|({`"])(?:envctl|[^\s;&|()'"`]*bin\/envctl\.js)"?(?=[ \t])/gm;
  for (const m of script.matchAll(call)) {
    const rest = script.slice(m.index + m[0].length);
    const end = rest.search(/[;&|)\n<>#`]/);
    const tokens = withoutExpressions(end < 0 ? rest : rest.slice(0, end)).split(/[ \t]+/).filter(Boolean);
    const [first, ...args] = tokens;
    if (first === undefined) continue;
    const unquoted = first.replace(/^["']|["']$/g, '');
    out.push({
      where,
      command: unquoted.includes('$') ? undefined : unquoted,
      args: args.filter((t) => !t.includes('$')).map((t) => t.replace(/^(["'])(.*)\1$/, '$2')),
    });
  }
  return out;
}

/** What is wrong with one invocation: an unknown command, undeclared options, arguments parseArgs refuses. */
function invocationProblems(inv: Invocation): string[] {
  if (inv.command === undefined) return [];
  const command = COMMANDS.find((c) => c.name === inv.command);
  if (!command) return [`${inv.where}: no envctl command "${inv.command}"`];
  const problems: string[] = [];
  for (const token of inv.args) {
    if (!token.startsWith('-') || token === '-' || token === '--') continue;
    if (token.startsWith('--')) {
      const name = token.slice(2).split('=')[0]!;
      if (!(name in command.options)) problems.push(`${inv.where}: envctl ${command.name} has no option --${name}`);
    } else {
      const short = token[1]!;
      if (!Object.values(command.options).some((o) => o.short === short)) problems.push(`${inv.where}: envctl ${command.name} has no option -${short}`);
    }
  }
  if (problems.length === 0) {
    try {
      parseArgs({ args: inv.args, options: command.options, allowPositionals: true, strict: true });
    } catch (err) {
      problems.push(`${inv.where}: envctl ${command.name} ${inv.args.join(' ')}: ${(err as Error).message}`);
    }
  }
  return problems;
}

function workflowInvocations(): Invocation[] {
  const out: Invocation[] = [];
  for (const [file, wf] of workflows) {
    for (const [jobName, job] of Object.entries(wf.jobs)) {
      job.steps.forEach((step, i) => {
        const where = `${file} ${jobName} step ${step.name ?? step.id ?? i + 1}`;
        if (step.uses === './') out.push(actionInvocation(step, where));
        if (typeof step.run === 'string') out.push(...scriptInvocations(step.run, where));
      });
    }
  }
  return out;
}

function actionScriptInvocations(): Invocation[] {
  return action.runs.steps.flatMap((step, i) => (typeof step.run === 'string' ? scriptInvocations(step.run, `action.yml step ${step.id ?? step.name ?? i + 1}`) : []));
}

const needsOf = (job: Job) => (job.needs === undefined ? [] : Array.isArray(job.needs) ? job.needs : [job.needs]);

const runsEnvctl = (job: Job) => job.steps.some((s) => s.uses === './' || (typeof s.run === 'string' && scriptInvocations(s.run, '').length > 0));

/** `${{ github.event… }}`, `${{ inputs.… }}` (and the pull request's branch name) inside a script: a script-injection path. */
const UNTRUSTED_IN_SCRIPT = /\$\{\{\s*(?:github\.event\b|inputs\.|github\.head_ref\b)/;

describe('workflow and action checker', () => {
  it('reports unknown commands, undeclared options and missing option values', () => {
    expect(invocationProblems(actionInvocation({ uses: './', with: { command: 'plna' } }, 'x'))).to.have.length(1);
    expect(invocationProblems(actionInvocation({ uses: './', with: { command: 'plan', args: '--base ${{ github.base_ref }} --marker x' } }, 'x')))
      .to.deep.equal(['x: envctl plan has no option --marker']);
    expect(invocationProblems(actionInvocation({ uses: './', with: { command: 'sync', args: '-x 2' } }, 'x'))).to.deep.equal(['x: envctl sync has no option -x']);
    expect(invocationProblems(actionInvocation({ uses: './', with: { command: 'validate', args: '--json=yes' } }, 'x'))).to.have.length(1);
    expect(invocationProblems(actionInvocation({ uses: './', with: { command: 'plan', args: '--markdown' } }, 'x'))).to.have.length(1);
    expect(invocationProblems(actionInvocation({ uses: './', with: { command: 'sync', args: '-j 2 --only=${{ matrix.environments }} --results r.json' } }, 'x'))).to.deep.equal([]);
  });

  it('finds envctl calls in scripts, and not words that merely start with envctl', () => {
    const found = scriptInvocations([
      'delimiter="envctl-$RANDOM"',
      'envctl() { node "$GITHUB_ACTION_PATH/bin/envctl.js" "$@"; }',
      '{ echo x; envctl plan --json; echo y; } >> "$GITHUB_OUTPUT"',
      'echo "matrix=$(envctl plan --matrix)"',
      'node bin/envctl.js sync --jsn "${args[@]}" > out.json || status=$?',
      'npx envctl validate --against origin/main',
    ].join('\n'), 's');
    expect(found.map((i) => [i.command, i.args])).to.deep.equal([
      [undefined, []],
      ['plan', ['--json']],
      ['plan', ['--matrix']],
      ['sync', ['--jsn']],
      ['validate', ['--against', 'origin/main']],
    ]);
    expect(found.flatMap(invocationProblems)).to.deep.equal(['s: envctl sync has no option --jsn']);
  });
});

describe('GitHub workflows and action.yml', () => {
  describe('envctl invocations', () => {
    it('every workflow step calling envctl names a command and only options that command declares', () => {
      const invocations = workflowInvocations();
      expect(invocations.map((i) => i.command)).to.include.members(['validate', 'codeowners', 'plan', 'comment', 'sync', 'record']);
      expect(invocations.flatMap(invocationProblems)).to.deep.equal([]);
    });

    it('the hosted product\'s API key reaches the publish step alone, never a job running a pull request\'s code', () => {
      const using: string[] = [];
      for (const [file, wf] of workflows) {
        expect(JSON.stringify(wf.env ?? {}), file).to.not.contain('secrets.');
        for (const [jobName, job] of Object.entries(wf.jobs)) {
          expect(JSON.stringify(job.env ?? {}), `${file} ${jobName}`).to.not.contain('secrets.');
          for (const step of job.steps) if (JSON.stringify(step).includes('secrets.DOMINO_API_KEY')) using.push(`${file} ${jobName} ${step.with?.command ?? step.name ?? ''}`);
        }
      }
      expect(using).to.deep.equal(['sync.yml publish publish']);
    });

    it('every `uses: ./` step names its command as a literal', () => {
      for (const [file, wf] of workflows) {
        for (const [jobName, job] of Object.entries(wf.jobs)) {
          for (const step of job.steps.filter((s) => s.uses === './')) {
            expect(step.with?.command, `${file} ${jobName} ${step.name ?? ''}`).to.be.a('string').and.match(/^[a-z][a-z-]*$/);
          }
        }
      }
    });

    it('the action script calls only real commands with declared options (plan --json, plan --matrix, sync --json)', () => {
      const invocations = actionScriptInvocations();
      const literal = invocations.filter((i) => i.command !== undefined).map((i) => `${i.command} ${i.args.join(' ')}`.trim());
      expect(literal).to.include.members(['plan', 'plan --json', 'plan --matrix', 'sync --json']);
      expect(invocations.flatMap(invocationProblems)).to.deep.equal([]);
    });

    it('the commands action.yml documents for `command` all exist', () => {
      const listed = /:\s*([a-z, -]+)\.?$/.exec(action.inputs.command!.description ?? '')?.[1]?.split(/,\s*/) ?? [];
      expect(listed).to.not.be.empty;
      expect(listed.filter((name) => !COMMANDS.some((c) => c.name === name))).to.deep.equal([]);
    });
  });

  describe('permissions', () => {
    it('every workflow in .github/workflows has an entry in the permissions table', () => {
      expect(workflowFiles).to.deep.equal(Object.keys(PERMISSIONS).sort());
    });

    for (const [file, expected] of Object.entries(PERMISSIONS)) {
      it(`${file}: top level is exactly ${JSON.stringify(expected.workflow)} and every job exactly its table entry`, () => {
        const wf = workflow(file);
        expect(wf.permissions, `${file} permissions`).to.deep.equal(expected.workflow);
        expect(Object.keys(wf.jobs).sort(), `${file} jobs`).to.deep.equal(Object.keys(expected.jobs).sort());
        for (const [jobName, job] of Object.entries(wf.jobs)) {
          expect(job.permissions, `${file} ${jobName} permissions`).to.deep.equal(expected.jobs[jobName]);
        }
      });
    }
  });

  describe('sync.yml', () => {
    const sync = () => workflow('sync.yml');

    it('runs in one concurrency lane with a fixed group and never cancels a running sync', () => {
      const concurrency = sync().concurrency as { group?: unknown; 'cancel-in-progress'?: unknown };
      expect(concurrency).to.be.an('object');
      expect(concurrency.group).to.be.a('string').and.not.equal('');
      expect(String(concurrency.group)).to.not.include('${{');
      expect(concurrency['cancel-in-progress']).to.equal(false);
    });

    it("the build job's matrix is the plan job's matrix output, which is the action's plan matrix", () => {
      const { plan, build } = sync().jobs;
      expect(needsOf(build!)).to.include('plan');
      expect(String(build!.strategy?.matrix).replace(/\s+/g, '')).to.equal('${{fromJSON(needs.plan.outputs.matrix)}}');
      const from = /^\$\{\{\s*steps\.([\w-]+)\.outputs\.matrix\s*\}\}$/.exec(plan!.outputs?.matrix ?? '');
      expect(from, 'plan job output matrix').to.not.equal(null);
      const step = plan!.steps.find((s) => s.id === from![1]);
      expect(step?.uses).to.equal('./');
      expect(step?.with?.command).to.equal('plan');
      expect(step?.with?.args ?? '', 'a plain branch plan: --base would review, not plan').to.not.match(/--base|--markdown/);
      expect(action.outputs.matrix).to.not.equal(undefined);
    });

    it('the record job needs both build and plan', () => {
      expect(needsOf(sync().jobs.record!)).to.include.members(['build', 'plan']);
    });

    it('the build job runs with CI set, so sync removes pushed images from local storage', () => {
      expect(String(sync().jobs.build!.env?.CI)).to.equal('true');
    });

    it('the build job checks disk space after checkout and before its build step', () => {
      const steps = sync().jobs.build!.steps;
      const disk = steps.findIndex((s) => s.id === 'disk');
      const build = steps.findIndex((s) => s.uses === './' && s.with?.command === 'sync');
      const checkout = steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
      expect(disk, 'a step with id disk').to.be.greaterThan(-1);
      expect(build, 'the sync step').to.be.greaterThan(-1);
      expect(disk).to.be.greaterThan(checkout).and.lessThan(build);
      expect(steps[disk]!.run).to.match(/\bdf\b/);
      expect(steps[disk]!.if, 'the check always runs before a build').to.equal(undefined);
      expect(Number(sync().jobs.build!.env?.ENVCTL_MIN_FREE_GB)).to.be.greaterThan(0);
    });

    describe('the disk check, run against a stand-in df and sudo', () => {
      let dir: string;
      before(async () => {
        dir = await tempDir('envctl-disk-check-');
        await mkdir(join(dir, 'bin'));
        await mkdir(join(dir, 'workspace'));
        // df -Pk: the available KiB come from the file "avail"; sudo only records what it was asked and frees 30 GB.
        await writeFile(join(dir, 'bin', 'df'), [
          '#!/usr/bin/env bash',
          'here=$(cd "$(dirname "$0")" && pwd)',
          'echo "Filesystem 1024-blocks Used Available Capacity Mounted on"',
          'for p in "$@"; do case "$p" in -*) ;; *) echo "/dev/root 76000000 1000 $(cat "$here/avail") 50% /";; esac; done',
        ].join('\n'), { mode: 0o755 });
        await writeFile(join(dir, 'bin', 'sudo'), [
          '#!/usr/bin/env bash',
          'here=$(cd "$(dirname "$0")" && pwd)',
          'echo "$*" >> "$here/sudo-calls"',
          'echo $((30 * 1048576)) > "$here/avail"',
        ].join('\n'), { mode: 0o755 });
      });
      after(() => removeDir(dir));

      async function check(freeGb: number, runnerEnvironment?: string) {
        await writeFile(join(dir, 'bin', 'avail'), `${freeGb * 1048576}\n`);
        await rm(join(dir, 'bin', 'sudo-calls'), { force: true });
        const step = sync().jobs.build!.steps.find((s) => s.id === 'disk')!;
        const r = await execa('bash', ['-e', '-o', 'pipefail', '-c', step.run!], {
          cwd: join(dir, 'workspace'), reject: false, all: true, extendEnv: false,
          env: {
            PATH: `${join(dir, 'bin')}:${process.env.PATH ?? ''}`, HOME: join(dir, 'home'), GITHUB_WORKSPACE: join(dir, 'workspace'),
            ENVCTL_MIN_FREE_GB: String(sync().jobs.build!.env?.ENVCTL_MIN_FREE_GB),
            ...(runnerEnvironment ? { RUNNER_ENVIRONMENT: runnerEnvironment } : {}),
          },
        });
        const sudo = await readFile(join(dir, 'bin', 'sudo-calls'), 'utf8').catch(() => '');
        return { exitCode: r.exitCode, output: String(r.all), sudo };
      }

      it('enough space: passes, prints df, removes nothing', async () => {
        const r = await check(40, 'github-hosted');
        expect(r.exitCode, r.output).to.equal(0);
        expect(r.output).to.include('Filesystem').and.include('40 GB free');
        expect(r.sudo).to.equal('');
      });

      it('too little on a machine that is not a GitHub-hosted runner: fails with the numbers, and removes nothing', async () => {
        const r = await check(3);
        expect(r.exitCode).to.not.equal(0);
        expect(r.output).to.include('::error').and.include('3 GB free').and.include('ENVCTL_MIN_FREE_GB');
        expect(r.sudo, 'never deletes on a machine that is not thrown away').to.equal('');
        expect((await check(3, 'self-hosted')).sudo).to.equal('');
      });

      it('too little on a GitHub-hosted runner: removes the preinstalled SDKs, then passes with what that freed', async () => {
        const r = await check(3, 'github-hosted');
        expect(r.exitCode, r.output).to.equal(0);
        expect(r.sudo.trim().split(' ').slice(0, 2)).to.deep.equal(['rm', '-rf']);
        expect(r.sudo).to.include('/usr/local/lib/android').and.include('/usr/share/dotnet');
        expect(r.output).to.include('30 GB free');
      });
    });
  });

  describe('checkouts', () => {
    it('every job that runs envctl checks out before its first envctl step', () => {
      for (const [file, wf] of workflows) {
        for (const [jobName, job] of Object.entries(wf.jobs).filter(([, j]) => runsEnvctl(j))) {
          const checkout = job.steps.findIndex((s) => s.uses?.startsWith('actions/checkout@'));
          const first = job.steps.findIndex((s) => s.uses === './' || (typeof s.run === 'string' && scriptInvocations(s.run, '').length > 0));
          expect(checkout, `${file} ${jobName}: checkout`).to.be.greaterThan(-1);
          expect(checkout, `${file} ${jobName}: checkout before envctl`).to.be.lessThan(first);
        }
      }
    });

    it('every checkout in a job that runs envctl fetches the whole history (fetch-depth: 0), plan-comment aside', () => {
      const checked: string[] = [];
      for (const [file, wf] of workflows) {
        for (const [jobName, job] of Object.entries(wf.jobs)) {
          if (!runsEnvctl(job) || (file === 'plan-comment.yml' && jobName === 'comment')) continue;
          for (const step of job.steps.filter((s) => s.uses?.startsWith('actions/checkout@'))) {
            expect(String(step.with?.['fetch-depth']), `${file} ${jobName}: fetch-depth`).to.equal('0');
            checked.push(`${file} ${jobName}`);
          }
        }
      }
      expect(checked.sort()).to.deep.equal(['pull-request.yml build', 'pull-request.yml validate', 'sync.yml build', 'sync.yml plan', 'sync.yml publish', 'sync.yml record', 'sync.yml site']);
    });
  });

  describe('script injection', () => {
    it('no run script in a workflow or the action expands github.event, inputs or the head branch', () => {
      const scripts = [
        ...[...workflows].flatMap(([file, wf]) => Object.entries(wf.jobs).flatMap(([jobName, job]) =>
          job.steps.filter((s) => typeof s.run === 'string').map((s) => ({ where: `${file} ${jobName} ${s.name ?? s.run!.slice(0, 40)}`, run: s.run! })))),
        ...action.runs.steps.filter((s) => typeof s.run === 'string').map((s) => ({ where: `action.yml ${s.id ?? s.name}`, run: s.run! })),
      ];
      expect(scripts.length).to.be.greaterThan(5);
      expect(scripts.filter((s) => UNTRUSTED_IN_SCRIPT.test(s.run)).map((s) => s.where)).to.deep.equal([]);
    });

    it('the pattern catches the forms that would inject', () => {
      for (const bad of ['echo ${{ github.event.pull_request.title }}', 'echo ${{github.event.workflow_run.head_branch}}', 'x=${{ inputs.args }}', 'git fetch ${{ github.head_ref }}']) {
        expect(UNTRUSTED_IN_SCRIPT.test(bad), bad).to.equal(true);
      }
      expect(UNTRUSTED_IN_SCRIPT.test('echo "$PR_NUMBER"')).to.equal(false);
    });
  });

  describe('plan-comment.yml', () => {
    const planComment = () => workflow('plan-comment.yml');
    const job = () => planComment().jobs.comment!;

    it('starts from the pull-request workflow by name and reads the artifact it uploads', () => {
      const on = planComment().on.workflow_run as { workflows?: string[]; types?: string[] };
      expect(on.workflows).to.deep.equal([workflow('pull-request.yml').name]);
      const upload = workflow('pull-request.yml').jobs.validate!.steps.find((s) => s.uses?.startsWith('actions/upload-artifact@'));
      const download = job().steps.find((s) => s.uses?.startsWith('actions/download-artifact@'));
      expect(download?.with?.name).to.be.a('string').and.equal(upload?.with?.name);
      expect(String(download?.with?.['run-id']).replace(/\s+/g, '')).to.equal('${{github.event.workflow_run.id}}');
    });

    it("never checks out the pull request's code: its checkout names no ref or repository", () => {
      const checkouts = job().steps.filter((s) => s.uses?.startsWith('actions/checkout@'));
      expect(checkouts).to.have.length(1);
      expect(checkouts[0]!.with?.ref).to.equal(undefined);
      expect(checkouts[0]!.with?.repository).to.equal(undefined);
    });

    it('the comment goes to the pull request number validated from the artifact, checked against the run\'s head commit', async () => {
      const steps = job().steps;
      const check = steps.find((s) => typeof s.run === 'string' && s.run.includes('pr-number'));
      expect(check?.id, 'the validating step has an id').to.be.a('string');
      const comment = steps.find((s) => s.uses === './' && s.with?.command === 'comment');
      expect(steps.indexOf(check!)).to.be.lessThan(steps.indexOf(comment!));
      const args = String(comment!.with?.args);
      // From the artifact only the validated number; the commit comes from GitHub's own event,
      // the plan's folder from the runner (the artifact is downloaded outside the workspace).
      expect([...args.matchAll(EXPRESSION)].map((m) => m[0].replace(/\s+/g, ''))).to.deep.equal(['${{runner.temp}}', `\${{steps.${check!.id}.outputs.number}}`, '${{github.event.workflow_run.head_sha}}']);
      expect(args).to.match(/--head-sha \$\{\{\s*github\.event\.workflow_run\.head_sha\s*\}\}/);
      expect(args).to.match(new RegExp(`--pr \\$\\{\\{\\s*steps\\.${check!.id}\\.outputs\\.number\\s*\\}\\}`));

      // The validating script itself, run on what a hostile artifact could hold.
      const dir = await tempDir('envctl-pr-number-');
      try {
        await mkdir(join(dir, 'envctl-plan'));
        const run = async (content: string) => {
          await writeFile(join(dir, 'envctl-plan', 'pr-number'), content);
          await writeFile(join(dir, 'output'), '');
          const r = await execa('bash', ['-e', '-o', 'pipefail', '-c', check!.run!], { cwd: dir, reject: false, env: { GITHUB_OUTPUT: join(dir, 'output'), RUNNER_TEMP: dir } });
          return { exitCode: r.exitCode, outputs: parseOutputs(readFileSync(join(dir, 'output'), 'utf8')) };
        };
        expect(await run('7\n')).to.deep.equal({ exitCode: 0, outputs: { number: '7' } });
        expect(await run('1234')).to.deep.equal({ exitCode: 0, outputs: { number: '1234' } });
        for (const hostile of ['', '\n', 'seven', '7 --dir /', '7; curl evil.example', '$(id)', '-1', '7\nnumber=8']) {
          const r = await run(hostile);
          expect(r.exitCode, JSON.stringify(hostile)).to.not.equal(0);
          expect(r.outputs, JSON.stringify(hostile)).to.deep.equal({});
        }
      } finally {
        await removeDir(dir);
      }
    });
  });

  describe('action.yml', () => {
    it('is a composite action whose run steps all name bash', () => {
      expect(action.runs.using).to.equal('composite');
      const runSteps = action.runs.steps.filter((s) => s.run !== undefined);
      expect(runSteps).to.not.be.empty;
      for (const s of runSteps) expect(s.shell, s.id ?? s.name).to.equal('bash');
    });

    it('sets up Node 22 for itself, while envctl still runs on Node 20 (package.json engines)', () => {
      const setup = action.runs.steps.filter((s) => s.uses?.startsWith('actions/setup-node@'));
      expect(setup).to.have.length(1);
      expect(String(setup[0]!.with?.['node-version'])).to.equal('22');
      const engines = (JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { engines: { node: string } }).engines.node;
      expect(engines).to.match(/^>=\s*20(\.\d+)*$/);
    });

    it('has the inputs command, args, registry and config; command is required', () => {
      expect(Object.keys(action.inputs)).to.include.members(['command', 'args', 'registry', 'config']);
      expect(action.inputs.command!.required).to.equal(true);
    });

    it('has the outputs plan, matrix and images, each the same output of the run step, which writes it', () => {
      expect(Object.keys(action.outputs)).to.include.members(['plan', 'matrix', 'images']);
      const run = action.runs.steps.find((s) => s.id === 'run');
      expect(run, 'a step with id run').to.not.equal(undefined);
      for (const name of ['plan', 'matrix', 'images']) {
        expect(action.outputs[name]!.value.replace(/\s+/g, ''), name).to.equal(`\${{steps.run.outputs.${name}}}`);
        expect(run!.run, `the run step writes ${name}`).to.match(new RegExp(`\\b${name}(=|<<)`));
      }
    });

    it('its scripts take inputs only through env: no expression in any run script, every input mapped in env', () => {
      for (const s of action.runs.steps.filter((x) => typeof x.run === 'string')) {
        expect(s.run, s.id ?? s.name).to.not.include('${{');
      }
      const run = action.runs.steps.find((s) => s.id === 'run')!;
      const env = Object.values(run.env ?? {}).map((v) => String(v).replace(/\s+/g, ''));
      for (const input of Object.keys(action.inputs)) expect(env, `input ${input} in env`).to.include(`\${{inputs.${input}}}`);
      for (const [name, value] of Object.entries(run.env ?? {})) {
        if (/inputs\.(command|args|registry|config)\b/.test(String(value))) expect(run.run, `${name} used by the script`).to.include(`$${name}`);
      }
    });
  });

  describe('README', () => {
    it('"Pinning actions" lists exactly the actions the workflows and action.yml use, at the refs they use', () => {
      const used = new Set<string>();
      const steps = [...[...workflows.values()].flatMap((wf) => Object.values(wf.jobs).flatMap((j) => j.steps)), ...action.runs.steps];
      for (const step of steps) if (step.uses && /^[\w.-]+\/[\w.-]+@/.test(step.uses)) used.add(step.uses);
      const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
      const paragraph = /\*\*Pinning actions\.\*\*([\s\S]*?)\n\n/.exec(readme)?.[1] ?? '';
      const listed = new Set([...paragraph.matchAll(/`([\w.-]+\/[\w.-]+@[\w.-]+)`/g)].map((m) => m[1]!));
      expect(used.size).to.be.greaterThan(5);
      expect([...listed].sort()).to.deep.equal([...used].sort());
    });
  });
});
