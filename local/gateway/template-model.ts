import { createHash } from 'node:crypto';
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import type { FunctionDefinition } from '../lambda/types';
import type { AssemblyStack, TemplateResource } from './cloud-assembly';
import { resolveIntrinsic, resolveString, type IntrinsicContext } from './intrinsics';
import type { JwtAuthorizerModel } from './jwt-authorizer';

/**
 * What the emulator needs from synthesized templates: the functions (handler, code folder,
 * memory, timeout, environment, logging) and the HTTP APIs with their routes, stages and the
 * function behind each route.
 */

export interface HttpRoute {
  routeKey: string;
  /** Readable name of the function behind the route. */
  functionName: string;
  payloadFormatVersion: string;
  /** `NONE`, `JWT`, `AWS_IAM` or `CUSTOM`. */
  authorizationType: string;
  /** The authorizer of a `JWT` route; undefined when the template names none this model could read. */
  jwtAuthorizer?: JwtAuthorizerModel;
  /** Scopes of which a token must carry at least one; empty: any valid token. */
  authorizationScopes: string[];
}

export interface HttpApiModel {
  logicalId: string;
  stackName: string;
  name: string;
  /** A stable, API-Gateway-shaped id (10 lowercase alphanumerics). */
  apiId: string;
  stageName: string;
  stageVariables: Record<string, string>;
  routes: HttpRoute[];
}

export interface EmulationModel {
  functions: FunctionDefinition[];
  apis: HttpApiModel[];
  /** Things found in the templates that the emulation skips or cannot reproduce. */
  warnings: string[];
}

export interface ModelOptions {
  /** Stack names, artifact ids or display names; default: every stack with an HTTP API. */
  stacks?: readonly string[];
  region: string;
  accountId: string;
  cdkOut: string;
}

const FUNCTION = 'AWS::Lambda::Function';
const HTTP_API = 'AWS::ApiGatewayV2::Api';

/** A resource in a given stack. */
interface ResourceAddress {
  stack: AssemblyStack;
  logicalId: string;
}

export function buildEmulationModel(allStacks: readonly AssemblyStack[], options: ModelOptions): EmulationModel {
  const warnings: string[] = [];
  const exports = exportIndex(allStacks);
  const selected = selectStacks(allStacks, options.stacks);
  const apiAddresses = selected.flatMap((stack) => resourcesOfType(stack, HTTP_API)
    .filter(([, resource]) => resource.Properties?.ProtocolType === 'HTTP')
    .map(([logicalId]) => ({ stack, logicalId })));

  // Functions of the selected stacks, plus those that routes reach in other stacks (cross-stack refs).
  const routeTargets = apiAddresses.flatMap((api) => routeSources(api).map((route) => ({ ...route, target: integrationFunction(route.integration, exports) })));
  const functionAddresses = uniqueAddresses([
    ...selected.flatMap((stack) => resourcesOfType(stack, FUNCTION).map(([logicalId]) => ({ stack, logicalId }))),
    ...routeTargets.flatMap((route) => (route.target ? [route.target] : [])),
  ]);
  const names = readableNames(functionAddresses);
  const nameOf = (address: ResourceAddress): string => names.get(key(address))!;
  const refOverrides = (stack: AssemblyStack): Map<string, string> => new Map([
    ...functionAddresses.filter((address) => address.stack === stack).map((address) => [address.logicalId, deployedNameOf(address, nameOf(address))] as const),
    ...apiAddresses.filter((address) => address.stack === stack).map((address) => [address.logicalId, apiIdOf(address)] as const),
  ]);
  const context = (stack: AssemblyStack): IntrinsicContext => ({
    template: stack.template,
    stackName: stack.stackName,
    region: options.region,
    accountId: options.accountId,
    refOverrides: refOverrides(stack),
    imports: new Map([...exports].map(([name, source]) => [name, () => resolveIntrinsic(source.value, context(source.stack))])),
  });

  const functions = functionAddresses.flatMap((address) => {
    const definition = functionDefinition(address, nameOf(address), context(address.stack), options.cdkOut, warnings);
    return definition ? [definition] : [];
  });
  const runnable = new Set(functions.map((fn) => fn.name));
  const apis = apiAddresses.map((address) => {
    const routes = routeTargets.filter((route) => route.api === address).flatMap((route): HttpRoute[] => {
      if (!route.target) {
        warnings.push(`route ${route.routeKey} of ${address.stack.stackName}/${address.logicalId} does not integrate a Lambda function in this assembly: skipped`);
        return [];
      }
      const functionName = nameOf(route.target);
      if (!runnable.has(functionName)) {
        warnings.push(`route ${route.routeKey}: function ${functionName} cannot run locally: skipped`);
        return [];
      }
      if (route.payloadFormatVersion !== '2.0') {
        warnings.push(`route ${route.routeKey}: payload format ${route.payloadFormatVersion} is not emulated (only 2.0): requests get 500`);
      }
      if (route.authorizationType === 'AWS_IAM' || route.authorizationType === 'CUSTOM') {
        warnings.push(`route ${route.routeKey}: ${route.authorizationType} authorization is not enforced locally`);
      }
      const jwtAuthorizer = route.authorizationType === 'JWT' ? jwtAuthorizerOf(address.stack, route.authorizerId, context(address.stack)) : undefined;
      if (route.authorizationType === 'JWT' && !jwtAuthorizer) {
        warnings.push(`route ${route.routeKey}: its JWT authorizer is not in the template in a form the emulation reads: every request gets 401`);
      }
      return [{
        routeKey: route.routeKey,
        functionName,
        payloadFormatVersion: route.payloadFormatVersion,
        authorizationType: route.authorizationType,
        ...(jwtAuthorizer ? { jwtAuthorizer } : {}),
        authorizationScopes: route.authorizationScopes,
      }];
    });
    return { ...apiStage(address, context(address.stack)), logicalId: address.logicalId, stackName: address.stack.stackName, name: apiName(address, context(address.stack)), apiId: apiIdOf(address), routes };
  });
  if (apis.length === 0) warnings.push('no HTTP API (AWS::ApiGatewayV2::Api with ProtocolType HTTP) in the selected stacks: nothing to route');
  return { functions, apis, warnings };
}

