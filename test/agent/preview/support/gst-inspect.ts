// Reading `gst-inspect-1.0 <element>` output (pad templates and element properties), a stand-in gst-inspect
// that answers like a Jetson from recorded output (../fixtures/jetson-gst-inspect), and a parser of the
// gst-launch-1.0 argv the live view builds, so a pipeline can be checked element by element: every element
// exists, every property it sets exists and takes that value, every caps filter fits the pads around it.

import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const RECORDED_DIR = fileURLToPath(new URL('../fixtures/jetson-gst-inspect/', import.meta.url));

/** Elements recorded on a Jetson (NVIDIA's plugins). */
export const RECORDED_ELEMENTS = ['nvv4l2h264enc', 'nvvidconv'];

export type PropType =
  | { kind: 'boolean' }
  | { kind: 'integer'; min: bigint; max: bigint }
  | { kind: 'enum'; values: Array<{ value: number; nick: string }> }
  | { kind: 'flags'; values: Array<{ value: number; nick: string }> }
  | { kind: 'string' }
  | { kind: 'fraction' }
  | { kind: 'other'; text: string };

export interface Property {
  name: string;
  writable: boolean;
  type: PropType;
}

/** One structure of a caps list: media type, features (memory:NVMM) and fields as written. */
export interface CapsStructure {
  media: string;
  features: string;
  fields: Map<string, string>;
}

export interface PadTemplate {
  name: string;
  direction: 'sink' | 'src';
  caps: CapsStructure[];
}

export interface Inspected {
  properties: Map<string, Property>;
  pads: PadTemplate[];
}

export function parseInspect(text: string): Inspected {
  const lines = text.split('\n');
  const pads: PadTemplate[] = [];
  const properties = new Map<string, Property>();
  let section = '';
  let pad: PadTemplate | undefined;
  let caps: CapsStructure | undefined;
  let prop: Property | undefined;
  for (const line of lines) {
    if (/^\S.*:$/.test(line)) {
      section = line.slice(0, -1);
      continue;
    }
    if (section === 'Pad Templates') {
      const t = /^\s+(SINK|SRC) template: '([^']+)'/.exec(line);
      if (t) {
        pad = { name: t[2]!, direction: t[1] === 'SINK' ? 'sink' : 'src', caps: [] };
        pads.push(pad);
        continue;
      }
      if (/^ {6}ANY\s*$/.test(line) && pad) {
        pad.caps.push({ media: 'ANY', features: '', fields: new Map() });
        continue;
      }
      const media = /^ {6}([a-z]+\/[a-z0-9.+-]+)(\(([^)]*)\))?\s*$/i.exec(line);
      if (media && pad) {
        caps = { media: media[1]!, features: media[3] ?? '', fields: new Map() };
        pad.caps.push(caps);
        continue;
      }
      const field = /^\s+([a-z-]+): (.+)$/.exec(line);
      if (field && caps && !['Availability', 'Capabilities'].includes(field[1]!)) caps.fields.set(field[1]!, field[2]!.trim());
      continue;
    }
    if (section === 'Element Properties') {
      const head = /^ {2}([A-Za-z][\w-]*)\s*: /.exec(line);
      if (head) {
        prop = { name: head[1]!, writable: false, type: { kind: 'other', text: '' } };
        properties.set(prop.name, prop);
        continue;
      }
      if (!prop) continue;
      const flags = /^\s+flags: (.*)$/.exec(line);
      if (flags) {
        prop.writable = /\bwritable\b/.test(flags[1]!);
        continue;
      }
      const t = line.trim();
      if (/^Boolean\./.test(t)) prop.type = { kind: 'boolean' };
      else if (/^(Unsigned )?Integer(64)?\. Range: /.test(t)) {
        const m = /Range: (-?\d+) - (-?\d+)/.exec(t)!;
        prop.type = { kind: 'integer', min: BigInt(m[1]!), max: BigInt(m[2]!) };
      } else if (/^Enum "/.test(t)) prop.type = { kind: 'enum', values: [] };
      else if (/^Flags "/.test(t)) prop.type = { kind: 'flags', values: [] };
      else if (/^\((0x[0-9a-f]+|\d+)\): /.test(t) && (prop.type.kind === 'enum' || prop.type.kind === 'flags')) {
        const m = /^\((0x[0-9a-f]+|\d+)\): (\S+)/.exec(t)!;
        prop.type.values.push({ value: Number(m[1]), nick: m[2]! });
      } else if (/^String\./.test(t)) prop.type = { kind: 'string' };
      else if (/^Fraction\./.test(t)) prop.type = { kind: 'fraction' };
      else if (prop.type.kind === 'other' && !prop.type.text) prop.type = { kind: 'other', text: t };
    }
  }
  return { properties, pads };
}

