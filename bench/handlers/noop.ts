/**
 * Does nothing, without Middy: its cold start is what every handler pays before its own code runs
 * (process start, runtime client, Runtime API round trips). The floor of every lower bound.
 */
export async function handler(): Promise<{ statusCode: number }> {
  return { statusCode: 200 };
}
