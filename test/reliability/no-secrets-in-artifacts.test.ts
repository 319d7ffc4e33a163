/**
 * Nothing secret is built into what `cdk deploy` uploads: for both stages, the templates, every
 * file of the cloud assembly (function bundles and their source maps included) and each function's
 * environment hold no value of the demo vault and no Connect token, in any encoding the leak scan
 * knows. A function's environment carries 1Password references and the ARN of the Connect token's
 * secret, never a token or a value.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { isReference } from '../../shared/secrets/reference';
import { collectSecretValues, expectNoLeaks, scanForLeaks } from '../helpers/leak-scan';
import { synthesizedStage, type SynthesizedStage } from './support/stage';

const SECRETS = collectSecretValues();

interface LambdaResource {
  Type: string;
  Properties?: { FunctionName?: unknown; Environment?: { Variables?: Record<string, unknown> } };
}

function filesUnder(folder: string): string[] {
  return readdirSync(folder).flatMap((name) => {
    const path = join(folder, name);
    return statSync(path).isDirectory() ? filesUnder(path) : [path];
  });
}

function functionEnvironments(stage: SynthesizedStage): Record<string, Record<string, unknown>> {
  const template = JSON.parse(readFileSync(join(stage.cdkOut, `${stage.stackName}.template.json`), 'utf8')) as { Resources: Record<string, LambdaResource> };
  return Object.fromEntries(
    Object.entries(template.Resources)
      .filter(([, resource]) => resource.Type === 'AWS::Lambda::Function')
      .map(([id, resource]) => [id, resource.Properties?.Environment?.Variables ?? {}]),
  );
}

describe.each(['staging', 'prod'] as const)('stage %s', (stageName) => {
  let stage: SynthesizedStage;

  beforeAll(async () => {
    stage = await synthesizedStage(stageName);
  }, 240_000);

  test('the scan finds a seeded value, so a clean result means something', () => {
    const planted = `const key = ${JSON.stringify(SECRETS[SECRETS.length - 1])};`;
    expect(scanForLeaks({ planted }, SECRETS)).not.toHaveLength(0);
  });

  test('no file of the cloud assembly holds a vault value or a token', () => {
    const files = filesUnder(stage.cdkOut);
    expect(files.some((file) => file.endsWith('.template.json'))).toBe(true);
    expect(files.filter((file) => file.endsWith('index.js')).length).toBeGreaterThanOrEqual(3);
    for (const file of files) {
      expectNoLeaks({ [relative(stage.cdkOut, file)]: readFileSync(file, 'utf8') }, SECRETS);
    }
  }, 120_000);

  test("each function's environment holds references and the token secret's ARN, never a token", () => {
    const environments = functionEnvironments(stage);
    expect(Object.keys(environments).length).toBeGreaterThanOrEqual(3);
    let references = 0;
    for (const [fn, variables] of Object.entries(environments)) {
      expect(Object.keys(variables)).not.toContain('OP_CONNECT_TOKEN');
      expect(Object.keys(variables)).toContain('OP_CONNECT_TOKEN_SECRET_ARN');
      const arn = JSON.stringify(variables['OP_CONNECT_TOKEN_SECRET_ARN']);
      expect(arn).toMatch(/:secretsmanager:/);
      for (const [name, value] of Object.entries(variables)) {
        expectNoLeaks({ [`${fn}.${name}`]: typeof value === 'string' ? value : JSON.stringify(value) }, SECRETS);
        if (isReference(value)) references += 1;
      }
    }
    // Health, Webhooks (4) and Payments declare their secrets as op:// references.
    expect(references).toBeGreaterThanOrEqual(6);
  });
});
