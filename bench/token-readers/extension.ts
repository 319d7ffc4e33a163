/**
 * The AWS Parameters and Secrets Lambda Extension: a GET to its local HTTP endpoint, authenticated
 * by the function's session token (`X-Aws-Parameters-Secrets-Token`).
 */
import { get } from 'node:http';

export function readToken(): Promise<string> {
  const port = process.env['PARAMETERS_SECRETS_EXTENSION_HTTP_PORT'] ?? '2773';
  const secretId = encodeURIComponent(process.env['OP_CONNECT_TOKEN_SECRET_ARN'] ?? '');
  const headers = { 'X-Aws-Parameters-Secrets-Token': process.env['AWS_SESSION_TOKEN'] ?? '' };
  return new Promise((resolve, reject) => {
    get(`http://127.0.0.1:${port}/secretsmanager/get?secretId=${secretId}`, { headers }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => { body += chunk; });
      response.once('end', () => {
        if (response.statusCode !== 200) return reject(new Error(`extension answered ${response.statusCode}`));
        resolve(String((JSON.parse(body) as { SecretString?: unknown }).SecretString ?? ''));
      });
    }).once('error', reject);
  });
}
