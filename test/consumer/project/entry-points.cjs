// Every entry point through require(): prints what each exposes.
const runtime = require('op-lambda');
const cdk = require('op-lambda/cdk');
const testing = require('op-lambda/testing');
const powertools = require('op-lambda/powertools');

console.log(JSON.stringify({
  runtime: [typeof runtime.opSecrets, typeof runtime.parseReference, typeof runtime.SecretsUnavailableError],
  cdk: [typeof cdk.SecretsFunction, typeof cdk.ConnectToken, typeof cdk.Operations],
  testing: [typeof testing.startConnectServer],
  powertools: [typeof powertools.OnePasswordProvider],
}));
