/** Validation of duration options, whose unit (milliseconds) is in their name. */

export function positiveMs(name: string, value: number): number {
  if (!(value > 0)) throw new RangeError(`${name} must be a positive number of milliseconds, got ${value}`);
  return value;
}

export function nonNegativeMs(name: string, value: number): number {
  if (!(value >= 0)) throw new RangeError(`${name} must be zero or a positive number of milliseconds, got ${value}`);
  return value;
}
