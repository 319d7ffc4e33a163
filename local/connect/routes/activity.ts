// GET /v1/activity: the API request log, paged with limit and offset.
import { badRequest } from '../errors';
import { jsonResponse, type ConnectResponse } from '../http-io';
import { authenticate, type RequestContext } from './context';

function nonNegativeInt(value: string | null, fallback: number, name: string): number {
  if (value === null || value === '') return fallback;
  if (!/^\d+$/.test(value)) throw badRequest(`${name} must be a non-negative integer`);
  return Number(value);
}

export function listActivity(ctx: RequestContext): ConnectResponse {
  authenticate(ctx);
  const limit = nonNegativeInt(ctx.query.get('limit'), 50, 'limit');
  const offset = nonNegativeInt(ctx.query.get('offset'), 0, 'offset');
  const page = ctx.state.activity.page(offset, limit);
  const total = ctx.state.activity.size;
  const range = page.length > 0 ? `${offset + 1}-${offset + page.length}/${total}` : `0-0/${total}`;
  return jsonResponse(200, page, { 'Content-Range': range });
}
