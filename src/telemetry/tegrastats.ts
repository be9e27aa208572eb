// Parser for one line of `tegrastats` output, TX2 (R28) to AGX Orin (JetPack 7). Field order and the
// set of fields differ by board, release and privileges (see shared/jetson/README.md), so the line
// is read as a sequence of whitespace-separated tokens, each field recognised by its own shape.
// Pure: no I/O. The child process that produces the lines lives in tegrastats-process.ts.

/** A load percentage and the clock(s) it ran at. */
export interface LoadAtFreq {
  /** null for forms without a percentage (`GR3D_FREQ @0`, Thor's `@[1000,1000]`). */
  loadPct: number | null;
  /** MHz; several for per-GPC arrays (`39%@[305,0]`), none when tegrastats runs without root. */
  freqMHz: number[];
}

/** An accelerator field such as `NVENC off`, `APE 174`, `VIC_FREQ 0%@115`. */
export interface EngineState {
  off: boolean;
  loadPct: number | null;
  freqMHz: number | null;
}

export interface PowerRail {
  /** Instantaneous power, mW (R28/R32 print no unit but the values are mW). */
  currentMw: number;
  /** Running average, mW. */
  averageMw: number;
  /** Every value printed (JP7 prints three). */
  valuesMw: number[];
}

export interface TegrastatsSample {
  /** `MM-DD-YYYY HH:MM:SS` as printed (JP5+), or null. */
  timestamp: string | null;
  ram: { usedMB: number; totalMB: number; lfb: { blocks: number; blockKB: number } | null } | null;
  swap: { usedMB: number; totalMB: number; cachedMB: number | null } | null;
  iram: { usedKB: number; totalKB: number; lfbKB: number | null } | null;
  /** One entry per core; null = core offline (`off`). Empty when the line has no CPU field. */
  cpus: Array<LoadAtFreq | null>;
  emc: LoadAtFreq | null;
  /** `GR3D_FREQ`, the iGPU. */
  gpu: LoadAtFreq | null;
  /** `MTS fg N% bg N%` (TX2/Xavier as root). */
  mts: { fgPct: number; bgPct: number } | null;
  engines: Record<string, EngineState>;
  /** °C per sensor name as printed (`GPU`, `tj`, `cpu`); null = offline (`-256C`). */
  temps: Record<string, number | null>;
  rails: Record<string, PowerRail>;
  /** Tokens no rule recognised; empty for every recorded format. */
  unparsed: string[];
}

const OFFLINE_C = -256;

const DATE = /^\d{2}-\d{2}-\d{4}$/;
const TIME = /^\d{2}:\d{2}:\d{2}$/;
const USED_TOTAL_MB = /^(\d+)\/(\d+)MB$/;
const LFB = /^(\d+)x(\d+)(MB|kB)\)$/;
const CACHED = /^(\d+)MB\)$/;
const IRAM = /^(\d+)\/(\d+)kB(?:\(lfb)?$/;
const KB_CLOSE = /^(\d+)kB\)$/;
const LOAD_AT_FREQ = /^(?:(\d+)%)?(?:@(?:(\d+)|\[([\d,]*)\]))?$/;
const TEMP = /^([A-Za-z][\w]*)@(-?\d+(?:\.\d+)?)C(?:\/(-?\d+(?:\.\d+)?)C)?$/;
const RAIL_VALUES = /^\d+(?:mW)?(?:\/\d+(?:mW)?){1,2}$/;
const ENGINE_VALUE = /^(?:off|(\d+)|(\d+)%(?:@(\d+))?)$/;
const FIELD_NAME = /^[A-Z][A-Z0-9_]*$/;
const PERCENT = /^(\d+)%$/;
const GR3D = /^GR3D\d*_FREQ$/;

/** Parses `N%`, `N%@MHz`, `@MHz`, `N%@[f1,f2]`; null when the token is none of these or empty. */
export function parseLoadAtFreq(token: string): LoadAtFreq | null {
  const m = LOAD_AT_FREQ.exec(token);
  if (!m || token === '' || token === '@') return null;
  const freqMHz = m[2] !== undefined ? [Number(m[2])] : m[3] ? m[3].split(',').filter(Boolean).map(Number) : [];
  return { loadPct: m[1] === undefined ? null : Number(m[1]), freqMHz };
}

function parseCpuList(token: string): Array<LoadAtFreq | null> | null {
  if (!token.startsWith('[') || !token.endsWith(']')) return null;
  const cores: Array<LoadAtFreq | null> = [];
  for (const core of token.slice(1, -1).split(',')) {
    if (core === 'off') cores.push(null);
    else {
      const c = parseLoadAtFreq(core);
      if (!c || c.loadPct === null) return null;
      cores.push(c);
    }
  }
  return cores;
}