function selectStacks(stacks: readonly AssemblyStack[], wanted: readonly string[] | undefined): AssemblyStack[] {
  if (!wanted) return stacks.filter((stack) => resourcesOfType(stack, HTTP_API).length > 0);
  return wanted.map((name) => {
    const found = stacks.find((stack) => [stack.stackName, stack.artifactId, stack.displayName].includes(name));
    if (!found) throw new Error(`stack ${name} is not in the cloud assembly (found: ${stacks.map((stack) => stack.displayName).join(', ') || 'none'})`);
    return found;
  });
}

function resourcesOfType(stack: AssemblyStack, type: string): [string, TemplateResource][] {
  return Object.entries(stack.template.Resources ?? {}).filter(([, resource]) => resource.Type === type);
}

function key(address: ResourceAddress): string {
  return `${address.stack.stackName}/${address.logicalId}`;
}

function uniqueAddresses(addresses: ResourceAddress[]): ResourceAddress[] {
  const seen = new Map<string, ResourceAddress>();
  for (const address of addresses) if (!seen.has(key(address))) seen.set(key(address), address);
  return [...seen.values()];
}

/** Construct ids that say "a function" rather than which one (e.g. a wrapper's inner `Function`). */
const GENERIC_SEGMENTS = new Set(['Resource', 'Function', 'Handler', 'Lambda', 'Fn', 'Default']);

/**
 * Readable names from construct paths: `Stack/Health/Resource` and `Stack/Health/Function/Resource`
 * -> `Health`; longer paths, then the stack name, only to break ties.
 */
function readableNames(addresses: readonly ResourceAddress[]): Map<string, string> {
  const candidates = addresses.map((address) => {
    const resource = address.stack.template.Resources![address.logicalId]!;
    const path = typeof resource.Metadata?.['aws:cdk:path'] === 'string' ? resource.Metadata['aws:cdk:path'] : undefined;
    const segments = path ? path.split('/').slice(1) : [address.logicalId];
    while (segments.length > 1 && GENERIC_SEGMENTS.has(segments.at(-1)!)) segments.pop();
    const joined = segments.join('-') || address.logicalId;
    return { address, options: [segments.at(-1) || address.logicalId, joined, `${address.stack.stackName}-${joined}`] };
  });
  const names = new Map<string, string>();
  for (const { address, options } of candidates) {
    const unique = options.find((option, level) => candidates.filter((other) => other.options[level] === option).length === 1);
    names.set(key(address), unique ?? `${address.stack.stackName}-${address.logicalId}`);
  }
  return names;
}

