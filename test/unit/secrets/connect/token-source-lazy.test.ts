// Reading the Connect token never evaluates the AWS SDK client, and containers given
// OP_CONNECT_TOKEN never evaluate the request signer either: both are cold-start time.
import type * as TokenModule from '../../../../shared/secrets/connect/token-source';

const ARN = 'arn:aws:secretsmanager:eu-west-1:123456789012:secret:op-connect-token-AbCdEf';

/** A fresh copy of the token module that records which of its possible dependencies were loaded. */
function isolatedTokenModule(): { token: typeof TokenModule; loaded: Set<string> } {
  const loaded = new Set<string>();
  let token: typeof TokenModule | undefined;
  jest.isolateModules(() => {
    jest.doMock('@aws-sdk/client-secrets-manager', () => {
      loaded.add('sdk');
      return {};
    });
    jest.doMock('../../../../shared/secrets/connect/secrets-manager-reader', () => {
      loaded.add('reader');
      // Answers at once, without network: enough to prove the module was used.
      return { getSecretValue: () => Promise.resolve('opl-lazy-token') };
    });
    token = jest.requireActual<typeof TokenModule>('../../../../shared/secrets/connect/token-source');
  });
  return { token: token!, loaded };
}

afterEach(() => {
  jest.dontMock('@aws-sdk/client-secrets-manager');
  jest.dontMock('../../../../shared/secrets/connect/secrets-manager-reader');
});

describe('loading what reads the token', () => {
  it('never happens for OP_CONNECT_TOKEN', async () => {
    const { token, loaded } = isolatedTokenModule();
    await expect(token.connectTokenSource({ env: { OP_CONNECT_TOKEN: 'opl-env-token' } }).get()).resolves.toBe('opl-env-token');
    expect([...loaded]).toEqual([]);
  });

  it('waits for the first read from Secrets Manager, and never loads the AWS SDK client', async () => {
    const { token, loaded } = isolatedTokenModule();
    const source = token.connectTokenSource({ env: { OP_CONNECT_TOKEN_SECRET_ARN: ARN } });
    expect(loaded.has('reader')).toBe(false);
    await expect(source.get()).resolves.toBe('opl-lazy-token');
    expect([...loaded]).toEqual(['reader']);
  });
});
