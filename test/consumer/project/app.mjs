// A user's CDK app: one SecretsFunction with one secret.
import { App, Stack } from 'aws-cdk-lib';
import * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import { SecretsFunction } from 'op-lambda/cdk';

const app = new App();
const stack = new Stack(app, 'ConsumerStack');
const tokenSecret = secretsmanager.Secret.fromSecretNameV2(stack, 'ConnectToken', 'consumer/connect-token');
new SecretsFunction(stack, 'Api', {
  entry: new URL('./src/handler.mjs', import.meta.url).pathname,
  functionName: 'consumer-api',
  secrets: { API_KEY: 'op://app/api/credential' },
  connect: { host: 'https://connect.example.com', tokenSecret },
});
app.synth();
