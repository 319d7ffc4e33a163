/**
 * Drift between two stages: do they declare the same secret names per function, and do the items
 * those secrets point at carry the same fields (label and type, per section)? Compares shapes,
 * never values: two stages are meant to hold different values in identically shaped items.
 */
import { ConnectError } from '../secrets/errors';
import { manifestEntries, type SecretsManifest } from './manifest';
import type { ConnectItemJson } from './ops-client';

export type DriftKind = 'missing-function' | 'missing-secret' | 'missing-item' | 'missing-field' | 'field-type';

/** One difference; `stage` is the side that lacks (or differs from) what the other has. */
export interface DriftFinding {
  kind: DriftKind;
  stage: string;
  functionName: string;
  name?: string;
  /** The item as named by that stage's reference (vault/item), for item and field findings. */
  item?: string;
  /** `section/label` or `label`, for field findings. */
  field?: string;
  detail: string;
}

export interface StageManifest {
  stage: string;
  manifest: SecretsManifest;
}

/** Fields of an item, keyed by `section/label` in lower case, with their types. */
export type ItemShape = ReadonlyMap<string, { field: string; type: string }>;

export interface ShapeSource {
  /** The shape of an item, or the ConnectError that kept it from being read. */
  itemShape(stage: string, vault: string, item: string): Promise<ItemShape | ConnectError>;
}

/** Names declared by one stage and not the other, per function. */
export function compareDeclarations(a: StageManifest, b: StageManifest): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const [have, lack] of [[a, b], [b, a]] as const) {
    for (const functionName of Object.keys(have.manifest).sort()) {
      const theirs = lack.manifest[functionName];
      if (!theirs) {
        findings.push({ kind: 'missing-function', stage: lack.stage, functionName, detail: `declared by ${have.stage} only` });
        continue;
      }
      for (const name of Object.keys(have.manifest[functionName]!).sort()) {
        if (!(name in theirs)) {
          findings.push({ kind: 'missing-secret', stage: lack.stage, functionName, name, detail: `declared by ${have.stage} only` });
        }
      }
    }
  }
  return findings;
}

/** For every secret both stages declare, compares the shapes of the items they reference. */
export async function compareItems(a: StageManifest, b: StageManifest, shapes: ShapeSource): Promise<DriftFinding[]> {
  const other = new Map(manifestEntries(b.manifest).map((entry) => [`${entry.functionName}\0${entry.name}`, entry]));
  const seen = new Set<string>();
  const findings: DriftFinding[] = [];
  for (const left of manifestEntries(a.manifest)) {
    const right = other.get(`${left.functionName}\0${left.name}`);
    if (!right) continue;
    const leftItem = `${left.reference.vault}/${left.reference.item}`;
    const rightItem = `${right.reference.vault}/${right.reference.item}`;
    const pair = `${leftItem}\0${rightItem}`.toLowerCase();
    // Several secrets in one item: compare the item pair once.
    if (seen.has(pair)) continue;
    seen.add(pair);
    const context = { functionName: left.functionName, name: left.name };
    const [leftShape, rightShape] = await Promise.all([
      shapes.itemShape(a.stage, left.reference.vault, left.reference.item),
      shapes.itemShape(b.stage, right.reference.vault, right.reference.item),
    ]);
    if (leftShape instanceof ConnectError || rightShape instanceof ConnectError) {
      if (leftShape instanceof ConnectError) findings.push(missingItem(a.stage, leftItem, leftShape, context));
      if (rightShape instanceof ConnectError) findings.push(missingItem(b.stage, rightItem, rightShape, context));
      continue;
    }
    findings.push(...compareShapes({ stage: a.stage, item: leftItem, shape: leftShape }, { stage: b.stage, item: rightItem, shape: rightShape }, context));
  }
  return findings;
}

interface SideShape {
  stage: string;
  item: string;
  shape: ItemShape;
}

function compareShapes(a: SideShape, b: SideShape, context: { functionName: string; name: string }): DriftFinding[] {
  const findings: DriftFinding[] = [];
  for (const [have, lack] of [[a, b], [b, a]] as const) {
    for (const [key, field] of have.shape) {
      const counterpart = lack.shape.get(key);
      if (!counterpart) {
        findings.push({ kind: 'missing-field', stage: lack.stage, ...context, item: lack.item, field: field.field, detail: `present in ${have.stage} (${have.item})` });
      } else if (have === a && counterpart.type !== field.type) {
        findings.push({
          kind: 'field-type',
          stage: b.stage,
          ...context,
          item: b.item,
          field: field.field,
          detail: `type ${counterpart.type} in ${b.stage}, ${field.type} in ${a.stage}`,
        });
      }
    }
  }
  return findings;
}

function missingItem(stage: string, item: string, error: ConnectError, context: { functionName: string; name: string }): DriftFinding {
  return { kind: 'missing-item', stage, ...context, item, detail: `cannot read the item: ${error.code}` };
}

/** The shape of an item as Connect sent it: labels and types, nothing else. */
export function shapeOf(item: ConnectItemJson): ItemShape {
  const sections = new Map((item.sections ?? []).map((section) => [section.id, section.label ?? section.id]));
  const shape = new Map<string, { field: string; type: string }>();
  for (const field of item.fields ?? []) {
    const label = field.label ?? field.id;
    const section = field.section?.id === undefined ? undefined : sections.get(field.section.id) ?? field.section.id;
    const name = section === undefined ? label : `${section}/${label}`;
    shape.set(name.toLowerCase(), { field: name, type: (field.type ?? 'STRING').toUpperCase() });
  }
  return shape;
}
