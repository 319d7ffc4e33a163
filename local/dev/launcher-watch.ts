/**
 * Notices when whatever launched this process is gone. `npm start` runs `sh -c tsx local/start.ts`:
 * a SIGTERM sent to npm reaches `sh`, which does not pass it on, so without this watch the API
 * (and its function processes) would outlive npm. Ctrl-C is not the problem: a terminal signals
 * the whole foreground process group.
 */
import { readFileSync } from 'node:fs';

/** How many launchers up the tree to watch: tsx, sh, npm. */
const MAX_ANCESTORS = 3;
const POLL_MS = 1000;

export interface LauncherWatch {
  stop(): void;
}

/** Calls `onGone` once, within about a second of a launcher process exiting. */
export function watchLaunchers(onGone: (pid: number) => void): LauncherWatch {
  const ancestors = ancestorPids(process.ppid, MAX_ANCESTORS);
  const timer = setInterval(() => {
    const gone = ancestors.find((pid) => !isAlive(pid));
    if (gone === undefined) return;
    clearInterval(timer);
    onGone(gone);
  }, POLL_MS);
  timer.unref();
  return { stop: () => clearInterval(timer) };
}

/** The parent and its ancestors (never init), as far as the platform lets us see them. */
function ancestorPids(parent: number, limit: number): number[] {
  const pids: number[] = [];
  for (let pid: number | undefined = parent; pid !== undefined && pid > 1 && pids.length < limit; pid = parentOf(pid)) {
    pids.push(pid);
  }
  return pids;
}

/** From `/proc/<pid>/stat` (Linux); undefined elsewhere, which limits the watch to the parent. */
function parentOf(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // `pid (comm) state ppid ...`; comm may itself contain spaces and parentheses.
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    return Number.isInteger(ppid) ? ppid : undefined;
  } catch {
    return undefined;
  }
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !isZombie(pid);
  } catch (error) {
    // EPERM: alive, but not ours to signal.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** An exited process its parent has not reaped yet still answers signal 0. */
function isZombie(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).startsWith('Z');
  } catch {
    return false;
  }
}
