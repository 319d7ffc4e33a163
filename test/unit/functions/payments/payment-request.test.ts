import fc from 'fast-check';
import { isValidIdempotencyKey, MAX_AMOUNT, parsePaymentRequest } from '../../../../functions/payments/payment-request';

function invalidNames(raw: string): string[] {
  const result = parsePaymentRequest(raw);
  if (result.ok) throw new Error('expected the body to be refused');
  return result.invalidParams.map((param) => param.name);
}

describe('parsePaymentRequest', () => {
  it('accepts a minimal payment and upper-cases the currency', () => {
    expect(parsePaymentRequest('{"amount":1250,"currency":"eur"}')).toEqual({ ok: true, payment: { amount: 1250, currency: 'EUR' } });
  });

  it('keeps description and metadata', () => {
    const raw = JSON.stringify({ amount: 1, currency: 'USD', description: 'Order 42', metadata: { order: '42' } });
    expect(parsePaymentRequest(raw)).toEqual({
      ok: true,
      payment: { amount: 1, currency: 'USD', description: 'Order 42', metadata: { order: '42' } },
    });
  });

  it.each([
    ['', 'The request body is empty; expected a JSON payment object.'],
    ['   ', 'The request body is empty; expected a JSON payment object.'],
    ['{amount: 1}', 'The request body is not valid JSON.'],
    ['amount=1&currency=USD', 'The request body is not valid JSON.'],
    ['[1,2]', 'The request body must be a JSON object.'],
    ['null', 'The request body must be a JSON object.'],
    ['"text"', 'The request body must be a JSON object.'],
  ])('refuses %p', (raw, detail) => {
    expect(parsePaymentRequest(raw)).toEqual({ ok: false, detail, invalidParams: [] });
  });

  it.each([
    [{ currency: 'USD' }, ['amount']],
    [{ amount: 0, currency: 'USD' }, ['amount']],
    [{ amount: -5, currency: 'USD' }, ['amount']],
    [{ amount: 12.5, currency: 'USD' }, ['amount']],
    [{ amount: '100', currency: 'USD' }, ['amount']],
    [{ amount: MAX_AMOUNT + 1, currency: 'USD' }, ['amount']],
    [{ amount: 100 }, ['currency']],
    [{ amount: 100, currency: 'US' }, ['currency']],
    [{ amount: 100, currency: 'US1' }, ['currency']],
    [{ amount: 100, currency: 'EURO' }, ['currency']],
    [{ amount: 100, currency: 'USD', description: 7 }, ['description']],
    [{ amount: 100, currency: 'USD', description: 'x'.repeat(501) }, ['description']],
    [{ amount: 100, currency: 'USD', metadata: ['a'] }, ['metadata']],
    [{ amount: 100, currency: 'USD', metadata: { a: 1 } }, ['metadata']],
    [{ amount: 100, currency: 'USD', ammount: 100 }, ['ammount']],
    [{ amount: 'x', currency: 1, extra: true }, ['amount', 'currency', 'extra']],
  ])('names the invalid fields of %j', (body, names) => {
    expect(invalidNames(JSON.stringify(body))).toEqual(names);
  });

  it('never throws, and accepts only positive integer amounts with three-letter currencies', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string(), fc.json(), fc.record({ amount: fc.anything(), currency: fc.anything() }).map((v) => JSON.stringify(v) ?? '')), (raw) => {
        const result = parsePaymentRequest(raw);
        if (result.ok) {
          expect(Number.isInteger(result.payment.amount) && result.payment.amount > 0).toBe(true);
          expect(result.payment.currency).toMatch(/^[A-Z]{3}$/);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('isValidIdempotencyKey', () => {
  it.each([['a'], ['order-42:attempt-1'], ['x'.repeat(255)]])('accepts %p', (key) => expect(isValidIdempotencyKey(key)).toBe(true));
  it.each([[''], ['has space'], ['x'.repeat(256)], ['é'], ['line\nbreak']])('refuses %p', (key) => expect(isValidIdempotencyKey(key)).toBe(false));
});
