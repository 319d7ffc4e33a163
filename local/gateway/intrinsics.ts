import type { CfnTemplate, TemplateResource } from './cloud-assembly';

/**
 * Resolves CloudFormation intrinsic functions to plausible local values, the way the deployed
 * stack would see them: `Ref` and `Fn::GetAtt` become names and ARNs in a fake account,
 * `Fn::Join` / `Fn::Sub` / `Fn::Select` / `Fn::Split` / `Fn::If` / `Fn::FindInMap` /
 * `Fn::ImportValue` are evaluated. Used for function environment variables.
 */

export interface IntrinsicContext {
  template: CfnTemplate;
  stackName: string;
  region: string;
  accountId: string;
  /** What `Ref` of a logical id should be, when the caller knows better (local function names, API ids). */
  refOverrides?: ReadonlyMap<string, string>;
  /** What `Fn::GetAtt [logicalId, attribute]` should be, keyed `logicalId.attribute`. */
  attributeOverrides?: ReadonlyMap<string, string>;
  /** Values of `Fn::ImportValue` by export name (exports of the other stacks). */
  imports?: ReadonlyMap<string, () => unknown>;
}

export class UnresolvableIntrinsicError extends Error {}

/** AWS::NoValue: the property (or variable) is removed. */
export const NO_VALUE: unique symbol = Symbol('AWS::NoValue');

export function resolveIntrinsic(value: unknown, ctx: IntrinsicContext): unknown {
  if (Array.isArray(value)) return value.map((item) => resolveIntrinsic(item, ctx)).filter((item) => item !== NO_VALUE);
  if (value === null || typeof value !== 'object') return value;
  const entries = Object.entries(value);
  const [name, argument] = entries[0] ?? [];
  if (entries.length === 1 && name !== undefined && (name === 'Ref' || name === 'Condition' || name.startsWith('Fn::'))) {
    return evaluate(name, argument, ctx);
  }
  return Object.fromEntries(entries.map(([key, item]) => [key, resolveIntrinsic(item, ctx)]));
}

/** Resolves to a string (lists are comma-joined), or undefined for AWS::NoValue and absent values. */
export function resolveString(value: unknown, ctx: IntrinsicContext): string | undefined {
  const resolved = resolveIntrinsic(value, ctx);
  if (resolved === NO_VALUE || resolved === undefined || resolved === null) return undefined;
  if (typeof resolved === 'string') return resolved;
  if (Array.isArray(resolved)) return resolved.map(String).join(',');
  if (typeof resolved === 'object' && resolved !== null) return JSON.stringify(resolved);
  return String(resolved);
}

function evaluate(name: string, argument: unknown, ctx: IntrinsicContext): unknown {
  switch (name) {
    case 'Ref': return ref(String(argument), ctx);
    case 'Fn::GetAtt': return getAtt(argument, ctx);
    case 'Fn::Join': {
      const [delimiter, parts] = list(argument, 2, name);
      return asList(resolveIntrinsic(parts, ctx), name).map((part) => text(part, name)).join(String(delimiter));
    }
    case 'Fn::Sub': return sub(argument, ctx);
    case 'Fn::Select': {
      const [index, items] = list(argument, 2, name);
      const selected = asList(resolveIntrinsic(items, ctx), name)[Number(resolveIntrinsic(index, ctx))];
      if (selected === undefined) throw new UnresolvableIntrinsicError(`Fn::Select index ${String(index)} is out of range`);
      return selected;
    }
    case 'Fn::Split': {
      const [delimiter, source] = list(argument, 2, name);
      return text(resolveIntrinsic(source, ctx), name).split(String(delimiter));
    }
    case 'Fn::If': {
      const [condition, whenTrue, whenFalse] = list(argument, 3, name);
      return resolveIntrinsic(condition === undefined ? whenFalse : isTrue(String(condition), ctx) ? whenTrue : whenFalse, ctx);
    }
    case 'Fn::Equals': {
      const [left, right] = list(argument, 2, name);
      return JSON.stringify(resolveIntrinsic(left, ctx)) === JSON.stringify(resolveIntrinsic(right, ctx));
    }
    case 'Fn::Not': return !resolveIntrinsic(list(argument, 1, name)[0], ctx);
    case 'Fn::And': return asList(argument, name).every((item) => resolveIntrinsic(item, ctx) === true);
    case 'Fn::Or': return asList(argument, name).some((item) => resolveIntrinsic(item, ctx) === true);
    case 'Condition': return isTrue(String(argument), ctx);
    case 'Fn::FindInMap': {
      const [map, top, second] = list(argument, 3, name).map((item) => text(resolveIntrinsic(item, ctx), name));
      const found = ctx.template.Mappings?.[map!]?.[top!]?.[second!];
      if (found === undefined) throw new UnresolvableIntrinsicError(`Fn::FindInMap ${map}.${top}.${second} is not in the template`);
      return found;
    }
    case 'Fn::ImportValue': {
      const exportName = text(resolveIntrinsic(argument, ctx), name);
      const imported = ctx.imports?.get(exportName);
      if (!imported) throw new UnresolvableIntrinsicError(`Fn::ImportValue ${exportName}: no stack in the assembly exports it`);
      return imported();
    }
    case 'Fn::Base64': return Buffer.from(text(resolveIntrinsic(argument, ctx), name)).toString('base64');
    case 'Fn::GetAZs': return ['a', 'b', 'c'].map((zone) => `${ctx.region}${zone}`);
    default: throw new UnresolvableIntrinsicError(`${name} is not supported by the local emulation`);
  }
}

