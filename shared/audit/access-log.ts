/**
 * The `secret.access` line of every invocation that read secrets: which names (as `context.secrets`
 * recorded them), whether they came from the cache, by whom and on which route.
 */
import { cacheHits, namesRead, type ViewReport } from '../secrets/secrets-view';
import type { SecretAudit } from './audit';

export class AccessLog {
  /** The JSON array of names read, per set of names (the common sets repeat). */
  private readonly namesJson = new Map<number, string>();

  constructor(
    private readonly audit: SecretAudit,
    /** The declared names, in the order of the view's bits. */
    private readonly names: readonly string[],
  ) {}

  /** One line for `report`; an audit sink failing never fails the response. */
  record(report: ViewReport, event: unknown, awsRequestId: string | undefined): void {
    try {
      this.audit.access({ namesJson: this.namesJsonFor(report), cacheHits: cacheHits(report), event, awsRequestId, coldStart: report.coldStart });
    } catch {
      // An audit sink failing must not fail the response.
    }
  }

  private namesJsonFor(report: ViewReport): string {
    const cacheable = report.readBeyondMask === undefined;
    let json = cacheable ? this.namesJson.get(report.readMask) : undefined;
    if (json === undefined) {
      json = JSON.stringify(namesRead(report, this.names));
      if (cacheable) this.namesJson.set(report.readMask, json);
    }
    return json;
  }
}