function functionDefinition(address: ResourceAddress, name: string, ctx: IntrinsicContext, cdkOut: string, warnings: string[]): FunctionDefinition | undefined {
  const resource = address.stack.template.Resources![address.logicalId]!;
  const props = resource.Properties ?? {};
  const where = `function ${name} (${address.stack.stackName}/${address.logicalId})`;
  const runtime = typeof props.Runtime === 'string' ? props.Runtime : resolveString(props.Runtime, ctx) ?? '';
  if (!runtime.startsWith('nodejs')) {
    warnings.push(`${where}: runtime ${runtime || '(container image)'} is not emulated: skipped`);
    return undefined;
  }
  const codePath = assetFolder(resource, address.stack.assemblyDir, cdkOut);
  if (!codePath) {
    warnings.push(`${where}: no asset folder (needs \`aws:asset:path\` metadata; in-code synth must set the aws:cdk:enable-asset-metadata context): skipped`);
    return undefined;
  }
  const logging = (resolveIntrinsic(props.LoggingConfig ?? {}, ctx) ?? {}) as Record<string, unknown>;
  const deployedName = deployedNameOf(address, name);
  const definition: FunctionDefinition = {
    name,
    ...(deployedName !== name ? { deployedName } : {}),
    logicalId: address.logicalId,
    handler: resolveString(props.Handler, ctx) ?? 'index.handler',
    codePath,
    runtime,
    timeoutSeconds: Number(resolveString(props.Timeout, ctx) ?? 3),
    memoryMb: Number(resolveString(props.MemorySize, ctx) ?? 128),
    environment: environmentOf(props, ctx, where, warnings),
  };
  if (typeof logging.LogFormat === 'string') definition.logFormat = logging.LogFormat;
  if (typeof logging.ApplicationLogLevel === 'string') definition.applicationLogLevel = logging.ApplicationLogLevel;
  if (typeof logging.LogGroup === 'string') definition.logGroupName = logging.LogGroup;
  return definition;
}

function environmentOf(props: Record<string, unknown>, ctx: IntrinsicContext, where: string, warnings: string[]): Record<string, string> {
  const variables = (props.Environment as { Variables?: Record<string, unknown> } | undefined)?.Variables ?? {};
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(variables)) {
    try {
      const resolved = resolveString(value, ctx);
      if (resolved !== undefined) environment[name] = resolved;
    } catch (error) {
      warnings.push(`${where}: variable ${name} left unset: ${(error as Error).message}`);
    }
  }
  return environment;
}

/** The `FunctionName` the template gives (what AWS_LAMBDA_FUNCTION_NAME will be), else the readable name. */
function deployedNameOf(address: ResourceAddress, readableName: string): string {
  const explicit = address.stack.template.Resources![address.logicalId]!.Properties?.FunctionName;
  return typeof explicit === 'string' ? explicit : readableName;
}

function assetFolder(resource: TemplateResource, assemblyDir: string, cdkOut: string): string | undefined {
  const assetPath = resource.Metadata?.['aws:asset:path'];
  if (typeof assetPath !== 'string') return undefined;
  return [resolve(assemblyDir, assetPath), resolve(cdkOut, assetPath)].find((candidate) => existsSync(candidate) && statSync(candidate).isDirectory());
}

interface RouteSource {
  api: ResourceAddress;
  routeKey: string;
  integration: ResourceAddress | undefined;
  payloadFormatVersion: string;
  authorizationType: string;
  authorizerId: string | undefined;
  authorizationScopes: string[];
}

function routeSources(api: ResourceAddress): RouteSource[] {
  const resources = api.stack.template.Resources ?? {};
  return resourcesOfType(api.stack, 'AWS::ApiGatewayV2::Route')
    .filter(([, route]) => refersTo(route.Properties?.ApiId, api.logicalId))
    .map(([, route]) => {
      const integrationId = referencedIds(route.Properties?.Target).find((id) => resources[id]?.Type === 'AWS::ApiGatewayV2::Integration');
      const integration = integrationId ? resources[integrationId] : undefined;
      return {
        api,
        routeKey: String(route.Properties?.RouteKey ?? '$default'),
        integration: integrationId ? { stack: api.stack, logicalId: integrationId } : undefined,
        payloadFormatVersion: String(integration?.Properties?.PayloadFormatVersion ?? '2.0'),
        authorizationType: String(route.Properties?.AuthorizationType ?? 'NONE'),
        authorizerId: referencedIds(route.Properties?.AuthorizerId).find((id) => resources[id]?.Type === 'AWS::ApiGatewayV2::Authorizer'),
        authorizationScopes: Array.isArray(route.Properties?.AuthorizationScopes) ? route.Properties.AuthorizationScopes.map(String) : [],
      };
    });
}

/** A JWT authorizer resource: issuer, audience and identity source, intrinsics resolved. */
function jwtAuthorizerOf(stack: AssemblyStack, logicalId: string | undefined, ctx: IntrinsicContext): JwtAuthorizerModel | undefined {
  const resource = logicalId === undefined ? undefined : stack.template.Resources?.[logicalId];
  if (!resource || resource.Properties?.AuthorizerType !== 'JWT') return undefined;
  const configuration = (resource.Properties.JwtConfiguration ?? {}) as { Issuer?: unknown; Audience?: unknown };
  const issuer = resolveString(configuration.Issuer, ctx);
  if (!issuer) return undefined;
  const list = (value: unknown): string[] => (Array.isArray(value) ? value.map((item) => resolveString(item, ctx) ?? '').filter(Boolean) : []);
  return {
    logicalId: logicalId!,
    name: resolveString(resource.Properties.Name, ctx) ?? logicalId!,
    issuer,
    audience: list(configuration.Audience),
    identitySource: list(resource.Properties.IdentitySource),
  };
}

