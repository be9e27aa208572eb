import { mkdtemp, mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { hottestRelevantZone, isRelevantZoneType, listThermalZones, parseZoneTemp } from '../../src/telemetry/thermal.js';
import { boardRoot, jetsonDir } from './paths.js';
import { readFileSync } from 'node:fs';

/** Zone types as the recorded TSVs list them (index → type). */
function recordedTypes(file: string): Map<number, string> {
  const rows = readFileSync(join(jetsonDir, 'thermal', file), 'utf8').trim().split('\n').slice(1);
  return new Map(rows.map((r) => r.split('\t')).map(([i, t]) => [Number(i), t]));
}

describe('listThermalZones on recorded board trees', () => {
  it('TX2: the eight zones in boot-log order, temperatures in °C', async () => {
    const zones = await listThermalZones(boardRoot('tx2-jp46'));
    const recorded = recordedTypes('tx2-jp4.tsv');
    expect(zones.map((z) => z.index)).toEqual([...recorded.keys()]);
    expect(zones.map((z) => z.type)).toEqual([...recorded.values()]);
    expect(zones.find((z) => z.type === 'Tdiode_tegra')!.tempC).toBeCloseTo(34.25, 6);
    expect(zones.find((z) => z.type === 'PMIC-Die')!.tempC).toBe(100);
  });

  it('AGX Orin JP6: matches the recorded 11-zone list; cv zones (EAGAIN on the board, empty here) are offline', async () => {
    const zones = await listThermalZones(boardRoot('agx-orin-jp6'));
    const recorded = readFileSync(join(jetsonDir, 'thermal/agx-orin-jp6.fastnvmetrics-doc.tsv'), 'utf8').trim().split('\n').slice(1).map((r) => r.split('\t'));
    expect(zones).toHaveLength(recorded.length);
    for (const [i, type, milli] of recorded) {
      const z = zones.find((x) => x.index === Number(i))!;
      expect(z.type).toBe(type);
      expect(z.tempC).toBe(milli === 'EAGAIN' ? null : Number(milli) / 1000);
    }
  });

  it('AGX Orin JP5: -256 °C sensors read as null; indices sort numerically (zone10 after zone9)', async () => {
    const zones = await listThermalZones(boardRoot('agx-orin-jp5'));
    expect(zones.map((z) => z.index)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(zones.filter((z) => z.tempC === null).map((z) => z.type)).toEqual(['GPU-therm', 'CV0-therm', 'CV1-therm', 'CV2-therm']);
  });

  it('returns [] when the root has no thermal class', async () => {
    expect(await listThermalZones(join(tmpdir(), 'pafcast-no-such-root'))).toEqual([]);
  });

  it('ignores entries that are not thermal_zoneN and survives a missing type file', async () => {
    const root = await mkdtemp(join(tmpdir(), 'pafcast-thermal-'));
    const dir = join(root, 'sys/devices/virtual/thermal');
    await mkdir(join(dir, 'cooling_device0'), { recursive: true });
    await mkdir(join(dir, 'thermal_zone3'), { recursive: true });
    await writeFile(join(dir, 'thermal_zone3/temp'), '51312\n');
    expect(await listThermalZones(root)).toEqual([{ index: 3, type: '', tempC: 51.312 }]);
  });
});

describe('hottestRelevantZone', () => {
  const cases: Array<[string, string, number]> = [
    // PMIC-Die reads 100 °C on this TX2 and must never win.
    ['tx2-jp46', 'BCPU-therm', 37.5],
    // PMIC at 50, thermal-fan-est at 42.2 are skipped.
    ['xavier-jp51', 'CPU-therm', 43.5],
    ['orin-nano-jp6', 'cpu-thermal', 53.968],
    // GPU and CV offline; CPU 44.562 beats Tj 44.343.
    ['agx-orin-jp5', 'CPU-therm', 44.562],
    // cpu and tj tie at 47.5: the lower index wins; tboard/tdiode are not on the die.
    ['agx-orin-jp6', 'cpu-thermal', 47.5],
  ];
  it.each(cases)('%s → %s at %f °C', async (board, type, tempC) => {
    const hottest = hottestRelevantZone(await listThermalZones(boardRoot(board)));
    expect(hottest).toMatchObject({ type, tempC });
  });

  it('a configured zone list overrides the automatic choice (case-insensitive)', async () => {
    const zones = await listThermalZones(boardRoot('orin-nano-jp6'));
    expect(hottestRelevantZone(zones, ['GPU-THERMAL'])).toMatchObject({ type: 'gpu-thermal', tempC: 53.343 });
    expect(hottestRelevantZone(zones, ['cv0-thermal'])).toBeNull();
  });

  it('classifies zone types across generations', () => {
    for (const t of ['BCPU-therm', 'MCPU-therm', 'GPU-therm', 'AUX-therm', 'AO-therm', 'Tj-therm', 'tj-thermal', 'soc2-thermal', 'cv1-thermal', 'CV0-therm', 'cpu-thermal', 'gpu', 'x86_pkg_temp'])
      expect(isRelevantZoneType(t), t).toBe(true);
    for (const t of ['PMIC-Die', 'thermal-fan-est', 'Tboard_tegra', 'Tdiode_tegra', 'tboard-thermal', 'tdiode-thermal', 'iwlwifi_1', 'acpitz', 'mem'])
      expect(isRelevantZoneType(t), t).toBe(false);
  });
});

describe('parseZoneTemp', () => {
  it('millidegrees to °C; offline, empty and junk to null', () => {
    expect(parseZoneTemp('53968')).toBe(53.968);
    expect(parseZoneTemp('-5000')).toBe(-5);
    expect(parseZoneTemp('-256000')).toBeNull();
    expect(parseZoneTemp('')).toBeNull();
    expect(parseZoneTemp(null)).toBeNull();
    expect(parseZoneTemp('n/a')).toBeNull();
  });
});
