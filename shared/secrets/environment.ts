/** Where declarations and the Connect settings are read: `process.env`, or a stand-in for it. */
export type Environment = Readonly<Record<string, string | undefined>>;

/**
 * The environment variables op-lambda's runtime reads, by name: the code reads them through this
 * object, and the reference tables of the docs are generated from the comments below.
 * Besides these, every variable whose value starts with `op://` declares a secret of its name
 * (unless `fromEnv: false`).
 */
export const RUNTIME_ENV = {
  /**
   * URL of the 1Password Connect server, without `/v1`. Must be `https`, unless it is loopback
   * (`127.0.0.0/8`, `::1`, `localhost`) or `OP_CONNECT_ALLOW_HTTP` allows plain http; it must not
   * carry credentials. Missing or not acceptable: INIT fails (`INSECURE_HOST`).
   * @default - none: required by the Connect source
   */
  OP_CONNECT_HOST: 'OP_CONNECT_HOST',
  /**
   * `true` or `1` (any case): allow plain `http` to a host that is not loopback, e.g. a Connect
   * server on a private network you trust.
   * @default - https required
   */
  OP_CONNECT_ALLOW_HTTP: 'OP_CONNECT_ALLOW_HTTP',
  /**
   * The Connect token itself: local development and tests. Wins over `OP_CONNECT_TOKEN_SECRET_ARN`.
   * Neither set: INIT fails (`TOKEN_UNAVAILABLE`).
   * @default - none
   */
  OP_CONNECT_TOKEN: 'OP_CONNECT_TOKEN',
  /**
   * ARN (or name) of the Secrets Manager secret holding the Connect token, bare or as JSON
   * `{"token": "…"}`; what `SecretsFunction` sets. Read once per container with a SigV4-signed
   * `GetSecretValue`, and again after Connect answers 401 (the token may have been rotated).
   * @default - none
   */
  OP_CONNECT_TOKEN_SECRET_ARN: 'OP_CONNECT_TOKEN_SECRET_ARN',
  /**
   * Region of the Secrets Manager endpoint for the token; Lambda sets it. `AWS_DEFAULT_REGION` is
   * read when it is missing.
   * @default - set by Lambda
   */
  AWS_REGION: 'AWS_REGION',
  /**
   * Endpoint for the token's `GetSecretValue` instead of the regional one (`AWS_ENDPOINT_URL` is
   * read when it is missing), as the AWS SDK honours it: a local stand-in, a VPC endpoint's name.
   * @default - `https://secretsmanager.<region>.amazonaws.com`
   */
  AWS_ENDPOINT_URL_SECRETS_MANAGER: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
  /**
   * How often, in milliseconds, a warm container checks whether its items changed in 1Password
   * (the `revalidateMs` option wins); `SecretsFunction` sets it from `revalidateInterval`. Not a
   * positive whole number: INIT fails.
   * @default 60000
   */
  OP_REVALIDATE_MS: 'OP_REVALIDATE_MS',
  /**
   * The `service` of audit lines and metrics (the `serviceName` option wins); `SecretsFunction`
   * sets it.
   * @default - `AWS_LAMBDA_FUNCTION_NAME`, else `op-lambda`
   */
  POWERTOOLS_SERVICE_NAME: 'POWERTOOLS_SERVICE_NAME',
} as const;