/** The Lambda function an integration's URI points at, following aliases, versions and stack exports. */
function integrationFunction(integration: ResourceAddress | undefined, exports: ReadonlyMap<string, ExportSource>): ResourceAddress | undefined {
  if (!integration) return undefined;
  const resource = integration.stack.template.Resources![integration.logicalId]!;
  if (resource.Properties?.IntegrationType !== 'AWS_PROXY') return undefined;
  return functionIn(resource.Properties.IntegrationUri, integration.stack, exports, 0);
}

function functionIn(expression: unknown, stack: AssemblyStack, exports: ReadonlyMap<string, ExportSource>, depth: number): ResourceAddress | undefined {
  if (depth > 5) return undefined;
  for (const id of referencedIds(expression)) {
    const resource = stack.template.Resources?.[id];
    if (resource?.Type === FUNCTION) return { stack, logicalId: id };
    if (resource?.Type === 'AWS::Lambda::Alias' || resource?.Type === 'AWS::Lambda::Version') {
      const found = functionIn(resource.Properties?.FunctionName, stack, exports, depth + 1);
      if (found) return found;
    }
  }
  for (const name of importedNames(expression)) {
    const source = exports.get(name);
    const found = source && functionIn(source.value, source.stack, exports, depth + 1);
    if (found) return found;
  }
  return undefined;
}

/** Logical ids named by `Ref` / `Fn::GetAtt` / `${Id}` anywhere inside an expression. */
function referencedIds(expression: unknown): string[] {
  if (Array.isArray(expression)) return expression.flatMap(referencedIds);
  if (typeof expression === 'string') return [...expression.matchAll(/\$\{([A-Za-z0-9]+)(\.[A-Za-z.]+)?\}/g)].map((match) => match[1]!);
  if (expression === null || typeof expression !== 'object') return [];
  const record = expression as Record<string, unknown>;
  if (typeof record.Ref === 'string') return [record.Ref];
  const getAtt = record['Fn::GetAtt'];
  if (Array.isArray(getAtt) && typeof getAtt[0] === 'string') return [getAtt[0]];
  if (typeof getAtt === 'string') return [getAtt.split('.')[0]!];
  return Object.values(record).flatMap(referencedIds);
}

function importedNames(expression: unknown): string[] {
  if (Array.isArray(expression)) return expression.flatMap(importedNames);
  if (expression === null || typeof expression !== 'object') return [];
  const record = expression as Record<string, unknown>;
  if (typeof record['Fn::ImportValue'] === 'string') return [record['Fn::ImportValue']];
  return Object.values(record).flatMap(importedNames);
}

function refersTo(expression: unknown, logicalId: string): boolean {
  return referencedIds(expression).includes(logicalId);
}

interface ExportSource {
  stack: AssemblyStack;
  value: unknown;
}

function exportIndex(stacks: readonly AssemblyStack[]): Map<string, ExportSource> {
  const index = new Map<string, ExportSource>();
  for (const stack of stacks) {
    for (const output of Object.values(stack.template.Outputs ?? {})) {
      if (typeof output.Export?.Name === 'string') index.set(output.Export.Name, { stack, value: output.Value });
    }
  }
  return index;
}

function apiStage(api: ResourceAddress, ctx: IntrinsicContext): { stageName: string; stageVariables: Record<string, string> } {
  const stage = resourcesOfType(api.stack, 'AWS::ApiGatewayV2::Stage').find(([, resource]) => refersTo(resource.Properties?.ApiId, api.logicalId))?.[1];
  const variables = (stage?.Properties?.StageVariables ?? {}) as Record<string, unknown>;
  const stageVariables = Object.fromEntries(Object.entries(variables).map(([name, value]) => [name, resolveString(value, ctx) ?? '']));
  return { stageName: resolveString(stage?.Properties?.StageName, ctx) ?? '$default', stageVariables };
}

function apiName(api: ResourceAddress, ctx: IntrinsicContext): string {
  const resource = api.stack.template.Resources![api.logicalId]!;
  return resolveString(resource.Properties?.Name, ctx) ?? api.logicalId;
}

/** Stable across runs, so logs and URLs stay comparable. */
function apiIdOf(api: ResourceAddress): string {
  const digest = createHash('sha256').update(key(api)).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  return [...digest.subarray(0, 10)].map((byte) => alphabet[byte % alphabet.length]).join('');
}
