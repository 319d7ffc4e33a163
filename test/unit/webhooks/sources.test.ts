import { isWebhookSource, signingSecretNames } from '../../../shared/webhooks/sources';

describe('sources', () => {
  it('knows stripe and github, and names their secrets', () => {
    expect(isWebhookSource('stripe')).toBe(true);
    expect(isWebhookSource('github')).toBe(true);
    expect(isWebhookSource('Stripe')).toBe(false);
    expect(isWebhookSource('toString')).toBe(false);
    expect(isWebhookSource(undefined)).toBe(false);
    expect(signingSecretNames('github')).toEqual({ current: 'WEBHOOK_GITHUB_CURRENT', previous: 'WEBHOOK_GITHUB_PREVIOUS' });
  });
});
