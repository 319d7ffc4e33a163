import { defineStage, STAGE_NAMES, stageConfig, type StageSettings } from '../../infra/config';
import { parseReference } from '../../shared/secrets/reference';

/** Every vault a stage's configuration points into: its references and its rotation items. */
function vaultsOf(config: ReturnType<typeof stageConfig>): Set<string> {
  const referenced = config.functions.flatMap((fn) => Object.values(fn.secrets).map((reference) => parseReference(reference).vault));
  return new Set([...referenced, ...config.rotation.items.map((item) => item.vault)]);
}

describe('stage configuration', () => {
  it.each(STAGE_NAMES)('points every reference and rotation item of %s into its own vaults', (stage) => {
    const config = stageConfig(stage);
    expect(vaultsOf(config)).toEqual(new Set(Object.values(config.vaults)));
  });

  it('moves a whole stage to other vaults by changing `vaults` alone', () => {
    const { functions: _functions, rotation, ...base } = stageConfig('staging');
    const vaults = { payments: 'team-payments', webhooks: 'team-webhooks', database: 'team-database' };
    const settings: StageSettings = {
      ...base,
      vaults,
      paymentsApiUrl: 'https://payments.example.org',
      rotation: { schedule: rotation.schedule, writeTokenSecretName: rotation.writeTokenSecretName },
    };
    const config = defineStage(settings);
    expect(vaultsOf(config)).toEqual(new Set(Object.values(vaults)));
    expect(config.rotation.items.map((item) => item.vault)).toEqual(config.rotation.items.map(() => 'team-webhooks'));
    expect(config.functions.find((fn) => fn.name === 'payments')?.environment).toEqual({ PAYMENTS_API_URL: 'https://payments.example.org' });
  });
});
