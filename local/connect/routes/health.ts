// Unauthenticated probes: /heartbeat, /health and /metrics.
import { CONNECT_VERSION, jsonResponse, textResponse, type ConnectResponse } from '../http-io';
import type { RequestContext } from './context';

export function heartbeat(): ConnectResponse {
  return textResponse(200, '.');
}

export function health(): ConnectResponse {
  return jsonResponse(200, {
    name: '1Password Connect API',
    version: CONNECT_VERSION,
    dependencies: [
      { service: 'sqlite', status: 'ACTIVE', message: 'Connected to the in-memory op-lambda demo store' },
      { service: 'sync', status: 'ACTIVE' },
    ],
  });
}

export function metrics(ctx: RequestContext): ConnectResponse {
  return textResponse(200, ctx.state.metrics.render(), 'text/plain; version=0.0.4; charset=utf-8');
}