function ref(logicalId: string, ctx: IntrinsicContext): unknown {
  const pseudo = pseudoParameter(logicalId, ctx);
  if (pseudo !== undefined) return pseudo;
  const parameter = ctx.template.Parameters?.[logicalId];
  if (parameter) {
    if (parameter.Default === undefined) throw new UnresolvableIntrinsicError(`parameter ${logicalId} has no default`);
    return parameter.Default;
  }
  const override = ctx.refOverrides?.get(logicalId);
  if (override !== undefined) return override;
  const resource = ctx.template.Resources?.[logicalId];
  if (!resource) throw new UnresolvableIntrinsicError(`Ref ${logicalId}: no such resource or parameter`);
  return physicalRef(logicalId, resource, ctx);
}

function pseudoParameter(name: string, ctx: IntrinsicContext): unknown {
  switch (name) {
    case 'AWS::Region': return ctx.region;
    case 'AWS::AccountId': return ctx.accountId;
    case 'AWS::Partition': return 'aws';
    case 'AWS::URLSuffix': return 'amazonaws.com';
    case 'AWS::StackName': return ctx.stackName;
    case 'AWS::StackId': return `arn:aws:cloudformation:${ctx.region}:${ctx.accountId}:stack/${ctx.stackName}/00000000-0000-0000-0000-000000000000`;
    case 'AWS::NoValue': return NO_VALUE;
    case 'AWS::NotificationARNs': return [];
    default: return undefined;
  }
}

/** The physical name a resource would get: its explicit name property, else its logical id. */
function physicalName(logicalId: string, resource: TemplateResource, ctx: IntrinsicContext): string {
  const props = resource.Properties ?? {};
  for (const key of ['FunctionName', 'TableName', 'BucketName', 'QueueName', 'TopicName', 'LogGroupName', 'RoleName', 'Name']) {
    if (props[key] !== undefined) {
      const name = resolveString(props[key], ctx);
      if (name) return name;
    }
  }
  return resource.Type === 'AWS::S3::Bucket' ? logicalId.toLowerCase() : logicalId;
}

function physicalRef(logicalId: string, resource: TemplateResource, ctx: IntrinsicContext): string {
  const name = physicalName(logicalId, resource, ctx);
  const { region, accountId } = ctx;
  switch (resource.Type) {
    case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}`;
    case 'AWS::SNS::Topic': return `arn:aws:sns:${region}:${accountId}:${name}`;
    case 'AWS::SQS::Queue': return `https://sqs.${region}.amazonaws.com/${accountId}/${name}`;
    case 'AWS::IAM::ManagedPolicy': return `arn:aws:iam::${accountId}:policy/${name}`;
    case 'AWS::Lambda::Version': return `${arn(logicalId, resource, ctx)}:1`;
    default: return name;
  }
}

