import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { startSecretsManagerStandIn, type SecretsManagerStandIn } from '../../local/secrets-manager/server';

const NAME = 'op-lambda/test/health/connect-token';
const VALUE = 'opl-stand-in-secret-value';
const CREDENTIALS = { accessKeyId: 'AKIDOPLAMBDASTANDIN', secretAccessKey: 'opl-stand-in-secret-access-key' };

let standIn: SecretsManagerStandIn;

beforeEach(async () => {
  standIn = await startSecretsManagerStandIn({ secrets: { [NAME]: VALUE } });
});
afterEach(() => standIn.close());

function read(secretId: string): Promise<string | undefined> {
  // No retries: a refused connection must surface at once.
  const client = new SecretsManagerClient({ region: 'us-east-1', endpoint: standIn.url, credentials: CREDENTIALS, maxAttempts: 1 });
  return client.send(new GetSecretValueCommand({ SecretId: secretId })).then((output) => output.SecretString);
}

describe('Secrets Manager stand-in', () => {
  it('finds a secret stored by name through a partial ARN, as CDK gives it to a function', async () => {
    await expect(read(`arn:aws:secretsmanager:us-east-1:000000000000:secret:${NAME}`)).resolves.toBe(VALUE);
  });

  it('finds a secret stored by name through its complete ARN', async () => {
    await expect(read(`arn:aws:secretsmanager:us-east-1:000000000000:secret:${NAME}-AbCdEf`)).resolves.toBe(VALUE);
  });

  it('answers ResourceNotFoundException for an ARN naming another secret', async () => {
    await expect(read('arn:aws:secretsmanager:us-east-1:000000000000:secret:op-lambda/test/other')).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses connections while stopped and answers again on the same URL once started', async () => {
    const url = standIn.url;
    await standIn.stop();
    await expect(read(NAME)).rejects.toThrow(/ECONNREFUSED/);
    await standIn.start();
    expect(standIn.url).toBe(url);
    await expect(read(NAME)).resolves.toBe(VALUE);
    expect(standIn.calls.map((call) => call.secretId)).toEqual([NAME]);
  });
});
