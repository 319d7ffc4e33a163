/**
 * One leak scan for every suite: did any secret value or token reach captured text (log lines,
 * responses, metrics, error messages)? Each value is looked for as written and in the forms a leak
 * usually takes: JSON-escaped (once and twice), URL-encoded, base64 (at any alignment inside a
 * longer blob, standard and URL-safe) and hex.
 *
 *   const secrets = collectSecretValues();            // the demo vault: every value and token
 *   expectNoLeaks({ logs: lines, responses }, secrets);
 *
 * Findings never print a secret: they name it by its first characters and length.
 */
import { readFileSync } from 'node:fs';
import { DEMO_SEED_FILE, type ConnectSeed } from '../../local/connect/server';

/** Shorter values would match ordinary text by chance. */
export const MIN_RAW_LENGTH = 4;
/** Encoded forms of shorter values are too short to be told from noise. */
export const MIN_ENCODED_LENGTH = 8;
/** Lines of multi-line values (PEM bodies, keys) long enough to count as secrets on their own. */
const MIN_LINE_LENGTH = 16;

export type LeakForm = 'raw' | 'json-escaped' | 'json-escaped-twice' | 'url-encoded' | 'form-encoded' | 'base64' | 'base64url' | 'hex';

export interface LeakFinding {
  /** Which text: `<source label>[<index>]`. */
  where: string;
  form: LeakForm;
  /** The secret, named without revealing it: first characters and length. */
  secret: string;
  /** Text around the match, the match itself replaced by `[LEAK]`. */
  excerpt: string;
}

/** A string, strings, or labelled groups of strings (`{ 'function logs': lines, responses }`). */
export type LeakSources = string | Iterable<string> | Readonly<Record<string, string | Iterable<string>>>;

export interface CollectOptions {
  /** Include the seed's Connect tokens. @default true */
  tokens?: boolean;
  /** Only CONCEALED and OTP fields (and files), leaving usernames, hostnames, dates. @default false */
  concealedOnly?: boolean;
}

/**
 * Every secret a seed holds: field values, file contents and tokens, plus what a leak could show
 * of them in part (each long line of a multi-line value, the key inside an `otpauth://` URI).
 * Accepts a seed, the path of a seed file, or nothing for the demo vault.
 */
export function collectSecretValues(seed: ConnectSeed | string = DEMO_SEED_FILE, options: CollectOptions = {}): string[] {
  const data = typeof seed === 'string' ? (JSON.parse(readFileSync(seed, 'utf8')) as ConnectSeed) : seed;
  const values: string[] = [];
  if (options.tokens ?? true) values.push(...data.tokens.map((token) => token.token));
  for (const item of data.vaults.flatMap((vault) => vault.items)) {
    for (const field of item.fields) {
      const concealed = ['CONCEALED', 'OTP', 'TOTP'].includes((field.type ?? 'STRING').toUpperCase());
      if (field.value !== undefined && (concealed || !options.concealedOnly)) values.push(field.value);
    }
    for (const file of item.files ?? []) values.push(file.content);
  }
  return unique(values.flatMap((value) => [value, ...partsOf(value)]));
}

/** Every place a secret shows up in the texts, in any of the forms above. */
export function scanForLeaks(texts: LeakSources, secrets: readonly string[]): LeakFinding[] {
  const needles = unique(secrets).flatMap(needlesOf);
  const findings: LeakFinding[] = [];
  for (const [label, group] of labelledGroups(texts)) {
    let index = 0;
    for (const text of group) {
      for (const needle of needles) {
        const at = needle.caseInsensitive ? text.toLowerCase().indexOf(needle.text.toLowerCase()) : text.indexOf(needle.text);
        if (at !== -1) findings.push({ where: `${label}[${index}]`, form: needle.form, secret: needle.hint, excerpt: excerpt(text, at, needle.text.length) });
      }
      index += 1;
    }
  }
  return findings;
}

