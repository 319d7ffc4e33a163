// Every entry point through import: prints what each exposes.
import * as runtime from 'op-lambda';
import * as cdk from 'op-lambda/cdk';
import * as testing from 'op-lambda/testing';
import * as powertools from 'op-lambda/powertools';

console.log(JSON.stringify({
  runtime: [typeof runtime.opSecrets, typeof runtime.parseReference, typeof runtime.SecretsUnavailableError],
  cdk: [typeof cdk.SecretsFunction, typeof cdk.ConnectToken, typeof cdk.Operations],
  testing: [typeof testing.startConnectServer],
  powertools: [typeof powertools.OnePasswordProvider],
}));