function emptySample(): TegrastatsSample {
  return { timestamp: null, ram: null, swap: null, iram: null, cpus: [], emc: null, gpu: null, mts: null, engines: {}, temps: {}, rails: {}, unparsed: [] };
}

/** Parses one tegrastats line; fields it does not know end up in `unparsed`, never throw. */
export function parseTegrastatsLine(line: string): TegrastatsSample {
  const s = emptySample();
  // Runs of spaces occur in captured lines (terminal copies); split on any whitespace run.
  const t = line.trim().split(/\s+/).filter(Boolean);
  let i = 0;
  const next = (k = 1): string => t[i + k] ?? '';
  while (i < t.length) {
    const tok = t[i];
    let m: RegExpExecArray | null;
    if (DATE.test(tok) && TIME.test(next())) {
      s.timestamp = `${tok} ${next()}`;
      i += 2;
    } else if (tok === 'RAM' && (m = USED_TOTAL_MB.exec(next()))) {
      s.ram = { usedMB: Number(m[1]), totalMB: Number(m[2]), lfb: null };
      i += 2;
      const lfb = next(0) === '(lfb' ? LFB.exec(next()) : null;
      if (lfb) {
        s.ram.lfb = { blocks: Number(lfb[1]), blockKB: Number(lfb[2]) * (lfb[3] === 'MB' ? 1024 : 1) };
        i += 2;
      }
    } else if (tok === 'SWAP' && (m = USED_TOTAL_MB.exec(next()))) {
      s.swap = { usedMB: Number(m[1]), totalMB: Number(m[2]), cachedMB: null };
      i += 2;
      const cached = next(0) === '(cached' ? CACHED.exec(next()) : null;
      if (cached) {
        s.swap.cachedMB = Number(cached[1]);
        i += 2;
      }
    } else if (tok === 'IRAM' && (m = IRAM.exec(next()))) {
      // Nano/TX1 as root print `IRAM 0/252kB(lfb 252kB)` with no space before the parenthesis.
      s.iram = { usedKB: Number(m[1]), totalKB: Number(m[2]), lfbKB: null };
      i += 2;
      const lfb = KB_CLOSE.exec(next(0));
      if (lfb) {
        s.iram.lfbKB = Number(lfb[1]);
        i += 1;
      }
    } else if (tok === 'CPU' && next().startsWith('[')) {
      const cores = parseCpuList(next());
      if (cores) s.cpus = cores;
      else s.unparsed.push(tok, next());
      i += 2;
    } else if (tok === 'MTS' && next() === 'fg' && PERCENT.test(next(2)) && next(3) === 'bg' && PERCENT.test(next(4))) {
      s.mts = { fgPct: Number(PERCENT.exec(next(2))![1]), bgPct: Number(PERCENT.exec(next(4))![1]) };
      i += 5;
    } else if ((tok === 'EMC_FREQ' || GR3D.test(tok)) && parseLoadAtFreq(next())) {
      const v = parseLoadAtFreq(next())!;
      if (tok === 'EMC_FREQ') s.emc = v;
      else if (tok === 'GR3D_FREQ') s.gpu = v;
      // Early JP5 Orin prints its second GPC as `GR3D2_FREQ 0%@114`: kept as an engine.
      else s.engines[tok] = { off: false, loadPct: v.loadPct, freqMHz: v.freqMHz[0] ?? null };
      i += 2;
    } else if ((m = TEMP.exec(tok))) {
      const c = Number(m[2]);
      s.temps[m[1]] = c <= OFFLINE_C ? null : c;
      i += 1;
    } else if (FIELD_NAME.test(tok) && RAIL_VALUES.test(next())) {
      const valuesMw = next().split('/').map((v) => parseInt(v, 10));
      s.rails[tok] = { currentMw: valuesMw[0], averageMw: valuesMw[1], valuesMw };
      i += 2;
    } else if (FIELD_NAME.test(tok) && (m = ENGINE_VALUE.exec(next()))) {
      // `APE 174`, `VIC_FREQ 115`: a bare number is a clock; `NVENC off`; `VIC_FREQ 0%@115`.
      s.engines[tok] = {
        off: next() === 'off',
        loadPct: m[2] === undefined ? null : Number(m[2]),
        freqMHz: m[1] !== undefined ? Number(m[1]) : m[3] !== undefined ? Number(m[3]) : null,
      };
      i += 2;
    } else {
      s.unparsed.push(tok);
      i += 1;
    }
  }
  return s;
}
