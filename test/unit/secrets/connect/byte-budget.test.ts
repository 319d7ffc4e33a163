import { ByteBudget } from '../../../../shared/secrets/connect/byte-budget';

describe('ByteBudget', () => {
  it('counts every chunk, and says false from the chunk that goes over the limit on', () => {
    const budget = new ByteBudget(100);
    expect(budget.spend(60)).toBe(true);
    expect(budget.remainingBytes).toBe(40);
    expect(budget.spend(40)).toBe(true);
    expect(budget.exhausted).toBe(false);
    expect(budget.spend(1)).toBe(false);
    expect(budget.exhausted).toBe(true);
    expect(budget.bytesRead).toBe(101);
    expect(budget.remainingBytes).toBe(0);
  });

  it('its error is a non-retryable INVALID_RESPONSE that says what the budget is', () => {
    expect(new ByteBudget(2048).exceeded(200)).toMatchObject({
      code: 'INVALID_RESPONSE',
      retryable: false,
      status: 200,
      message: "Connect's answers to one resolve exceeded its budget of 2048 bytes",
    });
  });
});
