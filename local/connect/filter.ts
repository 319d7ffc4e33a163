// SCIM-style `filter` query (`title eq "x"`, `name eq "x"`, `tag eq "x"`, joined by `and`).
//
// `@1password/connect` puts the title into the URL without encoding it, so a `&` splits the query,
// `+` and `%` arrive raw and a `#` cuts the rest off as a fragment. Two readings are therefore
// tried: a lenient decode of everything after `filter=`, and a comparison of the raw query with
// exactly what that SDK would have sent for a candidate title.
import { badRequest } from './errors';

export type FilterOperator = 'eq' | 'co' | 'sw';

export interface FilterClause {
  attribute: string;
  operator: FilterOperator;
  value: string;
}

export interface FilterSubject {
  title: string;
  tags?: readonly string[];
}

export interface FilterOptions {
  /** Attribute names that compare against the subject's title (`title`, plus `name` for vaults). */
  titleAttributes: readonly string[];
  /** Whether `tag eq "x"` is understood. */
  tags: boolean;
}

const HEX_PAIR = /^[0-9a-fA-F]{2}$/;

/** Percent-decodes what decodes, keeps every other `%` literally, and never throws. */
export function lenientDecode(text: string, plusIsSpace: boolean): string {
  const bytes: number[] = [];
  for (let i = 0; i < text.length; i++) {
    const char = text[i]!;
    const pair = text.slice(i + 1, i + 3);
    if (char === '%' && HEX_PAIR.test(pair)) {
      bytes.push(parseInt(pair, 16));
      i += 2;
    } else if (char === '+' && plusIsSpace) {
      bytes.push(0x20);
    } else {
      const code = text.codePointAt(i)!;
      if (code > 0xffff) i += 1;
      bytes.push(...Buffer.from(String.fromCodePoint(code), 'utf8'));
    }
  }
  return Buffer.from(bytes).toString('utf8');
}

/** The raw text after `filter=`, up to the end of the query (a raw `&` may belong to the value). */
function rawFilterText(rawQuery: string): string | undefined {
  const match = /(?:^|&)filter=/.exec(rawQuery);
  return match ? rawQuery.slice(match.index + match[0].length) : undefined;
}

/** Candidate filter texts, longest first: all of it, then each prefix before a `&name=`. */
function candidateTexts(raw: string): string[] {
  const cuts = [...raw.matchAll(/&(?=[A-Za-z_]+=)/g)].map((m) => m.index).reverse();
  return [raw, ...cuts.map((cut) => raw.slice(0, cut))];
}

const CLAUSE = /^\s*([A-Za-z]+)\s+(eq|co|sw)\s+"((?:[^"\\]|\\.)*)"\s*/i;

export function parseFilter(text: string): FilterClause[] | undefined {
  const clauses: FilterClause[] = [];
  let rest = text;
  for (;;) {
    const match = CLAUSE.exec(rest);
    if (!match) return undefined;
    const [whole, attribute, operator, quoted] = match as unknown as [string, string, string, string];
    clauses.push({
      attribute: attribute.toLowerCase(),
      operator: operator.toLowerCase() as FilterOperator,
      value: quoted.replace(/\\(.)/g, '$1'),
    });
    rest = rest.slice(whole.length);
    if (rest.length === 0) return clauses;
    const joiner = /^and\s+/i.exec(rest);
    if (!joiner) return undefined;
    rest = rest.slice(joiner[0].length);
  }
}

/** URL forms use `+` for spaces; a raw SDK filter uses `%20`, so a `+` there is a literal plus. */
function decodeFilterText(raw: string): string {
  return lenientDecode(raw, /^[A-Za-z]+\+/.test(raw));
}

function isUnderstood(clause: FilterClause, options: FilterOptions): boolean {
  return options.titleAttributes.includes(clause.attribute) || (options.tags && clause.attribute === 'tag');
}

function compare(actual: string, clause: FilterClause): boolean {
  // SCIM string comparisons are case-insensitive unless an attribute is declared case-exact.
  const a = actual.toLowerCase();
  const b = clause.value.toLowerCase();
  if (clause.operator === 'eq') return a === b;
  if (clause.operator === 'co') return a.includes(b);
  return a.startsWith(b);
}

function clauseMatches(clause: FilterClause, subject: FilterSubject, options: FilterOptions): boolean {
  if (options.titleAttributes.includes(clause.attribute)) return compare(subject.title, clause);
  return (subject.tags ?? []).some((tag) => compare(tag, clause));
}

/** The query string `@1password/connect` 1.4 sends for `attribute eq "title"` (it does not encode). */
export function sdkFilterQuery(attribute: string, title: string): string {
  return new URL(`http://connect.invalid/?filter=${attribute} eq "${title}"`).search.slice(1);
}

const CUT_AT_FRAGMENT = /^\s*([A-Za-z]+)\s+eq\s+"[^"]*$/i;

export class Filter {
  private constructor(
    private readonly rawQuery: string,
    private readonly clauses: FilterClause[] | undefined,
    private readonly options: FilterOptions,
    /** `title eq "…` without its closing quote: what the SDK sends when a `#` cut the value. */
    private readonly cutAtFragment: boolean,
  ) {}

  /** Undefined when the query has no filter. */
  static fromQuery(rawQuery: string, options: FilterOptions): Filter | undefined {
    const raw = rawFilterText(rawQuery);
    if (raw === undefined) return undefined;
    const clauses = candidateTexts(raw)
      .map((text) => parseFilter(decodeFilterText(text)))
      .find((parsed) => parsed !== undefined && parsed.every((clause) => isUnderstood(clause, options)));
    const cut = CUT_AT_FRAGMENT.exec(decodeFilterText(raw));
    const cutAtFragment = cut !== null && options.titleAttributes.includes(cut[1]!.toLowerCase());
    return new Filter(rawQuery, clauses, options, cutAtFragment);
  }

  private sentBySdkFor(title: string): boolean {
    return this.options.titleAttributes.some((attribute) => sdkFilterQuery(attribute, title) === this.rawQuery);
  }

  matches(subject: FilterSubject): boolean {
    if (this.sentBySdkFor(subject.title)) return true;
    return this.clauses !== undefined && this.clauses.every((clause) => clauseMatches(clause, subject, this.options));
  }

  /**
   * Applies the filter. A filter that neither parses, nor matches what the SDK sends, nor is an
   * SDK filter cut short by a `#` (which then simply matches nothing) is a 400.
   */
  select<T>(subjects: readonly T[], describe: (subject: T) => FilterSubject): T[] {
    const selected = subjects.filter((subject) => this.matches(describe(subject)));
    const understood = this.clauses !== undefined || this.cutAtFragment;
    if (!understood && selected.length === 0) throw badRequest('Invalid filter query');
    return selected;
  }
}
