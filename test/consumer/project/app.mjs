// A user's CDK app: one SecretsFunction with one secret.
import { App, Stack } from 'aws-cdk-lib';
import { ConnectToken, SecretsFunction } from 'op-lambda/cdk';

const app = new App();
const stack = new Stack(app, 'ConsumerStack');
new SecretsFunction(stack, 'Api', {
  entry: new URL('./src/handler.mjs', import.meta.url).pathname,
  functionName: 'consumer-api',
  secrets: { API_KEY: 'op://app/api/credential' },
  connect: { host: 'https://connect.example.com', token: ConnectToken.fromSecretName('consumer/api/connect-token') },
});
app.synth();
