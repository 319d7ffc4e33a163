/** A cap on requests in flight at once, so that many items cannot flood Connect or the function's sockets. */

/** Runs a task when a slot is free. */
export type Gate = <T>(task: () => Promise<T>) => Promise<T>;

/** No cap: the task runs at once. */
export const immediately: Gate = (task) => task();

/** At most `limit` tasks run; a finishing task hands its slot to the next. */
export function createGate(limit: number): Gate {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>): Promise<T> => {
    if (active < limit) active++;
    else await new Promise<void>((resolve) => waiting.push(resolve));
    try {
      return await task();
    } finally {
      const next = waiting.shift();
      if (next) next();
      else active--;
    }
  };
}
