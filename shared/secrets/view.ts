/**
 * `context.secrets`: a read-only view of one invocation's secret values that records which names
 * the handler actually reads, so that the audit says "read STRIPE_KEY", not "had access to ten".
 *
 * Names are getters on a per-middleware prototype: building a view costs one small object, and a
 * read costs a bit set. Values sit in a private field, so printing or serialising a view shows no
 * value (JSON gives `{}`, `console.log` lists names only).
 */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** Reads of the first 31 names are bits of a number; further names (rare) go to a set. */
const MASK_BITS = 31;

export class SecretsView {
  readonly #values: readonly (string | undefined)[];
  readonly #fromCache: number;
  readonly #coldStart: boolean;
  #read = 0;
  #readBeyondMask?: Set<number>;
  #reported = false;

  constructor(values: readonly (string | undefined)[], fromCache: number, coldStart: boolean) {
    this.#values = values;
    this.#fromCache = fromCache;
    this.#coldStart = coldStart;
  }

  /** The getter behind every name. */
  static read(view: SecretsView, index: number): string | undefined {
    if (index < MASK_BITS) view.#read |= 1 << index;
    else (view.#readBeyondMask ??= new Set()).add(index);
    return view.#values[index];
  }

  /** What the audit needs, once: undefined if nothing was read or it was already reported. */
  static takeReport(view: SecretsView): ViewReport | undefined {
    if (view.#reported || (view.#read === 0 && view.#readBeyondMask === undefined)) return undefined;
    view.#reported = true;
    return { readMask: view.#read, readBeyondMask: view.#readBeyondMask, fromCacheMask: view.#fromCache, coldStart: view.#coldStart };
  }

  /** Names only: a view printed by mistake reveals nothing. */
  [INSPECT](): string {
    return `SecretsView { ${Object.keys(Object.getPrototypeOf(this) as object).join(', ')} }`;
  }
}

export interface ViewReport {
  /** Bit i set: name i was read (i < 31). */
  readonly readMask: number;
  /** Indexes of 31 and more that were read. */
  readonly readBeyondMask?: ReadonlySet<number>;
  /** Bit i set: name i was served from the cache (i < 31; beyond that, counted as cached). */
  readonly fromCacheMask: number;
  readonly coldStart: boolean;
}

/** All of the first 31 names served from the cache. */
export const ALL_FROM_CACHE = -1;

export type SecretsViewClass = new (values: readonly (string | undefined)[], fromCache: number, coldStart: boolean) => SecretsView;

/** A view class whose getters are `names`, in this order. */
export function defineSecretsView(names: readonly string[]): SecretsViewClass {
  class View extends SecretsView {}
  names.forEach((name, index) => {
    Object.defineProperty(View.prototype, name, {
      get(this: SecretsView) {
        return SecretsView.read(this, index);
      },
      enumerable: true,
      configurable: false,
    });
  });
  return View;
}

/** The names a report says were read, in declaration order. */
export function namesRead(report: ViewReport, names: readonly string[]): string[] {
  const read: string[] = [];
  names.forEach((name, index) => {
    if (index < MASK_BITS ? (report.readMask & (1 << index)) !== 0 : report.readBeyondMask?.has(index)) read.push(name);
  });
  return read;
}

/** How many of the names read came from the cache. */
export function cacheHits(report: ViewReport, names: readonly string[]): number {
  let hits = 0;
  names.forEach((_name, index) => {
    if (index < MASK_BITS) {
      if ((report.readMask & report.fromCacheMask & (1 << index)) !== 0) hits++;
    } else if (report.readBeyondMask?.has(index)) {
      hits++;
    }
  });
  return hits;
}
