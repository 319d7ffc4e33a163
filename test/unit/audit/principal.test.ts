import { principalOf, routeOf, samePrincipal } from '../../../shared/audit/principal';
import { httpApiEvent, restApiEvent } from '../../helpers/middleware-fakes';

function v2WithAuthorizer(authorizer: Record<string, unknown>): Record<string, unknown> {
  const event = httpApiEvent();
  return { ...event, requestContext: { ...(event['requestContext'] as object), authorizer } };
}

function v1WithAuthorizer(authorizer: Record<string, unknown>, identity: Record<string, string | null> = {}): Record<string, unknown> {
  const event = restApiEvent(identity);
  return { ...event, requestContext: { ...(event['requestContext'] as object), authorizer } };
}

describe('principalOf', () => {
  it('reads JWT claims sub and client_id from an HTTP API event', () => {
    expect(principalOf(httpApiEvent({ sub: 'user-1', client_id: 'app-1', email: 'someone@example.com' }))).toEqual({
      type: 'jwt',
      sub: 'user-1',
      clientId: 'app-1',
      sourceIp: '203.0.113.7',
    });
    expect(principalOf(httpApiEvent({ client_id: 'machine-client' }))).toEqual({ type: 'jwt', clientId: 'machine-client', sourceIp: '203.0.113.7' });
  });

  it('reads the IAM caller of an HTTP API event, with its Cognito identity', () => {
    const event = v2WithAuthorizer({
      iam: {
        accessKey: 'ASIAEXAMPLE',
        accountId: '123456789012',
        callerId: 'AROAEXAMPLE:session',
        userArn: 'arn:aws:sts::123456789012:assumed-role/app/session',
        cognitoIdentity: { amr: ['authenticated'], identityId: 'eu-west-1:1111', identityPoolId: 'eu-west-1:pool' },
      },
    });
    expect(principalOf(event)).toEqual({
      type: 'iam',
      arn: 'arn:aws:sts::123456789012:assumed-role/app/session',
      accountId: '123456789012',
      cognitoIdentityId: 'eu-west-1:1111',
      sourceIp: '203.0.113.7',
    });
  });

  it('reads the IAM caller ARN of a REST API event, falling back to caller', () => {
    expect(principalOf(restApiEvent({ userArn: 'arn:aws:iam::123456789012:user/ops', accountId: '123456789012' }))).toEqual({
      type: 'iam',
      arn: 'arn:aws:iam::123456789012:user/ops',
      accountId: '123456789012',
      sourceIp: '198.51.100.9',
    });
    expect(principalOf(restApiEvent({ caller: 'AIDAEXAMPLE' }))).toMatchObject({ type: 'iam', arn: 'AIDAEXAMPLE' });
  });

  it('reads Cognito user pool claims and Cognito identities of REST API events', () => {
    expect(principalOf(v1WithAuthorizer({ claims: { sub: 'pool-user', 'cognito:username': 'alice' } }))).toEqual({
      type: 'jwt',
      sub: 'pool-user',
      sourceIp: '198.51.100.9',
    });
    expect(principalOf(restApiEvent({ cognitoIdentityId: 'eu-west-1:2222', cognitoIdentityPoolId: 'eu-west-1:pool' }))).toEqual({
      type: 'cognito',
      identityId: 'eu-west-1:2222',
      identityPoolId: 'eu-west-1:pool',
      sourceIp: '198.51.100.9',
    });
  });

  it("reads a Lambda authorizer's principalId", () => {
    expect(principalOf(v1WithAuthorizer({ principalId: 'tenant-9', integrationLatency: 3 }))).toEqual({
      type: 'custom',
      principalId: 'tenant-9',
      sourceIp: '198.51.100.9',
    });
  });

  it('falls back to source IP and user agent', () => {
    expect(principalOf(httpApiEvent())).toEqual({ type: 'anonymous', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' });
    expect(principalOf(restApiEvent())).toEqual({ type: 'anonymous', sourceIp: '198.51.100.9', userAgent: 'aws-sdk-js/3' });
  });

  it('never reads headers, so the Authorization header cannot reach the audit', () => {
    const serialised = JSON.stringify([principalOf(httpApiEvent()), principalOf(restApiEvent())]);
    expect(serialised).not.toMatch(/Bearer|AWS4-HMAC|signature/);
  });

  it('clips absurdly long values', () => {
    const principal = principalOf(httpApiEvent({ sub: 'x'.repeat(10_000) }));
    expect(principal?.type === 'jwt' && principal.sub?.length).toBe(256);
  });

  it('has nothing to say about events that are not API Gateway', () => {
    expect(principalOf({ Records: [{ eventSource: 'aws:sqs' }] })).toBeUndefined();
    expect(principalOf({ requestContext: { elb: { targetGroupArn: 'arn' } }, httpMethod: 'GET' })).toBeUndefined();
    expect(principalOf(null)).toBeUndefined();
  });
});

describe('routeOf', () => {
  it('gives the route template, not the concrete path', () => {
    expect(routeOf(httpApiEvent())).toBe('POST /payments');
    expect(routeOf(restApiEvent())).toBe('GET /payments/{id}');
    expect(routeOf({ detail: {} })).toBeUndefined();
  });
});

describe('samePrincipal', () => {
  it('is true for equal fields only, whatever the objects', () => {
    const caller = principalOf(httpApiEvent({ sub: 'user-1' }))!;
    expect(samePrincipal(caller, principalOf(httpApiEvent({ sub: 'user-1' })))).toBe(true);
    expect(samePrincipal(caller, principalOf(httpApiEvent({ sub: 'user-2' })))).toBe(false);
    expect(samePrincipal(caller, principalOf(httpApiEvent({ sub: 'user-1', client_id: 'app' })))).toBe(false);
    expect(samePrincipal(principalOf(httpApiEvent({ sub: 'user-1', client_id: 'app' }))!, caller)).toBe(false);
    expect(samePrincipal(caller, principalOf(httpApiEvent()))).toBe(false);
    expect(samePrincipal(caller, undefined)).toBe(false);
  });
});
