import { withinDeadline } from '../../../shared/secrets/deadline';

describe('withinDeadline', () => {
  it('passes the result through', async () => {
    await expect(withinDeadline(Promise.resolve(7), { clock: Date.now, deadline: Date.now() + 1_000 })).resolves.toBe(7);
    await expect(withinDeadline(Promise.reject(new Error('no')), { clock: Date.now, deadline: Date.now() + 1_000 })).rejects.toThrow('no');
  });

  it('rejects with TIMEOUT at the deadline or when aborted', async () => {
    const never = new Promise<number>(() => undefined);
    await expect(withinDeadline(never, { clock: Date.now, deadline: Date.now() + 20 })).rejects.toMatchObject({ code: 'TIMEOUT' });
    await expect(withinDeadline(never, { clock: Date.now, deadline: Date.now() + 5_000, signal: AbortSignal.timeout(20) })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });

  it('a deadline beyond the timer range (or Infinity) does not fire at once', async () => {
    const slow = new Promise<string>((resolve) => setTimeout(() => resolve('done'), 30));
    await expect(withinDeadline(slow, { clock: Date.now, deadline: Infinity })).resolves.toBe('done');
  });

  it('measures the deadline on the clock it is given', async () => {
    const never = new Promise<number>(() => undefined);
    // By this clock the deadline passed a minute ago, whatever the system time says.
    const ahead = (): number => Date.now() + 60_000;
    await expect(withinDeadline(never, { clock: ahead, deadline: Date.now() + 1_000 })).rejects.toMatchObject({ code: 'TIMEOUT' });
  });
});
