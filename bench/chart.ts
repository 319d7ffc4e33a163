/**
 * Cold-start time against the number of secrets, per approach: one panel for references by name,
 * one for references by id, a logarithmic time axis (the slowest approach is ten times the
 * fastest), and the lower bound dashed. Plain SVG written by hand: no chart library.
 */
import type { ColdApproachId, ColdResults, ColdScenarioResult } from './cold';
import type { Addressing } from './cold-fixture';

interface Series {
  label: string;
  color: string;
  dashed?: boolean;
  /** Points drawn as rings: a variant measured at some counts only. */
  hollow?: boolean;
  points: { secrets: number; ms: number }[];
}

const PLOTTED: readonly { approach: ColdApproachId; color: string; hollow?: boolean }[] = [
  { approach: 'op-lambda', color: '#1864ab' },
  { approach: 'sdk-parallel', color: '#e8590c' },
  { approach: 'sdk-sequential', color: '#a61e4d' },
  { approach: 'op-lambda-concurrency-8', color: '#1864ab', hollow: true },
];
const BOUND_COLOR = '#495057';

const WIDTH = 960;
const HEIGHT = 490;
const PANEL = { top: 82, bottom: 90, left: 70, gap: 60, right: 20 };
const FONT = 'font-family="system-ui, -apple-system, Segoe UI, Helvetica, Arial, sans-serif"';

export function renderColdChart(cold: ColdResults, machineLine: string): string {
  const counts = [...new Set(cold.scenarios.filter((s) => PLOTTED.some((p) => p.approach === s.approach)).map((s) => s.secrets))].sort((a, b) => a - b);
  const panels: Addressing[] = ['name', 'id'];
  const seriesByPanel = panels.map((addressing) => seriesFor(cold, addressing, counts));
  const values = seriesByPanel.flat().flatMap((series) => series.points.map((point) => point.ms)).filter((ms) => ms > 0 && Number.isFinite(ms));
  const scale = logScale(Math.min(...values), Math.max(...values));
  const panelWidth = (WIDTH - PANEL.left - PANEL.right - PANEL.gap) / 2;
  const parts: string[] = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" ${FONT} font-size="12">`,
    `<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`,
    text(WIDTH / 2, 24, 'Cold start: process start to first response, by number of secrets', { size: 16, anchor: 'middle', weight: 'bold' }),
    text(WIDTH / 2, 44, `median of ${cold.repetitions} cold starts; ${cold.latencyPerRequestMs.value} ms added to every Connect request; ${machineLine}`, { anchor: 'middle', color: '#495057' }),
  ];
  panels.forEach((addressing, index) => {
    const left = PANEL.left + index * (panelWidth + PANEL.gap);
    parts.push(panel({ left, width: panelWidth, addressing, counts, scale, series: seriesByPanel[index]! }));
  });
  parts.push(legend(seriesByPanel[0]!), '</svg>');
  return `${parts.join('\n')}\n`;
}

function seriesFor(cold: ColdResults, addressing: Addressing, counts: readonly number[]): Series[] {
  const find = (approach: ColdApproachId, secrets: number): ColdScenarioResult | undefined =>
    cold.scenarios.find((s) => s.approach === approach && s.secrets === secrets && (secrets === 0 || s.addressing === addressing));
  const series: Series[] = PLOTTED.map(({ approach, color, hollow }) => ({
    label: cold.scenarios.find((s) => s.approach === approach)?.label ?? approach,
    color,
    hollow,
    points: counts.flatMap((secrets) => {
      const found = find(approach, secrets);
      return found && found.failures < cold.repetitions ? [{ secrets, ms: found.timeMs.value }] : [];
    }),
  })).filter((entry) => entry.points.length > 0);
  const bound: Series = {
    label: 'lower bound (INIT + slowest request chain)',
    color: BOUND_COLOR,
    dashed: true,
    points: counts.flatMap((secrets) => {
      const found = find('op-lambda', secrets);
      return found ? [{ secrets, ms: found.lowerBoundMs.value }] : [];
    }),
  };
  return [...series, bound];
}

interface Scale {
  min: number;
  max: number;
  ticks: number[];
}

/** Decades with 1-2-5 steps, from below the smallest value to above the largest. */
function logScale(low: number, high: number): Scale {
  const steps = [1, 2, 5];
  const ticks: number[] = [];
  for (let decade = 10 ** Math.floor(Math.log10(low)); decade <= high * 10; decade *= 10) {
    for (const step of steps) ticks.push(step * decade);
  }
  const min = Math.max(...ticks.filter((tick) => tick <= low));
  const max = Math.min(...ticks.filter((tick) => tick >= high));
  return { min, max, ticks: ticks.filter((tick) => tick >= min && tick <= max) };
}

