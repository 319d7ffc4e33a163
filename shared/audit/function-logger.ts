/**
 * A function's own log lines (what it accepted, refused, forwarded), written under the same
 * `service` as op-lambda's audit lines, so one CloudWatch Logs query finds both.
 */
import { Logger } from '@aws-lambda-powertools/logger';

/** A Powertools Logger for POWERTOOLS_SERVICE_NAME, else the Lambda function's name, else `fallbackService`. */
export function functionLogger(fallbackService: string, env: Readonly<Record<string, string | undefined>> = process.env): Logger {
  return new Logger({ serviceName: env['POWERTOOLS_SERVICE_NAME'] || env['AWS_LAMBDA_FUNCTION_NAME'] || fallbackService });
}
