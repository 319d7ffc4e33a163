// Prometheus text exposition for `GET /metrics`. Labels hold route templates, never ids or titles.

type Labels = Record<string, string>;

interface Series {
  labels: Labels;
  value: number;
}

interface Family {
  help: string;
  type: 'counter' | 'gauge';
  series: Map<string, Series>;
}

const escapeLabel = (value: string): string => value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

function renderLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([key, value]) => `${key}="${escapeLabel(value)}"`);
  return parts.length > 0 ? `{${parts.join(',')}}` : '';
}

export class Metrics {
  private readonly families = new Map<string, Family>();

  constructor() {
    this.describe('op_connect_process_start_time_seconds', 'gauge', 'Start time of the local Connect server since the epoch.');
    this.set('op_connect_process_start_time_seconds', {}, Math.floor(Date.now() / 1000));
    this.describe('op_connect_http_requests_total', 'counter', 'HTTP requests answered, by method, route and status.');
    this.describe('op_connect_http_request_duration_seconds_total', 'counter', 'Total time spent answering, by route.');
    this.describe('op_connect_injected_faults_total', 'counter', 'Injected faults, by kind.');
    this.describe('op_connect_http_requests_in_flight', 'gauge', 'Requests received but not yet answered.');
    this.set('op_connect_http_requests_in_flight', {}, 0);
  }

  describe(name: string, type: Family['type'], help: string): void {
    if (!this.families.has(name)) this.families.set(name, { help, type, series: new Map() });
  }

  add(name: string, labels: Labels, delta = 1): void {
    const family = this.families.get(name);
    if (!family) throw new Error(`metric ${name} is not described`);
    const key = renderLabels(labels);
    const series = family.series.get(key) ?? { labels, value: 0 };
    series.value += delta;
    family.series.set(key, series);
  }

  set(name: string, labels: Labels, value: number): void {
    this.add(name, labels, 0);
    this.families.get(name)!.series.get(renderLabels(labels))!.value = value;
  }

  render(): string {
    const lines: string[] = [];
    for (const [name, family] of this.families) {
      lines.push(`# HELP ${name} ${family.help}`, `# TYPE ${name} ${family.type}`);
      for (const series of family.series.values()) {
        lines.push(`${name}${renderLabels(series.labels)} ${Number(series.value.toFixed(6))}`);
      }
    }
    return `${lines.join('\n')}\n`;
  }
}
