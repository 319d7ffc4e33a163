/**
 * `context.secrets`: a read-only view of one invocation's secret values that records which names
 * the handler actually reads, so that the audit says "read STRIPE_KEY", not "had access to ten".
 *
 * Each middleware gets its own view class whose prototype has one getter per name: building a view
 * costs one small object, a read costs a bit set. Values sit in a private field, so printing or
 * serialising a view shows no value (JSON gives `{}`, `console.log` lists names only).
 */
const INSPECT = Symbol.for('nodejs.util.inspect.custom');
/** How many names have their reads kept as bits of a number; reads of further names (rare) go to a set. */
export const BIT_TRACKED_NAMES = 31;
/** All of the first 31 names served from the cache. */
const ALL_FROM_CACHE = -1;

/** What a view needs besides its values; shared by every view of a snapshot. */
export interface ViewOrigin {
  /** Bit i set: name i was served from the cache (i < 31; beyond that, counted as cached). */
  readonly fromCacheMask: number;
  readonly coldStart: boolean;
}

/** The reads of one view, with where its values came from. */
export interface ViewReport extends ViewOrigin {
  /** Bit i set: name i was read (i < 31). */
  readonly readMask: number;
  /** Indexes of 31 and more that were read. */
  readonly readBeyondMask?: ReadonlySet<number>;
}

/** The warm path's origin: everything from the cache, no cold start. */
export const WARM: ViewOrigin = Object.freeze({ fromCacheMask: ALL_FROM_CACHE, coldStart: false });

export interface SecretsViewClass {
  new (values: readonly (string | undefined)[], origin: ViewOrigin): object;
  /**
   * What the audit needs about the reads so far, which then start over: undefined for another
   * class's view or when nothing was read since the last report.
   */
  takeReport(view: unknown): ViewReport | undefined;
}

/** A view class whose getters are `names`, in this order. */
export function defineSecretsView(names: readonly string[]): SecretsViewClass {
  // Not a subclass, and few fields: a view is built on every invocation.
  class SecretsView {
    readonly #values: readonly (string | undefined)[];
    readonly #origin: ViewOrigin;
    #read = 0;
    #readBeyondMask: Set<number> | undefined = undefined;

    constructor(values: readonly (string | undefined)[], origin: ViewOrigin) {
      this.#values = values;
      this.#origin = origin;
    }

    static read(view: SecretsView, index: number): string | undefined {
      if (index < BIT_TRACKED_NAMES) view.#read |= 1 << index;
      else (view.#readBeyondMask ??= new Set()).add(index);
      return view.#values[index];
    }

    static takeReport(view: unknown): ViewReport | undefined {
      if (typeof view !== 'object' || view === null || !(#read in view)) return undefined;
      if (view.#read === 0 && view.#readBeyondMask === undefined) return undefined;
      const origin = view.#origin;
      const report: ViewReport = { readMask: view.#read, readBeyondMask: view.#readBeyondMask, fromCacheMask: origin.fromCacheMask, coldStart: origin.coldStart };
      view.#read = 0;
      view.#readBeyondMask = undefined;
      return report;
    }

    /** Names only: a view printed by mistake reveals nothing. */
    [INSPECT](): string {
      return `SecretsView { ${names.join(', ')} }`;
    }
  }
  names.forEach((name, index) => {
    Object.defineProperty(SecretsView.prototype, name, {
      get(this: SecretsView) {
        return SecretsView.read(this, index);
      },
      enumerable: true,
      configurable: false,
    });
  });
  return SecretsView;
}

/** The origin of values fetched for this invocation: bit i set when value i came from the cache. */
export function fetchedOrigin(fromCache: readonly boolean[], coldStart: boolean): ViewOrigin {
  let fromCacheMask = 0;
  fromCache.forEach((cached, index) => {
    if (cached && index < BIT_TRACKED_NAMES) fromCacheMask |= 1 << index;
  });
  return { fromCacheMask, coldStart };
}

/** The names a report says were read, in declaration order. */
export function namesRead(report: ViewReport, names: readonly string[]): string[] {
  return names.filter((_name, index) => (index < BIT_TRACKED_NAMES ? (report.readMask & (1 << index)) !== 0 : report.readBeyondMask?.has(index)));
}

/** How many of the names read came from the cache (names beyond the mask count as cached). */
export function cacheHits(report: ViewReport): number {
  return bitCount(report.readMask & report.fromCacheMask) + (report.readBeyondMask?.size ?? 0);
}

function bitCount(mask: number): number {
  let bits = mask - ((mask >>> 1) & 0x55555555);
  bits = (bits & 0x33333333) + ((bits >>> 2) & 0x33333333);
  return (((bits + (bits >>> 4)) & 0x0f0f0f0f) * 0x01010101) >>> 24;
}
