/**
 * Runner realities the workflows must respect, read from the files: every
 * job has a timeout, superseded pull-request runs are cancelled, artifacts
 * are uploaded so that "Re-run failed jobs" works, the comment workflow's
 * artifact lands outside the checkout, record keeps its results whatever
 * happens, the Pages site is optional, and every action is named so that
 * pinning it by commit SHA is one replacement.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { load } from 'js-yaml';
import type { Step, Workflow } from './fixtures/actions.js';

const ROOT = fileURLToPath(new URL('../../', import.meta.url));
const WORKFLOWS = join(ROOT, '.github', 'workflows');
const files = readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f)).sort();
const workflows = new Map(files.map((f) => [f, load(readFileSync(join(WORKFLOWS, f), 'utf8')) as Workflow]));
const action = load(readFileSync(join(ROOT, 'action.yml'), 'utf8')) as { runs: { steps: Step[] } };
const wf = (file: string) => workflows.get(file)!;
const flat = (v: unknown) => String(v ?? '').replace(/\s+/g, '');

/** Every step with `uses:`, where it is. */
const usesSteps = [
  ...[...workflows].flatMap(([file, w]) => Object.entries(w.jobs).flatMap(([job, j]) => j.steps.map((s) => ({ where: `${file} ${job}`, step: s })))),
  ...action.runs.steps.map((s) => ({ where: 'action.yml', step: s })),
].filter((x) => x.step.uses !== undefined);

describe('workflow rules: runner realities', () => {
  it('every job has timeout-minutes, within GitHub\'s 360 for hosted runners', () => {
    for (const [file, w] of workflows) {
      for (const [name, job] of Object.entries(w.jobs)) {
        const t = job['timeout-minutes'];
        expect(t, `${file} ${name}`).to.be.a('number');
        expect(t! > 0 && t! <= 360, `${file} ${name}: ${t}`).to.equal(true);
      }
    }
  });

  it('pull-request.yml cancels a superseded run of the same pull request; sync.yml never cancels', () => {
    const c = wf('pull-request.yml').concurrency as { group: string; 'cancel-in-progress': boolean };
    expect(flat(c.group)).to.contain('${{github.event.pull_request.number}}');
    expect(flat(c.group)).to.contain('github.workflow');
    expect(c['cancel-in-progress']).to.equal(true);
    expect((wf('sync.yml').concurrency as { 'cancel-in-progress': boolean })['cancel-in-progress']).to.equal(false);
    // A cancelled run completes too, and starts plan-comment.yml: that run posts nothing.
    expect(flat(wf('plan-comment.yml').jobs.comment!.if)).to.contain("github.event.workflow_run.conclusion!='cancelled'");
  });

  it('every artifact upload has overwrite: true, so "Re-run failed jobs" can upload again', () => {
    const uploads = usesSteps.filter((x) => x.step.uses!.startsWith('actions/upload-artifact@'));
    expect(uploads.length).to.be.at.least(3);
    for (const u of uploads) expect(String(u.step.with?.overwrite), u.where).to.equal('true');
  });

  it('plan-comment.yml downloads the artifact into RUNNER_TEMP, outside the checkout, and reads it there', () => {
    const steps = wf('plan-comment.yml').jobs.comment!.steps;
    const download = steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    const path = flat(download.with?.path);
    expect(path.startsWith('${{runner.temp}}/')).to.equal(true);
    const folder = path.slice('${{runner.temp}}'.length);
    expect(steps.find((s) => s.run?.includes('pr-number'))!.run).to.contain(`"$RUNNER_TEMP${folder}/pr-number"`);
    expect(flat(steps.find((s) => s.with?.command === 'comment')!.with?.args).startsWith(`\${{runner.temp}}${folder}/plan.md`)).to.equal(true);
  });

  it('the record job uploads the results it downloaded with if: always(), under a name its download pattern does not match', () => {
    const steps = wf('sync.yml').jobs.record!.steps;
    const download = steps.find((s) => s.uses?.startsWith('actions/download-artifact@'))!;
    const record = steps.findIndex((s) => s.with?.command === 'record');
    const upload = steps.findIndex((s) => s.uses?.startsWith('actions/upload-artifact@'));
    expect(upload).to.be.greaterThan(record);
    expect(flat(steps[upload]!.if)).to.equal('always()');
    expect(String(steps[upload]!.with?.path).replace(/\/$/, '')).to.equal(String(download.with?.path).replace(/\/$/, ''));
    const pattern = new RegExp(`^${String(download.with?.pattern).replace(/\*/g, '.*')}$`);
    expect(pattern.test(String(steps[upload]!.with?.name))).to.equal(false);
  });

  it('the site job is optional (vars.ENVCTL_SITE), configures Pages, and names the deployment URL as its environment URL', () => {
    const site = wf('sync.yml').jobs.site!;
    expect(flat(site.if)).to.contain("vars.ENVCTL_SITE=='true'");
    const deploy = site.steps.find((s) => s.uses?.startsWith('actions/deploy-pages@'))!;
    expect(deploy.id).to.be.a('string');
    expect(site.environment).to.deep.include({ name: 'github-pages' });
    expect(flat((site.environment as { url: string }).url)).to.equal(`\${{steps.${deploy.id}.outputs.page_url}}`);
    const configure = site.steps.findIndex((s) => s.uses?.startsWith('actions/configure-pages@'));
    expect(configure).to.be.within(0, site.steps.indexOf(deploy) - 1);
  });
});

describe('workflow rules: pinning actions by commit SHA', () => {
  const named = usesSteps.filter((x) => x.step.uses !== './');

  it('every action is owner/name@ref, a major version tag or a 40-hex commit SHA', () => {
    for (const { where, step } of named) expect(step.uses, where).to.match(/^[a-z0-9-]+\/[a-z0-9._-]+@(v\d+|[0-9a-f]{40})$/);
  });

  it('each action is at one ref in every file: pinning it is one replacement', () => {
    const refs = new Map<string, Set<string>>();
    for (const { step } of named) {
      const [name, ref] = step.uses!.split('@') as [string, string];
      refs.set(name, (refs.get(name) ?? new Set()).add(ref));
    }
    for (const [name, set] of refs) expect([...set], name).to.have.length(1);
  });

});
