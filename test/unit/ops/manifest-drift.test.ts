import { InvalidReferenceError } from '../../../shared/secrets/errors';
import { compareDeclarations, shapeOf } from '../../../shared/ops/drift';
import { buildManifest, ManifestError, manifestEntries, parseManifest, type FunctionSecrets } from '../../../shared/ops/manifest';

describe('secrets manifest', () => {
  const functions: FunctionSecrets[] = [
    { name: 'webhooks', secrets: { WEBHOOK_CURRENT: 'op://vault/webhook/current', WEBHOOK_PREVIOUS: 'op://vault/webhook/previous' } },
    { name: 'health', secrets: { DATABASE_URL: 'op://vault/database/connection/url' } },
    { name: 'quiet' },
  ];

  it('round-trips through JSON, as synth hands it to the canary', () => {
    const manifest = buildManifest(functions);
    expect(parseManifest(JSON.stringify(manifest))).toEqual(manifest);
    expect(manifestEntries(manifest).map((entry) => [entry.functionName, entry.name, entry.reference.section ?? null])).toEqual([
      ['health', 'DATABASE_URL', 'connection'],
      ['webhooks', 'WEBHOOK_CURRENT', null],
      ['webhooks', 'WEBHOOK_PREVIOUS', null],
    ]);
  });

  it('rejects a missing, malformed or invalid manifest with a message naming the problem', () => {
    expect(() => parseManifest(undefined)).toThrow(new ManifestError('OP_SECRETS_MANIFEST is not set'));
    expect(() => parseManifest('{')).toThrow('OP_SECRETS_MANIFEST is not valid JSON');
    expect(() => parseManifest('{"fn":{"A":3}}')).toThrow('fn.A must be a reference string');
    expect(() => parseManifest('{"fn":{"A":"op://vault//field"}}')).toThrow(InvalidReferenceError);
    expect(() => buildManifest([{ name: 'a' }, { name: 'a' }])).toThrow('function "a" is declared twice');
  });
});

describe('drift between declarations', () => {
  it('names functions and secrets that one stage declares and the other does not', () => {
    const staging = { stage: 'staging', manifest: { api: { KEY: 'op://s/i/f', EXTRA: 'op://s/i/g' }, cron: {} } };
    const prod = { stage: 'prod', manifest: { api: { KEY: 'op://p/i/f', NEW: 'op://p/i/h' } } };
    expect(compareDeclarations(staging, prod).map((finding) => [finding.kind, finding.stage, finding.functionName, finding.name])).toEqual([
      ['missing-secret', 'prod', 'api', 'EXTRA'],
      ['missing-function', 'prod', 'cron', undefined],
      ['missing-secret', 'staging', 'api', 'NEW'],
    ]);
  });

  it('describes an item by section, label and type only', () => {
    const shape = shapeOf({
      id: 'i',
      title: 't',
      version: 1,
      vault: { id: 'v' },
      category: 'DATABASE',
      sections: [{ id: 's1', label: 'connection' }],
      fields: [
        { id: 'a', label: 'url', type: 'CONCEALED', value: 'postgres://secret', section: { id: 's1' } },
        { id: 'b', label: 'Notes', value: 'plain' },
      ],
    });
    expect([...shape.entries()]).toEqual([
      ['connection/url', { field: 'connection/url', type: 'CONCEALED' }],
      ['notes', { field: 'Notes', type: 'STRING' }],
    ]);
    expect(JSON.stringify([...shape.entries()])).not.toContain('secret');
  });
});
