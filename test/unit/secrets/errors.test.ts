import { ConnectError, isTransient, SecretDeclarationError } from '../../../shared/secrets/errors';

const REFERENCE = 'op://payments/stripe/credential';

describe('ConnectError.retryable', () => {
  it('derives from the code by default', () => {
    expect(new ConnectError('SERVER', 'server error', { status: 503 }).retryable).toBe(true);
    expect(new ConnectError('FORBIDDEN', 'vault out of scope', { status: 403 }).retryable).toBe(false);
    expect(new ConnectError('TOKEN_UNAVAILABLE', 'no token').retryable).toBe(isTransient('TOKEN_UNAVAILABLE'));
    expect(isTransient('TOKEN_UNAVAILABLE')).toBe(false);
  });

  it('takes an explicit override either way', () => {
    expect(new ConnectError('TOKEN_UNAVAILABLE', 'Secrets Manager unreachable', { retryable: true }).retryable).toBe(true);
    expect(new ConnectError('SERVER', 'server error', { retryable: false }).retryable).toBe(false);
  });

  it('keeps the override when attributed to a reference', () => {
    const outage = new ConnectError('TOKEN_UNAVAILABLE', 'Secrets Manager unreachable', { retryable: true, retryAfterMs: 2000 });
    const attributed = outage.forReference(REFERENCE);
    expect(attributed).not.toBe(outage);
    expect(attributed).toMatchObject({ code: 'TOKEN_UNAVAILABLE', retryable: true, retryAfterMs: 2000, reference: REFERENCE });
    expect(attributed.message).toBe(`Secrets Manager unreachable (${REFERENCE})`);
  });
});

describe('SecretDeclarationError', () => {
  it('names the declared secret and the reason', () => {
    const error = new SecretDeclarationError('STRIPE_KEY', 'is not declared in this middleware');
    expect(error).toBeInstanceOf(Error);
    expect(error).toMatchObject({ name: 'SecretDeclarationError', code: 'INVALID_DECLARATION', secretName: 'STRIPE_KEY' });
    expect(error.message).toBe('Secret STRIPE_KEY: is not declared in this middleware');
  });
});
