import { providerErrorCode } from '../../../../functions/payments/provider-error';

describe('providerErrorCode', () => {
  it('takes a flat error code', () => {
    expect(providerErrorCode({ error: 'idempotency_key_reused', message: 'anything' })).toBe('idempotency_key_reused');
  });

  it("takes Stripe's nested error code", () => {
    expect(providerErrorCode({ error: { code: 'card_declined', message: 'Your card was declined.' } })).toBe('card_declined');
  });

  it.each([
    ['a key echoed as the code', { error: 'payapi_demo_staging_nOyPQo2lRPS71JUDOnFOKuT5Cm5upfg9' }],
    ['digits', { error: 'error_42' }],
    ['capitals', { error: 'Card_Declined' }],
    ['spaces', { error: 'card declined' }],
    ['a leading underscore', { error: '_card' }],
    ['more than 40 characters', { error: 'a_'.repeat(20) + 'b' }],
    ['a number', { error: 402 }],
    ['no error member', { message: 'card_declined' }],
    ['a body that is not an object', ['card_declined']],
    ['no body', undefined],
  ])('drops %s', (_case, body) => {
    expect(providerErrorCode(body)).toBeUndefined();
  });
});
