import { inspect, types } from 'node:util';
import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../../../local/secrets-manager/server';
import { endpointFor, getSecretValue, SecretsManagerServiceError } from '../../../../shared/secrets/connect/secrets-manager-reader';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-AbCdEf';
const CREDENTIALS = { accessKeyId: 'AKIDOPLAMBDATEST', secretAccessKey: 'opl-test-secret-access-key-0123456789', sessionToken: 'opl-test-session-token-abcdef' };
const VALUE = 'opl-reader-secret-value';

let standIn: SecretsManagerStandIn;

function envFor(url: string, credentials: Partial<typeof CREDENTIALS> = CREDENTIALS): Record<string, string | undefined> {
  return {
    AWS_REGION: 'eu-west-1',
    AWS_ENDPOINT_URL_SECRETS_MANAGER: url,
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
  };
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(() => undefined, (error: unknown) => error);
}

beforeEach(async () => {
  standIn = await startSecretsManagerStandIn({ secrets: { [ARN]: VALUE }, credentials: CREDENTIALS });
});
afterEach(() => standIn.close());

describe('getSecretValue', () => {
  it('signs GetSecretValue with the session credentials so that the signature checks out', async () => {
    await expect(getSecretValue(ARN, { env: envFor(standIn.url) })).resolves.toBe(VALUE);
    expect(standIn.calls).toEqual([expect.objectContaining({ secretId: ARN, signatureValid: true })]);
    expect(standIn.calls[0]!.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDOPLAMBDATEST\/\d{8}\/eu-west-1\/secretsmanager\/aws4_request/);
  });

  it('is refused when signed with another secret key', async () => {
    const error = await rejection(getSecretValue(ARN, { env: envFor(standIn.url, { ...CREDENTIALS, secretAccessKey: 'opl-some-other-key' }) }));
    expect(error).toBeInstanceOf(SecretsManagerServiceError);
    expect(error).toMatchObject({ name: 'InvalidSignatureException', $fault: 'client', $metadata: { httpStatusCode: 400 } });
  });

  it('signs as the AWS SDK does: the stand-in accepts the SDK client too', async () => {
    const client = new SecretsManagerClient({ region: 'eu-west-1', endpoint: standIn.url, credentials: CREDENTIALS });
    const output = await client.send(new GetSecretValueCommand({ SecretId: ARN }));
    expect(output.SecretString).toBe(VALUE);
    expect(standIn.calls[0]?.signatureValid).toBe(true);
  });

  it('decodes a binary secret as UTF-8', async () => {
    standIn.setSecret(ARN, new TextEncoder().encode('opl-binary-value'));
    await expect(getSecretValue(ARN, { env: envFor(standIn.url) })).resolves.toBe('opl-binary-value');
  });

  it('prefers AWS_ENDPOINT_URL_SECRETS_MANAGER to AWS_ENDPOINT_URL', async () => {
    const env = { ...envFor(standIn.url), AWS_ENDPOINT_URL: 'http://127.0.0.1:1' };
    await expect(getSecretValue(ARN, { env })).resolves.toBe(VALUE);
  });

  it('calls the regional endpoint when none is configured', () => {
    expect(endpointFor('eu-west-1', {})).toBe('https://secretsmanager.eu-west-1.amazonaws.com');
    expect(endpointFor('cn-north-1', {})).toBe('https://secretsmanager.cn-north-1.amazonaws.com.cn');
    expect(endpointFor('eu-west-1', { AWS_ENDPOINT_URL: 'http://127.0.0.1:4566' })).toBe('http://127.0.0.1:4566');
  });

  it('names the service error type, without the namespace, with its fault and status', async () => {
    standIn.setFault({ status: 400, type: 'com.amazonaws.secretsmanager#ThrottlingException', message: 'Rate exceeded' });
    await expect(rejection(getSecretValue(ARN, { env: envFor(standIn.url) }))).resolves.toMatchObject({
      name: 'ThrottlingException',
      message: 'Rate exceeded',
      $fault: 'client',
      $metadata: { httpStatusCode: 400 },
    });
    standIn.setFault({ status: 503, type: '' });
    await expect(rejection(getSecretValue(ARN, { env: envFor(standIn.url) }))).resolves.toMatchObject({ name: 'HTTP503', $fault: 'server' });
  });

  it('fails without credentials before sending anything', async () => {
    const error = await rejection(getSecretValue(ARN, { env: envFor(standIn.url, {}) }));
    expect(error).toMatchObject({ name: 'CredentialsProviderError' });
    expect(standIn.calls).toHaveLength(0);
  });

  it('rejects with an AbortError when its signal aborts', async () => {
    standIn.setLatency(5_000);
    const error = await rejection(getSecretValue(ARN, { env: envFor(standIn.url), signal: AbortSignal.timeout(50) }));
    expect(error).toMatchObject({ name: 'AbortError' });
  });

  it('puts neither the Authorization header nor a credential into any error', async () => {
    const errors: unknown[] = [];
    for (const fault of [{ status: 400, type: 'AccessDeniedException' }, { status: 500, type: 'InternalServiceError' }, 'reset'] as const) {
      standIn.setFault(fault);
      errors.push(await rejection(getSecretValue(ARN, { env: envFor(standIn.url) })));
    }
    standIn.setFault(undefined);
    errors.push(await rejection(getSecretValue(ARN, { env: envFor(standIn.url, { ...CREDENTIALS, secretAccessKey: 'opl-some-other-key' }) })));
    const received = standIn.calls.map((call) => call.authorization).filter(Boolean);
    expect(received.length).toBeGreaterThan(0);
    const text = errors.map((error) => inspect(error, { depth: 5, showHidden: true })).join('\n');
    expect(errors.every((error) => types.isNativeError(error) || error instanceof Error)).toBe(true);
    for (const authorization of received) {
      expect(text).not.toContain(authorization);
      expect(text).not.toContain(authorization.slice(-64));
    }
    for (const credential of [CREDENTIALS.secretAccessKey, CREDENTIALS.sessionToken, 'opl-some-other-key']) expect(text).not.toContain(credential);
  });
});
