import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * Reads the stacks of a cloud assembly (a `cdk.out` folder): `manifest.json` lists the artifacts;
 * stacks point at their template files, nested assemblies (CDK stages) at sub-folders.
 */

export interface TemplateResource {
  Type: string;
  Properties?: Record<string, unknown>;
  Metadata?: Record<string, unknown>;
  Condition?: string;
}

export interface CfnTemplate {
  Resources?: Record<string, TemplateResource>;
  Parameters?: Record<string, { Default?: unknown }>;
  Conditions?: Record<string, unknown>;
  Mappings?: Record<string, Record<string, Record<string, unknown>>>;
  Outputs?: Record<string, { Value?: unknown; Export?: { Name?: unknown } }>;
}

export interface AssemblyStack {
  /** CloudFormation stack name. */
  stackName: string;
  /** Artifact id and display name (`Stage/Stack` inside a stage): both select the stack. */
  artifactId: string;
  displayName: string;
  /** Folder that the template's asset paths are relative to. */
  assemblyDir: string;
  template: CfnTemplate;
}

interface ManifestArtifact {
  type?: string;
  displayName?: string;
  properties?: { templateFile?: string; stackName?: string; directoryName?: string };
}

export function readCloudAssembly(cdkOut: string): AssemblyStack[] {
  const manifestPath = join(cdkOut, 'manifest.json');
  if (!existsSync(manifestPath)) {
    throw new Error(`no cloud assembly at ${cdkOut}: manifest.json is missing (run \`cdk synth\` first)`);
  }
  return readAssembly(cdkOut, 0);
}

function readAssembly(dir: string, depth: number): AssemblyStack[] {
  if (depth > 5) return [];
  const manifest = readJson<{ artifacts?: Record<string, ManifestArtifact> }>(join(dir, 'manifest.json'));
  const stacks: AssemblyStack[] = [];
  for (const [artifactId, artifact] of Object.entries(manifest.artifacts ?? {})) {
    const properties = artifact.properties ?? {};
    if (artifact.type === 'aws:cloudformation:stack' && properties.templateFile) {
      const templatePath = join(dir, properties.templateFile);
      stacks.push({
        stackName: properties.stackName ?? artifactId,
        artifactId,
        displayName: artifact.displayName ?? artifactId,
        assemblyDir: dirname(templatePath),
        template: readJson<CfnTemplate>(templatePath),
      });
    } else if (artifact.type === 'cdk:cloud-assembly' && properties.directoryName) {
      const nested = join(dir, properties.directoryName);
      if (existsSync(join(nested, 'manifest.json'))) stacks.push(...readAssembly(nested, depth + 1));
    }
  }
  return stacks;
}

function readJson<T>(path: string): T {
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as T;
  } catch (error) {
    throw new Error(`cannot read ${path}: ${(error as Error).message}`, { cause: error });
  }
}
