import { LambdaContainer } from './container';
import type { RuntimeDir } from './runtime-dir';
import type { FunctionDefinition, InvokeResult, LogListener } from './types';

/**
 * One function and its containers. Concurrent invokes get separate containers, up to
 * `maxContainers`; beyond that, invokes wait for a container to come free (Lambda would
 * throttle; locally, queueing keeps a load test meaningful). Idle containers are reused,
 * most recently used first, and kept until `killContainers()` or `close()`.
 */

export interface LocalFunctionOptions {
  definition: FunctionDefinition;
  runtimeDir: RuntimeDir;
  region: string;
  accountId: string;
  /** Applied to the function's variables; `undefined` deletes one. */
  environment?: Readonly<Record<string, string | undefined>>;
  maxContainers: number;
  onLog?: LogListener;
}

export interface FunctionStats {
  /** Invokes that started a new container (including failed INITs). */
  coldStarts: number;
  invocations: number;
  /** Invokes that did not succeed, timeouts included (as Lambda's `Errors` metric). */
  errors: number;
  timeouts: number;
  /** Containers alive now. */
  containers: number;
}

export class LocalLambdaFunction {
  private readonly containers = new Set<LambdaContainer>();
  private readonly idle: LambdaContainer[] = [];
  private readonly waiting: { resolve: (container: LambdaContainer) => void; reject: (error: Error) => void }[] = [];
  private readonly counters = { coldStarts: 0, invocations: 0, errors: 0, timeouts: 0 };
  private closed = false;

  constructor(private readonly options: LocalFunctionOptions) {
    if (!(options.maxContainers >= 1)) throw new Error(`maxContainers must be at least 1, got ${options.maxContainers}`);
  }

  get definition(): FunctionDefinition {
    return this.options.definition;
  }

  async invoke(event: unknown): Promise<InvokeResult> {
    if (this.closed) throw new Error(`function ${this.definition.name} is closed`);
    const container = await this.lease();
    try {
      const result = await container.invoke(event);
      this.count(result);
      return result;
    } finally {
      this.release(container);
    }
  }

  stats(): FunctionStats {
    return { ...this.counters, containers: this.containers.size };
  }

  /** Kills every container, busy ones included (their invokes end as `crash`). */
  async killContainers(): Promise<void> {
    await Promise.all([...this.containers].map((container) => container.kill()));
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const waiter of this.waiting.splice(0)) waiter.reject(new Error(`function ${this.definition.name} is closed`));
    await this.killContainers();
  }

  private count(result: InvokeResult): void {
    this.counters.invocations += 1;
    if (result.coldStart) this.counters.coldStarts += 1;
    if (result.outcome !== 'success') this.counters.errors += 1;
    if (result.outcome === 'timeout') this.counters.timeouts += 1;
  }

  private lease(): Promise<LambdaContainer> {
    const reusable = this.idle.pop();
    if (reusable) return Promise.resolve(reusable);
    if (this.containers.size < this.options.maxContainers) return Promise.resolve(this.newContainer());
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  private release(container: LambdaContainer): void {
    const usable = container.state === 'idle' && !this.closed;
    const next = this.waiting.shift();
    if (next) {
      next.resolve(usable ? container : this.newContainer());
    } else if (usable) {
      this.idle.push(container);
    }
  }

  private newContainer(): LambdaContainer {
    const { definition, runtimeDir, region, accountId, environment, onLog } = this.options;
    const container: LambdaContainer = new LambdaContainer({
      definition,
      runtimeDir,
      region,
      accountId,
      ...(environment ? { environment } : {}),
      onLog: (stream, text) => onLog?.({ functionName: definition.name, containerId: container.id, stream, text, at: Date.now() }),
      onDead: () => this.forget(container),
    });
    this.containers.add(container);
    return container;
  }

  private forget(container: LambdaContainer): void {
    this.containers.delete(container);
    const index = this.idle.indexOf(container);
    if (index >= 0) this.idle.splice(index, 1);
  }
}
