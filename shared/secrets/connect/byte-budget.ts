/**
 * How many bytes of Connect's answers one `resolve` may read, all its responses together. A cap
 * per response is not enough: with many requests in flight, a server sending huge bodies on all
 * of them would still exhaust the function's memory. The transport counts every chunk it
 * receives against the budget, and abandons the read that goes over it.
 */
import { ConnectError } from '../errors';

export class ByteBudget {
  private received = 0;

  constructor(
    /** Bytes that may be read in all. */
    readonly limitBytes: number,
  ) {}

  /** Bytes received so far, the chunk that went over the limit included. */
  get bytesRead(): number {
    return this.received;
  }

  /** Bytes that may still be read. */
  get remainingBytes(): number {
    return Math.max(0, this.limitBytes - this.received);
  }

  get exhausted(): boolean {
    return this.received > this.limitBytes;
  }

  /** Counts a chunk just received; false once the total is over the limit. */
  spend(bytes: number): boolean {
    this.received += bytes;
    return !this.exhausted;
  }

  /** What a read over the budget fails with. Asking again would read as much again: not retryable. */
  exceeded(status?: number): ConnectError {
    return new ConnectError('INVALID_RESPONSE', `Connect's answers to one resolve exceeded its budget of ${this.limitBytes} bytes`, {
      status,
      retryable: false,
    });
  }
}
