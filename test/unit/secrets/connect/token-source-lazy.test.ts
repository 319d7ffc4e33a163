// The AWS SDK is loaded only by containers that read their Connect token from Secrets Manager:
// loading it is a large share of a cold start that OP_CONNECT_TOKEN never needs.
import type * as TokenModule from '../../../../shared/secrets/connect/token-source';

type SdkModule = typeof import('@aws-sdk/client-secrets-manager');

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-AbCdEf';

/** A fresh copy of the token module whose SDK import records that it happened. */
function isolatedTokenModule(): { token: typeof TokenModule; sdkLoaded: () => boolean } {
  let loaded = false;
  let token: typeof TokenModule | undefined;
  jest.isolateModules(() => {
    jest.doMock('@aws-sdk/client-secrets-manager', () => {
      loaded = true;
      const actual = jest.requireActual<SdkModule>('@aws-sdk/client-secrets-manager');
      // A client that answers at once, without network: enough to prove the module was used.
      class SecretsManagerClient extends actual.SecretsManagerClient {
        override send = (() => Promise.resolve({ SecretString: 'opl-lazy-token' })) as unknown as InstanceType<SdkModule['SecretsManagerClient']>['send'];
      }
      return { ...actual, SecretsManagerClient };
    });
    token = jest.requireActual<typeof TokenModule>('../../../../shared/secrets/connect/token-source');
  });
  return { token: token!, sdkLoaded: () => loaded };
}

afterEach(() => jest.dontMock('@aws-sdk/client-secrets-manager'));

describe('loading the AWS SDK', () => {
  it('never happens for OP_CONNECT_TOKEN', async () => {
    const { token, sdkLoaded } = isolatedTokenModule();
    await expect(token.connectTokenSource({ env: { OP_CONNECT_TOKEN: 'opl-env-token' } }).get()).resolves.toBe('opl-env-token');
    expect(sdkLoaded()).toBe(false);
  });

  it('waits for the first read from Secrets Manager, not for the token source to be made', async () => {
    const { token, sdkLoaded } = isolatedTokenModule();
    const source = token.connectTokenSource({ env: { OP_CONNECT_TOKEN_SECRET_ARN: ARN } });
    expect(sdkLoaded()).toBe(false);
    await expect(source.get()).resolves.toBe('opl-lazy-token');
    expect(sdkLoaded()).toBe(true);
  });
});