function getAtt(argument: unknown, ctx: IntrinsicContext): unknown {
  const [logicalId, attribute] = typeof argument === 'string'
    ? splitOnce(argument, '.')
    : list(argument, 2, 'Fn::GetAtt').map((item) => text(resolveIntrinsic(item, ctx), 'Fn::GetAtt'));
  const override = ctx.attributeOverrides?.get(`${logicalId}.${attribute}`);
  if (override !== undefined) return override;
  const resource = ctx.template.Resources?.[logicalId!];
  if (!resource) throw new UnresolvableIntrinsicError(`Fn::GetAtt ${logicalId}.${attribute}: no such resource`);
  const name = physicalName(logicalId!, resource, ctx);
  switch (attribute) {
    case 'Arn': case 'TopicArn': case 'QueueArn': return arn(logicalId!, resource, ctx);
    case 'StreamArn': return `${arn(logicalId!, resource, ctx)}/stream/1970-01-01T00:00:00.000`;
    case 'QueueUrl': return `https://sqs.${ctx.region}.amazonaws.com/${ctx.accountId}/${name}`;
    case 'QueueName': case 'TopicName': case 'Name': case 'Id': case 'RoleId': case 'KeyId': case 'SecretId': return name;
    case 'DomainName': return `${name}.s3.amazonaws.com`;
    case 'RegionalDomainName': return `${name}.s3.${ctx.region}.amazonaws.com`;
    case 'ApiEndpoint': return `https://${name}.execute-api.${ctx.region}.amazonaws.com`;
    default: return `${name}.${attribute}`;
  }
}

function arn(logicalId: string, resource: TemplateResource, ctx: IntrinsicContext): string {
  const name = physicalName(logicalId, resource, ctx);
  const { region, accountId } = ctx;
  const [, service = 'unknown', kind = 'resource'] = resource.Type.split('::');
  switch (resource.Type) {
    case 'AWS::Lambda::Function': return `arn:aws:lambda:${region}:${accountId}:function:${ctx.refOverrides?.get(logicalId) ?? name}`;
    case 'AWS::S3::Bucket': return `arn:aws:s3:::${name}`;
    case 'AWS::SQS::Queue': return `arn:aws:sqs:${region}:${accountId}:${name}`;
    case 'AWS::SNS::Topic': return `arn:aws:sns:${region}:${accountId}:${name}`;
    case 'AWS::SecretsManager::Secret': return `arn:aws:secretsmanager:${region}:${accountId}:secret:${name}`;
    case 'AWS::DynamoDB::Table': case 'AWS::DynamoDB::GlobalTable': return `arn:aws:dynamodb:${region}:${accountId}:table/${name}`;
    case 'AWS::IAM::Role': return `arn:aws:iam::${accountId}:role/${name}`;
    case 'AWS::Logs::LogGroup': return `arn:aws:logs:${region}:${accountId}:log-group:${name}:*`;
    case 'AWS::KMS::Key': return `arn:aws:kms:${region}:${accountId}:key/${name}`;
    case 'AWS::Events::EventBus': return `arn:aws:events:${region}:${accountId}:event-bus/${name}`;
    default: return `arn:aws:${service.toLowerCase()}:${region}:${accountId}:${kind.toLowerCase()}/${name}`;
  }
}

function sub(argument: unknown, ctx: IntrinsicContext): string {
  const [template, variables = {}] = typeof argument === 'string' ? [argument, {}] : list(argument, 1, 'Fn::Sub');
  const locals = variables as Record<string, unknown>;
  return String(template).replace(/\$\{([^}!][^}]*)\}/g, (_match, expression: string) => {
    if (expression in locals) return text(resolveIntrinsic(locals[expression], ctx), 'Fn::Sub');
    const dot = expression.indexOf('.');
    const value = dot > 0 && !expression.startsWith('AWS::')
      ? getAtt([expression.slice(0, dot), expression.slice(dot + 1)], ctx)
      : ref(expression, ctx);
    return text(value, 'Fn::Sub');
  }).replace(/\$\{!/g, '${');
}

function isTrue(condition: string, ctx: IntrinsicContext): boolean {
  const definition = ctx.template.Conditions?.[condition];
  if (definition === undefined) throw new UnresolvableIntrinsicError(`condition ${condition} is not in the template`);
  return resolveIntrinsic(definition, ctx) === true;
}

function list(argument: unknown, minimum: number, name: string): unknown[] {
  if (!Array.isArray(argument) || argument.length < minimum) throw new UnresolvableIntrinsicError(`${name} needs a list of ${minimum}`);
  return argument;
}

function asList(value: unknown, name: string): unknown[] {
  if (!Array.isArray(value)) throw new UnresolvableIntrinsicError(`${name} needs a list`);
  return value;
}

function text(value: unknown, name: string): string {
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
  throw new UnresolvableIntrinsicError(`${name} needs a string, got ${JSON.stringify(value)}`);
}

function splitOnce(value: string, separator: string): [string, string] {
  const at = value.indexOf(separator);
  return at < 0 ? [value, ''] : [value.slice(0, at), value.slice(at + 1)];
}
