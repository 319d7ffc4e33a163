// Delays that end when the server closes, so no timer outlives it.
import { setTimeout as sleep } from 'node:timers/promises';

export class Lifetime {
  private readonly controller = new AbortController();

  get closed(): boolean {
    return this.controller.signal.aborted;
  }

  /** Resolves after `ms`; rejects as soon as the server closes. */
  async delay(ms: number): Promise<void> {
    if (this.closed) throw new Error('server closed');
    if (ms > 0) await sleep(ms, undefined, { signal: this.controller.signal });
  }

  end(): void {
    this.controller.abort();
  }
}
