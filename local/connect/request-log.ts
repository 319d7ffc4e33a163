// Every request the server saw, for assertions: method, path, raw query, status, token name.
import { methodMatches, pathMatches } from './paths';

export interface LoggedRequest {
  method: string;
  /** Without query and trailing slash. */
  path: string;
  /** Raw (undecoded) query string, without `?`. */
  query: string;
  /** 0 until answered; stays 0 for resets and hangs. */
  status: number;
  /** The seed name of the token presented, when it is a known one. */
  tokenName?: string;
  /** Arrival time, epoch ms. */
  at: number;
}

export interface RequestFilter {
  method?: string;
  path?: string | RegExp;
}

export class RequestLog {
  private list: LoggedRequest[] = [];

  get entries(): readonly LoggedRequest[] {
    return this.list;
  }

  /** Logged on arrival, so a hanging request is already counted. */
  record(entry: LoggedRequest): LoggedRequest {
    this.list.push(entry);
    return entry;
  }

  count(filter: RequestFilter = {}): number {
    return this.list.filter((entry) => methodMatches(filter.method, entry.method) && pathMatches(filter.path, entry.path))
      .length;
  }

  reset(): void {
    this.list = [];
  }
}
