/** Reads nothing: the fresh process every reader starts from. */
export function readToken(): Promise<string> {
  return Promise.resolve('none');
}
