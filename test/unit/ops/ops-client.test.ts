import { OpsConnectClient } from '../../../shared/ops/ops-client';

describe('OpsConnectClient host check', () => {
  it('accepts https anywhere and plain http only on loopback or when allowed', () => {
    expect(() => new OpsConnectClient({ host: 'https://connect.example.com', token: 't' })).not.toThrow();
    expect(() => new OpsConnectClient({ host: 'http://127.0.0.1:8080', token: 't' })).not.toThrow();
    expect(() => new OpsConnectClient({ host: 'http://localhost:8080', token: 't' })).not.toThrow();
    expect(() => new OpsConnectClient({ host: 'http://connect.internal:8080', token: 't', allowHttp: true })).not.toThrow();
  });

  it('refuses plain http elsewhere, credentials in the URL, and a missing host', () => {
    expect(() => new OpsConnectClient({ host: 'http://connect.example.com', token: 't' })).toThrow(expect.objectContaining({ code: 'INSECURE_HOST' }));
    expect(() => new OpsConnectClient({ host: 'https://user:pw@connect.example.com', token: 't' })).toThrow(/must not contain credentials/);
    expect(() => new OpsConnectClient({ host: '', token: 't' })).toThrow(expect.objectContaining({ code: 'INSECURE_HOST' }));
  });
});