interface PanelSpec {
  left: number;
  width: number;
  addressing: Addressing;
  counts: readonly number[];
  scale: Scale;
  series: Series[];
}

function panel(spec: PanelSpec): string {
  const top = PANEL.top;
  const height = HEIGHT - PANEL.top - PANEL.bottom;
  const y = (ms: number): number => top + height - ((Math.log10(ms) - Math.log10(spec.scale.min)) / (Math.log10(spec.scale.max) - Math.log10(spec.scale.min))) * height;
  const x = (secrets: number): number => spec.left + ((spec.counts.indexOf(secrets) + 0.5) / spec.counts.length) * spec.width;
  const parts: string[] = [
    text(spec.left + spec.width / 2, top - 8, spec.addressing === 'name' ? 'references by name (op://vault-name/item-title/field)' : 'references by id (op://vault-id/item-id/field)', { anchor: 'middle', weight: 'bold' }),
    `<rect x="${spec.left}" y="${top}" width="${spec.width}" height="${height}" fill="none" stroke="#ced4da"/>`,
  ];
  for (const tick of spec.scale.ticks) {
    parts.push(`<line x1="${spec.left}" x2="${spec.left + spec.width}" y1="${y(tick).toFixed(1)}" y2="${y(tick).toFixed(1)}" stroke="#f1f3f5"/>`);
    parts.push(text(spec.left - 6, y(tick) + 4, tick >= 1000 ? `${tick / 1000} s` : `${tick} ms`, { anchor: 'end', color: '#495057' }));
  }
  for (const secrets of spec.counts) {
    parts.push(text(x(secrets), top + height + 18, String(secrets), { anchor: 'middle' }));
  }
  parts.push(text(spec.left + spec.width / 2, top + height + 40, 'secrets declared (0 = INIT of the handler alone)', { anchor: 'middle', color: '#495057' }));
  for (const series of spec.series) {
    const coordinates = series.points.map((point) => `${x(point.secrets).toFixed(1)},${y(point.ms).toFixed(1)}`);
    const dash = series.dashed ? ' stroke-dasharray="6 4"' : '';
    if (!series.hollow) parts.push(`<polyline points="${coordinates.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    for (const point of series.points) {
      const paint = series.hollow ? `fill="#ffffff" stroke="${series.color}" stroke-width="2"` : `fill="${series.color}"`;
      parts.push(`<circle cx="${x(point.secrets).toFixed(1)}" cy="${y(point.ms).toFixed(1)}" r="${series.dashed ? 2.5 : 4}" ${paint}><title>${escapeXml(`${series.label}, ${point.secrets} secrets: ${point.ms.toFixed(0)} ms`)}</title></circle>`);
    }
  }
  return parts.join('\n');
}

function legend(series: readonly Series[]): string {
  // About 5.8 px per character at 11 px: enough to keep labels apart without measuring text.
  const widthOf = (entry: Series): number => 30 + entry.label.length * 5.8 + 24;
  const rows: Series[][] = [[]];
  let used = 0;
  for (const entry of series) {
    if (used + widthOf(entry) > WIDTH - 40 && rows.at(-1)!.length > 0) {
      rows.push([]);
      used = 0;
    }
    rows.at(-1)!.push(entry);
    used += widthOf(entry);
  }
  const parts: string[] = [];
  rows.forEach((row, index) => {
    const y = HEIGHT - 14 - (rows.length - 1 - index) * 18;
    let left = 20;
    for (const entry of row) {
      const dash = entry.dashed ? ' stroke-dasharray="6 4"' : '';
      if (entry.hollow) parts.push(`<circle cx="${left + 12}" cy="${y - 4}" r="4" fill="#ffffff" stroke="${entry.color}" stroke-width="2"/>`);
      else parts.push(`<line x1="${left}" x2="${left + 24}" y1="${y - 4}" y2="${y - 4}" stroke="${entry.color}" stroke-width="2"${dash}/>`);
      parts.push(text(left + 30, y, entry.label, { size: 11 }));
      left += widthOf(entry);
    }
  });
  return parts.join('\n');
}

interface TextStyle {
  anchor?: 'start' | 'middle' | 'end';
  size?: number;
  weight?: 'bold';
  color?: string;
}

function text(x: number, y: number, content: string, style: TextStyle = {}): string {
  const attributes = [
    `x="${x.toFixed(1)}"`,
    `y="${y.toFixed(1)}"`,
    style.anchor ? `text-anchor="${style.anchor}"` : '',
    style.size ? `font-size="${style.size}"` : '',
    style.weight ? `font-weight="${style.weight}"` : '',
    `fill="${style.color ?? '#212529'}"`,
  ].filter((attribute) => attribute !== '');
  return `<text ${attributes.join(' ')}>${escapeXml(content)}</text>`;
}

function escapeXml(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;');
}
