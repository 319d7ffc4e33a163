/**
 * Forwards 1Password Connect's API activity log (`GET /v1/activity`, oldest first, paged with
 * limit/offset) to a sink, each entry exactly once across overlapping runs.
 *
 * A run reads the cursor, fetches the page after it, claims that page by moving the cursor with a
 * conditional write, and only then emits it. A run that loses the claim emits nothing and
 * re-reads the cursor, so two runs never emit the same entry. The claim comes before the emit:
 * a process that dies between the two loses that page (at most once) rather than repeating it.
 *
 * Connect keeps its activity log in memory: after a restart the log starts again from nothing.
 * The cursor remembers the requestId of the last entry it claimed; when the entry at that offset
 * is no longer the same one, the log was restarted, and forwarding resumes from its start.
 */
import type { ActivityCursor, CursorStore } from './activity-cursor';

/** One APIRequest of Connect's activity log. Only requestId is relied on; the rest is forwarded as is. */
export interface ActivityEntry {
  requestId: string;
  [attribute: string]: unknown;
}

export interface ActivitySource {
  /** Entries `offset .. offset + limit - 1`, oldest first; fewer (or none) at the end of the log. */
  page(offset: number, limit: number, deadline: number): Promise<ActivityEntry[]>;
}

export interface ForwardOptions {
  /** Epoch milliseconds after which no new page is started. */
  deadline: number;
  /** Entries per request (Connect's default is 50). */
  pageSize?: number;
  now?: () => number;
}

export interface ForwardResult {
  /** Entries emitted by this run. */
  forwarded: number;
  /** Pages this run claimed. */
  pages: number;
  /** Claims another run won first (each followed by a re-read). */
  lostClaims: number;
  /** Times the log was found restarted underneath the cursor. */
  resets: number;
  /** Whether the run reached the end of the log (rather than its deadline). */
  caughtUp: boolean;
}

export const DEFAULT_PAGE_SIZE = 50;
/** The `logType` of forwarded lines, which log queries select on. */
export const ACTIVITY_LOG_TYPE = '1password.activity';

/** Forwards every entry after the cursor to `emit`, until the log or the deadline runs out. */
export async function forwardActivity(
  source: ActivitySource,
  cursors: CursorStore,
  emit: (entry: ActivityEntry) => void,
  options: ForwardOptions,
): Promise<ForwardResult> {
  const pageSize = options.pageSize ?? DEFAULT_PAGE_SIZE;
  const now = options.now ?? Date.now;
  const result: ForwardResult = { forwarded: 0, pages: 0, lostClaims: 0, resets: 0, caughtUp: false };
  while (now() < options.deadline) {
    const cursor = await cursors.read();
    const step = await nextPage(source, cursor, pageSize, options.deadline);
    if (step.kind === 'reset') {
      if (await cursors.claim(cursor, { offset: 0 })) result.resets += 1;
      else result.lostClaims += 1;
      continue;
    }
    if (step.entries.length === 0) {
      result.caughtUp = true;
      break;
    }
    const claimed = await cursors.claim(cursor, {
      offset: cursor.offset + step.entries.length,
      anchor: step.entries.at(-1)!.requestId,
    });
    if (!claimed) {
      result.lostClaims += 1;
      continue;
    }
    for (const entry of step.entries) emit(entry);
    result.forwarded += step.entries.length;
    result.pages += 1;
    if (step.entries.length < pageSize) {
      result.caughtUp = true;
      break;
    }
  }
  return result;
}

type PageStep = { kind: 'entries'; entries: ActivityEntry[] } | { kind: 'reset' };

/**
 * The entries after the cursor. With an anchor, the page starts one entry early so that the
 * anchor can be checked against what the log holds now.
 */
async function nextPage(source: ActivitySource, cursor: ActivityCursor, pageSize: number, deadline: number): Promise<PageStep> {
  if (cursor.offset === 0 || cursor.anchor === undefined) {
    return { kind: 'entries', entries: await source.page(cursor.offset, pageSize, deadline) };
  }
  const page = await source.page(cursor.offset - 1, pageSize + 1, deadline);
  if (page[0]?.requestId !== cursor.anchor) return { kind: 'reset' };
  return { kind: 'entries', entries: page.slice(1) };
}

/**
 * The line written for one entry: the entry as Connect sent it, nested under `entry` and marked so
 * queries can select it (`filter logType = "1password.activity"`, fields as `entry.actor.id`).
 * Nested, because the entry is Connect's to shape: spread at the top level, a hostile entry could
 * replace `logType` or add an `_aws` block that CloudWatch would read as metrics.
 */
export function formatActivityLine(entry: ActivityEntry): string {
  return JSON.stringify({ logType: ACTIVITY_LOG_TYPE, entry });
}
