/**
 * Single flight: concurrent misses of a reference share one fetch, and every wait for a fetch is
 * bounded by the waiter's own deadline.
 */
import { withinDeadline, type Clock } from '../deadline';

/** One fetch in progress for one or more references. */
export interface Flight {
  /** Order of the fetches: an older outcome never overwrites a newer one. */
  readonly seq: number;
  readonly deadline: number;
  settled: boolean;
  done: Promise<void>;
}

/** A flight still unsettled this long after its deadline was lost (e.g. frozen mid-request): start afresh. */
const ABANDONED_FLIGHT_GRACE_MS = 1000;

/** Whether `flight` is worth joining rather than starting another. */
export function isLive(flight: Flight | undefined, now: number): flight is Flight {
  return flight !== undefined && !flight.settled && now <= flight.deadline + ABANDONED_FLIGHT_GRACE_MS;
}

/** A flight that runs `fetch` and hands its outcome to `land` once settled. */
export function startFlight<T>(seq: number, deadline: number, fetch: () => Promise<T>, land: (outcome: T) => void): Flight {
  const flight: Flight = { seq, deadline, settled: false, done: Promise.resolve() };
  flight.done = fetch().then((outcome) => {
    flight.settled = true;
    land(outcome);
  });
  return flight;
}

/** Waits until every flight has settled, or until `deadline`, whichever comes first. */
export async function awaitFlights(flights: Iterable<Flight>, deadline: number, clock: Clock): Promise<void> {
  const done = Promise.all([...new Set(flights)].map((flight) => flight.done));
  await withinDeadline(done, { deadline, clock }).catch(() => undefined);
}
