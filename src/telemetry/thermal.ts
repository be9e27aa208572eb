// Thermal zones from sysfs. Read directly (fs/promises) rather than through systeminformation, whose
// cpuTemperature() blocks on execSync and knows nothing of Jetson zone names. Zones are matched by
// their `type`, never by index: the order differs between boards, carriers and JetPack releases.

import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';

export interface ThermalZone {
  index: number;
  /** Contents of the zone's `type` file, e.g. "GPU-therm" (JP4/JP5) or "tj-thermal" (JP6). */
  type: string;
  /** Degrees Celsius; null when the sensor is offline or its read fails. */
  tempC: number | null;
}

const ZONE_DIR = 'sys/devices/virtual/thermal';

/**
 * Jetson reports a powered-off sensor as -256 °C (tegrastats shows `GPU@-256C` on AGX Orin JP5);
 * anything this cold is not a measurement.
 */
const OFFLINE_BELOW_C = -200;

async function readTrimmed(path: string): Promise<string | null> {
  try {
    return (await readFile(path, 'utf8')).trim();
  } catch {
    // JP6 cv*-thermal zones fail their read with EAGAIN while the DLA is off: treat as offline.
    return null;
  }
}

/** Parses a `temp` file (millidegrees Celsius in every recorded source) into °C, or null when offline. */
export function parseZoneTemp(text: string | null): number | null {
  if (text === null || text === '') return null;
  const milli = Number(text);
  if (!Number.isFinite(milli)) return null;
  const c = milli / 1000;
  return c <= OFFLINE_BELOW_C ? null : c;
}

/** Every thermal zone under `<root>/sys/devices/virtual/thermal`, by index; [] when there is none. */
export async function listThermalZones(root: string): Promise<ThermalZone[]> {
  const dir = join(root, ZONE_DIR);
  let names: string[];
  try {
    names = await readdir(dir);
  } catch {
    return [];
  }
  const zones = await Promise.all(
    names.map(async (name) => {
      const m = /^thermal_zone(\d+)$/.exec(name);
      if (!m) return null;
      const [type, temp] = await Promise.all([readTrimmed(join(dir, name, 'type')), readTrimmed(join(dir, name, 'temp'))]);
      return { index: Number(m[1]), type: type ?? '', tempC: parseZoneTemp(temp) };
    }),
  );
  return zones.filter((z): z is ThermalZone => z !== null).sort((a, b) => a.index - b.index);
}

/**
 * On-die sensors that say how hot the silicon doing our work is. Covers TX2/Xavier/Orin JP4-JP5
 * names (`BCPU-therm`, `GPU-therm`, `AUX-therm`, `Tj-therm`), Orin JP6 names (`cpu-thermal`,
 * `tj-thermal`, `soc0-thermal`, `cv1-thermal`) and mainline/x86 hosts (`cpu-thermal`, `x86_pkg_temp`).
 * Left out on purpose: `PMIC-Die` (reads a constant 50 or 100 °C), `thermal-fan-est` (a virtual
 * estimate), `Tboard_tegra`/`Tdiode_tegra`/`tboard-thermal` (board diodes), Wi-Fi and battery zones.
 */
const ON_DIE_TYPE = /^(?:[bm]?cpu\d*|gpu\d*|soc\d*|tj|cv\d*|aux|pll|ao)(?:[-_]?therm(?:al)?)?$|^x86_pkg_temp$/i;

/** Whether a zone type is an on-die sensor worth throttling on. */
export function isRelevantZoneType(type: string): boolean {
  return ON_DIE_TYPE.test(type);
}

/**
 * The hottest zone that is online and relevant: either one whose type is listed in `types`
 * (case-insensitive; from config) or, when `types` is empty, any on-die zone. Ties go to the lower index.
 */
export function hottestRelevantZone(zones: readonly ThermalZone[], types: readonly string[] = []): ThermalZone | null {
  const wanted = new Set(types.map((t) => t.toLowerCase()));
  let best: ThermalZone | null = null;
  for (const z of zones) {
    if (z.tempC === null) continue;
    const relevant = wanted.size ? wanted.has(z.type.toLowerCase()) : isRelevantZoneType(z.type);
    if (relevant && (best === null || z.tempC > best.tempC!)) best = z;
  }
  return best;
}