/** Throws (failing the test) with every finding listed, secrets masked. */
export function expectNoLeaks(texts: LeakSources, secrets: readonly string[]): void {
  if (secrets.length === 0) throw new Error('expectNoLeaks was given no secrets to look for: a scan for nothing proves nothing');
  const findings = scanForLeaks(texts, secrets);
  if (findings.length === 0) return;
  const lines = findings.slice(0, 20).map((finding) => `  ${finding.where}: ${finding.secret} as ${finding.form}: ${finding.excerpt}`);
  const more = findings.length > 20 ? `\n  ... and ${findings.length - 20} more` : '';
  throw new Error(`${findings.length} secret leak(s) found:\n${lines.join('\n')}${more}`);
}

interface Needle {
  text: string;
  form: LeakForm;
  hint: string;
  caseInsensitive: boolean;
}

function needlesOf(secret: string): Needle[] {
  if (secret.length < MIN_RAW_LENGTH) return [];
  const hint = `"${secret.slice(0, 4)}..." (${secret.length} chars)`;
  const forms: [LeakForm, string, boolean][] = [
    ['raw', secret, false],
    ['json-escaped', escapeJson(secret), false],
    ['json-escaped-twice', escapeJson(escapeJson(secret)), false],
  ];
  if (secret.length >= MIN_ENCODED_LENGTH) {
    forms.push(['url-encoded', encodeURIComponent(secret), true], ['form-encoded', encodeURIComponent(secret).replaceAll('%20', '+'), true]);
    for (const core of base64Cores(secret)) {
      forms.push(['base64', core, false], ['base64url', core.replaceAll('+', '-').replaceAll('/', '_'), false]);
    }
    forms.push(['hex', Buffer.from(secret, 'utf8').toString('hex'), true]);
  }
  // Raw comes first, so a form that encodes to the secret itself is looked for once, as raw.
  const seen = new Set<string>();
  const needles: Needle[] = [];
  for (const [form, text, caseInsensitive] of forms) {
    if (seen.has(text)) continue;
    seen.add(text);
    needles.push({ text, form, hint, caseInsensitive });
  }
  return needles;
}

/**
 * The base64 characters that depend on the secret's bytes alone, for each of the three positions
 * it can start at inside a longer encoded blob (a Basic credential, a JSON document in base64):
 * characters mixing in neighbouring bytes are cut off at both ends.
 */
function base64Cores(secret: string): string[] {
  const bytes = Buffer.from(secret, 'utf8');
  return [0, 1, 2].map((shift) => {
    const shifted = Buffer.concat([Buffer.alloc(shift), bytes]);
    const firstClean = [0, 2, 3][shift]!;
    const lastClean = Math.floor(shifted.length / 3) * 4;
    return shifted.toString('base64').slice(firstClean, lastClean);
  });
}

function escapeJson(value: string): string {
  return JSON.stringify(value).slice(1, -1);
}

/** Pieces of a value that would betray it on their own. */
function partsOf(value: string): string[] {
  const parts: string[] = [];
  if (value.includes('\n')) {
    parts.push(...value.split(/\r?\n/).map((line) => line.trim()).filter((line) => line.length >= MIN_LINE_LENGTH && !line.startsWith('-----')));
  }
  if (value.startsWith('otpauth://')) {
    const key = URL.canParse(value) ? new URL(value).searchParams.get('secret') : null;
    if (key) parts.push(key);
  }
  return parts;
}

function labelledGroups(texts: LeakSources): [string, Iterable<string>][] {
  if (typeof texts === 'string') return [['text', [texts]]];
  if (Symbol.iterator in texts) return [['text', texts as Iterable<string>]];
  return Object.entries(texts as Readonly<Record<string, string | Iterable<string>>>).map(([label, group]) => [label, typeof group === 'string' ? [group] : group]);
}

function excerpt(text: string, at: number, length: number): string {
  const before = text.slice(Math.max(0, at - 40), at);
  const after = text.slice(at + length, at + length + 40);
  return JSON.stringify(`${before}[LEAK]${after}`);
}

function unique(values: readonly string[]): string[] {
  return [...new Set(values.filter((value) => value !== ''))];
}
