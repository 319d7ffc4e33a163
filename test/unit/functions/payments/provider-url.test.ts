import { providerUrl } from '../../../../functions/payments/provider-url';

describe('providerUrl', () => {
  it.each([
    ['https://api.payments.example', undefined],
    ['https://api.payments.example/base/', undefined],
    ['http://127.0.0.1:4000', undefined],
    ['http://localhost:4000', undefined],
    ['http://[::1]:4000', undefined],
    ['http://payments.internal', 'true'],
  ])('accepts %s (allow http: %s)', (url, allowHttp) => {
    const result = providerUrl({ PAYMENTS_API_URL: url, PAYMENTS_API_ALLOW_HTTP: allowHttp });
    expect(result).toEqual({ ok: true, url: new URL(url) });
  });

  it.each([
    [undefined, 'PAYMENTS_API_URL is not set'],
    ['  ', 'PAYMENTS_API_URL is not set'],
    ['not a url', 'PAYMENTS_API_URL is not a URL'],
    ['http://payments.example', 'PAYMENTS_API_URL must be https (plain http only to loopback, or with PAYMENTS_API_ALLOW_HTTP=true)'],
    ['http://127.0.0.1.evil.example', 'PAYMENTS_API_URL must be https (plain http only to loopback, or with PAYMENTS_API_ALLOW_HTTP=true)'],
    ['ftp://127.0.0.1', 'PAYMENTS_API_URL must be https (plain http only to loopback, or with PAYMENTS_API_ALLOW_HTTP=true)'],
    ['https://user:pw@payments.example', 'PAYMENTS_API_URL must not carry credentials'],
  ])('refuses %p', (url, reason) => {
    expect(providerUrl({ PAYMENTS_API_URL: url })).toEqual({ ok: false, reason });
  });
});