/** Why `value` is not a valid setting of `p`, or undefined when it is. */
export function valueProblem(p: Property, value: string): string | undefined {
  if (!p.writable) return `${p.name} is read-only`;
  const t = p.type;
  switch (t.kind) {
    case 'boolean':
      return /^(true|false|1|0|yes|no)$/i.test(value) ? undefined : `${p.name}=${value}: not a boolean`;
    case 'integer': {
      if (!/^-?\d+$/.test(value)) return `${p.name}=${value}: not an integer`;
      const v = BigInt(value);
      return v < t.min || v > t.max ? `${p.name}=${value}: outside ${t.min}..${t.max}` : undefined;
    }
    case 'enum':
      return t.values.some((e) => String(e.value) === value || e.nick === value)
        ? undefined
        : `${p.name}=${value}: not one of ${t.values.map((e) => `${e.value} (${e.nick})`).join(', ')}`;
    case 'flags': {
      // gst-launch takes flags as nicks joined by "+".
      const bad = value.split('+').filter((f) => !t.values.some((e) => e.nick === f || String(e.value) === f));
      return bad.length ? `${p.name}=${value}: ${bad.join(', ')} not among ${t.values.map((e) => e.nick).join(', ')}` : undefined;
    }
    case 'string':
    case 'fraction':
      return undefined;
    default:
      return `${p.name}: type "${t.text}" is not settable from gst-launch here`;
  }
}

let local: Map<string, string | null> | undefined;
/** This machine's gst-inspect-1.0 output for `element`, or null when it is not installed. */
export function localInspect(element: string): string | null {
  local ??= new Map();
  if (!local.has(element)) {
    try {
      local.set(element, execFileSync('gst-inspect-1.0', [element], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }));
    } catch {
      local.set(element, null);
    }
  }
  return local.get(element)!;
}

export function recordedInspect(element: string): string | null {
  const file = join(RECORDED_DIR, `${element}.txt`);
  return existsSync(file) ? readFileSync(file, 'utf8') : null;
}

type Result = { code: number; stdout: string; stderr: string } | null;

/**
 * A gst-inspect-1.0 / gst-launch-1.0 runner that answers like a Jetson: NVIDIA's elements from the recordings,
 * GStreamer's own elements (which JetPack ships too) from this machine, nothing else. `missing` removes
 * elements (a board without them).
 */
export function jetsonStandIn(opts: { missing?: string[]; stock?: string[] } = {}): (file: string, args: string[]) => Promise<Result> {
  const stock = opts.stock ?? ['fdsrc', 'rawvideoparse', 'rtpsession', 'rtpstreampay', 'rtpstreamdepay', 'fdsink', 'fakesink', 'rtph264pay', 'rtpvp8pay', 'vp8enc'];
  return async (file, args) => {
    if (file === 'gst-launch-1.0' && args[0] === '--version') return { code: 0, stdout: 'gst-launch-1.0 version (stand-in)\n', stderr: '' };
    if (file !== 'gst-inspect-1.0' || args.length !== 1) return null;
    const el = args[0]!;
    const text = opts.missing?.includes(el) ? null : RECORDED_ELEMENTS.includes(el) ? recordedInspect(el) : stock.includes(el) ? localInspect(el) : null;
    return text ? { code: 0, stdout: text, stderr: '' } : { code: 1, stdout: '', stderr: `No such element or plugin '${el}'\n` };
  };
}

/** One stage of a gst-launch-1.0 pipeline: an element with its properties, a caps filter, or a named pad reference. */
export type Stage =
  | { kind: 'element'; factory: string; props: Map<string, string> }
  | { kind: 'caps'; caps: CapsStructure }
  | { kind: 'pad'; ref: string };

/** The chains of a gst-launch-1.0 argv (after the options), split at `!` and at new chains. */
export function parseLaunch(argv: readonly string[]): Stage[][] {
  const words = argv.slice(1).filter((w) => !w.startsWith('-'));
  const chains: Stage[][] = [[]];
  let linked = true;
  for (const w of words) {
    if (w === '!') {
      linked = true;
      continue;
    }
    const chain = chains[chains.length - 1]!;
    if (/^[a-z][\w-]*=/.test(w) && chain.length && chain[chain.length - 1]!.kind === 'element' && !linked) {
      const [k, ...v] = w.split('=');
      (chain[chain.length - 1] as { props: Map<string, string> }).props.set(k!, v.join('='));
      continue;
    }
    if (!linked && chain.length) chains.push([]);
    const target = chains[chains.length - 1]!;
    if (/^[a-z]+\/[a-z0-9.+-]+/i.test(w)) {
      const [head, ...fields] = w.split(',');
      const m = /^([^()]+)(\(([^)]*)\))?$/.exec(head!)!;
      target.push({ kind: 'caps', caps: { media: m[1]!, features: m[3] ?? '', fields: new Map(fields.map((f) => f.split('=') as [string, string])) } });
    } else if (/^\w+\.\w*$/.test(w)) target.push({ kind: 'pad', ref: w });
    else target.push({ kind: 'element', factory: w, props: new Map() });
    linked = false;
  }
  return chains.filter((c) => c.length);
}

/** Does a caps filter fit a pad template's caps (same media type and memory features, and each field's value allowed)? */
export function capsFit(filter: CapsStructure, template: CapsStructure[]): boolean {
  return template.some((t) => {
    if (t.media === 'ANY') return true;
    if (t.media !== filter.media || t.features !== filter.features) return false;
    for (const [k, v] of filter.fields) {
      const allowed = t.fields.get(k);
      if (allowed === undefined) continue; // unconstrained by the template
      if (allowed.startsWith('{')) {
        if (!allowed.includes(`(string)${v} `) && !allowed.includes(`(string)${v},`) && !allowed.includes(`(string)${v}}`)) return false;
      } else if (!allowed.startsWith('[') && allowed !== v) return false;
    }
    return true;
  });
}
