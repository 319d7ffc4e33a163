import { jsonResponse } from '../../../shared/http/responses';

describe('jsonResponse', () => {
  it('builds JSON answers that are never cached', () => {
    expect(jsonResponse(202, { received: true }, { 'Idempotency-Key': 'k' })).toEqual({
      statusCode: 202,
      headers: { 'Content-Type': 'application/json', 'Cache-Control': 'no-store', 'Idempotency-Key': 'k' },
      body: '{"received":true}',
    });
  });
});
