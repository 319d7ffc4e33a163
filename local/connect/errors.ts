// Connect answers every error as `{status, message}`; messages name ids and positions, never values.

export class ConnectError extends Error {
  override readonly name = 'ConnectError';

  constructor(
    readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

export const badRequest = (message: string): ConnectError => new ConnectError(400, message);
export const notFound = (message: string): ConnectError => new ConnectError(404, message);
