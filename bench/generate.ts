/** Generated environments for benchmarks: realistic sizes, every feature used somewhere. */
export function generateEnvironments(count: number): Record<string, string> {
  const files: Record<string, string> = {};
  for (let i = 0; i < count; i++) {
    const name = `env-${String(i).padStart(4, '0')}`;
    const base = i % 10 === 0 || i < 10 ? 'base: default' : `base: { environment: env-${String(i - (i % 10)).padStart(4, '0')} }`;
    const folder = i % 3 === 0;
    const path = folder ? `environments/${name}/environment.yaml` : `environments/${name}.yaml`;
    files[path] = [
      '# yaml-language-server: $schema=../schemas/environment.schema.json',
      `title: Generated environment ${i}`,
      'description: |',
      '  A generated environment for benchmarks, with a description that',
      '  runs over a couple of lines like real ones do.',
      `owner: "@acme/team-${i % 17}"`,
      'visibility: organization',
      base,
      'instructions: |',
      '  RUN apt-get update \\',
      '   && apt-get install -y --no-install-recommends python3 python3-pip git curl \\',
      '   && rm -rf /var/lib/apt/lists/*',
      '  ENV PATH=/opt/tools/bin:$PATH',
      ...(folder ? ['  COPY requirements.txt /opt/requirements.txt'] : []),
      `  RUN pip3 install --break-system-packages numpy==1.${i % 26}.${i} pandas scipy`,
      'workspaceTools:',
      '  jupyter:',
      '    title: "Jupyter"',
      '    iconUrl: "/assets/images/workspace-logos/Jupyter.svg"',
      '    start: ["/var/opt/workspaces/jupyter/start"]',
      '    httpProxy:',
      '      port: 8888',
      '      rewrite: false',
      '      internalPath: "/{{ownerUsername}}/{{projectName}}/{{sessionPathComponent}}/{{runId}}/{{#if pathToOpen}}tree/{{pathToOpen}}{{/if}}"',
      '      requireSubdomain: false',
      '    supportedFileExtensions: [".ipynb"]',
      'scripts:',
      '  preRun: |',
      '    echo "starting"',
      'variables:',
      `  INDEX: "${i}"`,
      '  MODE: batch',
      '  SERVICE_TOKEN: { secret: true }',
      'clusterTypes: [spark, dask]',
      '',
    ].join('\n');
    if (folder) files[`environments/${name}/requirements.txt`] = 'numpy\npandas\n';
  }
  return files;
}
