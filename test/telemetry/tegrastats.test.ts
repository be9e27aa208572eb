import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseLoadAtFreq, parseTegrastatsLine, type TegrastatsSample } from '../../src/telemetry/tegrastats.js';
import { jetsonDir } from './paths.js';

const dir = join(jetsonDir, 'tegrastats');
const files = readdirSync(dir).filter((f) => f.endsWith('.txt')).sort();
const linesOf = (f: string): string[] => readFileSync(join(dir, f), 'utf8').split('\n').filter((l) => l.trim());
const online = (s: TegrastatsSample): boolean[] => s.cpus.map((c) => c !== null);

/** Per file: facts read off the recorded line(s) by eye, checked against the parse of line `line` (default 0). */
const expectations: Record<string, (s: TegrastatsSample[]) => void> = {
  'tx2-r28-style-nonroot.guesswho798.txt': (s) => {
    // INDEX.tsv: the first 12 lines of a 2660-line log.
    expect(s).toHaveLength(12);
    expect(s[0].swap).toBeNull();
    expect(s[0].gpu).toBeNull();
    expect(s[0].temps).toMatchObject({ BCPU: 35, GPU: 41, Tdiode: 31.25, PMIC: 100, thermal: 33.8 });
    expect(s[1].rails.VDD_IN).toEqual({ currentMw: 3642, averageMw: 3633, valuesMw: [3642, 3633] });
    expect(Object.keys(s[0].rails)).toEqual(['VDD_IN', 'VDD_CPU', 'VDD_GPU', 'VDD_SOC', 'VDD_WIFI', 'VDD_DDR']);
  },
  'tx2-jp4.3-r32.3.1-sudo.putmotorsport.txt': (s) => {
    expect(s[0].gpu).toEqual({ loadPct: null, freqMHz: [0] });
    expect(online(s[0])).toEqual([true, false, false, true, true, true]);
    expect(s[0].cpus[0]).toEqual({ loadPct: 48, freqMHz: [2034] });
    expect(s[0].ram).toEqual({ usedMB: 284, totalMB: 7860, lfb: { blocks: 1808, blockKB: 4096 } });
    expect(s[1].rails.VDD_SYS_CPU).toMatchObject({ currentMw: 1060, averageMw: 1108 });
  },
  'tx2-jp4-sudo.datadog.txt': (s) => {
    expect(online(s[0])).toEqual([true, false, false, true, true, true]);
    expect(s[0].emc).toEqual({ loadPct: 4, freqMHz: [1600] });
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [624] });
    expect(s[0].engines.APE).toEqual({ off: false, loadPct: null, freqMHz: 150 });
  },
  'tx2-jp4-sudo.beszel.txt': (s) => {
    expect(s[0].mts).toEqual({ fgPct: 1, bgPct: 1 });
    expect(s[0].swap).toEqual({ usedMB: 1626, totalMB: 12122, cachedMB: 181 });
    expect(s[0].rails.VDD_4V0_WIFI.currentMw).toBe(0);
  },
  'nano-jp4.6-sudo.sumantbagri.txt': (s) => {
    expect(s[0].iram).toEqual({ usedKB: 0, totalKB: 252, lfbKB: 252 });
    expect(s[2].gpu).toEqual({ loadPct: 42, freqMHz: [76] });
    expect(s[2].rails.POM_5V_IN).toMatchObject({ currentMw: 2793, averageMw: 1750 });
    expect(s[0].temps.PMIC).toBe(50);
  },
  'nano-jp4-sudo.datadog.txt': (s) => {
    expect(s[0].iram?.totalKB).toBe(252);
    expect(s[0].cpus).toHaveLength(4);
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [76] });
  },
  'nano-jp4-nonroot-norails.hexapod.txt': (s) => {
    expect(s[0].rails).toEqual({});
    expect(online(s[0])).toEqual([true, true, false, false]);
    expect(s[0].emc).toEqual({ loadPct: 0, freqMHz: [] });
  },
  'xavier-nx-jp4-sudo.datadog.txt': (s) => {
    expect(s[0].gpu).toEqual({ loadPct: 62, freqMHz: [306] });
    expect(s[0].cpus[5]).toEqual({ loadPct: 8, freqMHz: [1267] });
    expect(s[0].rails.VDD_CPU_GPU_CV.currentMw).toBe(738);
  },
  'xavier-nx-jp5.1-sudo.tegra_burn.txt': (s) => {
    expect(s[0].timestamp).toBe('10-01-2025 19:41:42');
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [114] });
    expect(s[0].engines.VIC_FREQ).toEqual({ off: false, loadPct: null, freqMHz: 115 });
    expect(s[0].ram?.lfb).toEqual({ blocks: 20, blockKB: 2048 });
    expect(s[1].rails.VDD_IN).toMatchObject({ currentMw: 4512, averageMw: 4532 });
  },
  'xavier-nx-jp5.1-in-container.tegra_burn.txt': (s) => {
    expect(s.map((x) => x.gpu?.loadPct).slice(0, 3)).toEqual([22, 32, 0]);
    expect(s[0].gpu?.freqMHz).toEqual([]);
    expect(s.some((x) => x.gpu?.loadPct === 99)).toBe(true);
  },
  'agx-xavier-16gb-jp4.2-nonroot.gtop-pr7.txt': (s) => {
    // `CPU [...]` is the core list, `CPU 618/618` a rail of the same name.
    expect(s[0].cpus).toHaveLength(8);
    expect(s[0].rails.CPU).toMatchObject({ currentMw: 618 });
    expect(s[0].rails.GPU).toMatchObject({ currentMw: 463 });
    expect(s[0].temps.GPU).toBe(30.5);
  },
  'agx-xavier-32gb-jp4-sudo.datadog.txt': (s) => {
    expect(online(s[0])).toEqual([true, true, true, true, false, false, false, false]);
    expect(s[0].mts).toEqual({ fgPct: 0, bgPct: 0 });
    expect(s[0].rails.SYS5V.currentMw).toBe(1482);
  },
  'agx-xavier-32gb-jp4-sudo.power_tegra.txt': (s) => {
    expect(s[0].engines.VIC_FREQ).toEqual({ off: false, loadPct: 0, freqMHz: 115 });
    expect(s[0].mts).toEqual({ fgPct: 0, bgPct: 1 });
  },
  'orin-nx-16gb-jp5-sudo.datadog.txt': (s) => {
    expect(s[0].temps).toMatchObject({ CV0: 45.812, tj: 48.875, SOC1: 48.875 });
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [611] });
    expect(s[0].rails.VDD_IN).toMatchObject({ currentMw: 5299, averageMw: 5299 });
  },
  'agx-orin-64gb-jp5-sudo.jetson_exporter.txt': (s) => {
    expect(s[0].temps).toMatchObject({ CV0: null, CV1: null, CV2: null, GPU: null, CPU: 44.562, tj: 44.343 });
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [0, 0] });
    expect(s[0].rails.VDDQ_VDD2_1V8AO.currentMw).toBe(301);
    expect(s[0].cpus).toHaveLength(12);
  },
  'agx-orin-64gb-jp6-sudo.llm_pipeline.txt': (s) => {
    expect(s).toHaveLength(15);
    expect(s[0].gpu).toEqual({ loadPct: 39, freqMHz: [305, 0] });
    expect(online(s[0])).toEqual([...Array(8).fill(true), ...Array(4).fill(false)]);
    expect(s[0].engines.NVENC).toEqual({ off: true, loadPct: null, freqMHz: null });
    expect(s[0].temps).toMatchObject({ cpu: 43.906, gpu: 40.093, tj: 43.906 });
  },
  'agx-orin-32gb-jp6-sudo.datadog.txt': (s) => {
    // Runs of up to 11 spaces between fields in this capture.
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [305, 305] });
    expect(s[0].engines.APE.freqMHz).toBe(174);
    expect(s[0].cpus[5]).toEqual({ loadPct: 100, freqMHz: [2201] });
    expect(s[0].rails.VIN_SYS_5V0.currentMw).toBe(4767);
  },
  'agx-orin-64gb-jp6-nonroot.datadog.txt': (s) => {
    expect(s[0].emc).toBeNull();
    expect(s[0].gpu).toEqual({ loadPct: 0, freqMHz: [] });
    expect(s[0].temps.soc2).toBe(37.843);
  },
  'orin-nano-8gb-jp6.beszel.txt': (s) => {
    expect(s[0].gpu).toEqual({ loadPct: 63, freqMHz: [621] });
    expect(s[1].emc).toBeNull();
    expect(s[1].swap).toEqual({ usedMB: 1518, totalMB: 16384, cachedMB: 174 });
  },
  'orin-nano-super-jp6.2-nonroot.edgeAI.txt': (s) => {
    expect(s[0].timestamp).toBe('07-14-2025 10:29:36');
    expect(s[0].ram).toEqual({ usedMB: 2147, totalMB: 7620, lfb: { blocks: 2, blockKB: 4096 } });
    expect(s[0].temps.gpu).toBe(48.625);
  },
  'agx-orin-jp7.2-sudo.jetson_stats.txt': (s) => {
    expect(s[0].swap).toBeNull();
    expect(s[0].temps).toMatchObject({ cpu: 52.968, gpu: 47.625 });
    expect(s[0].rails.VDD_GPU_SOC).toEqual({ currentMw: 5139, averageMw: 5139, valuesMw: [5139, 5139, 5139] });
    expect(s[0].gpu).toEqual({ loadPct: 12, freqMHz: [1300, 1300] });
    expect(s[0].engines.NVENC0?.off).toBe(true);
  },
};

describe('tegrastats parser on every recorded file', () => {
  it('covers all 21 recorded files', () => {
    expect(files).toHaveLength(21);
    expect(Object.keys(expectations).sort()).toEqual(files);
  });

  it.each(files)('%s: every line parses completely', (file) => {
    const samples = linesOf(file).map(parseTegrastatsLine);
    for (const s of samples) {
      expect(s.unparsed).toEqual([]);
      expect(s.ram!.totalMB).toBeGreaterThan(3000);
      expect(s.ram!.usedMB).toBeLessThanOrEqual(s.ram!.totalMB);
      expect([4, 6, 8, 12]).toContain(s.cpus.length);
      for (const c of s.cpus) if (c) expect(c.loadPct).toBeLessThanOrEqual(100);
      expect(Object.keys(s.temps).length).toBeGreaterThan(0);
      if (s.gpu?.loadPct != null) expect(s.gpu.loadPct).toBeLessThanOrEqual(100);
    }
    expectations[file](samples);
  });
});

describe('tegrastats field shapes', () => {
  it('load@freq forms', () => {
    expect(parseLoadAtFreq('12%')).toEqual({ loadPct: 12, freqMHz: [] });
    expect(parseLoadAtFreq('1%@2133')).toEqual({ loadPct: 1, freqMHz: [2133] });
    expect(parseLoadAtFreq('@0')).toEqual({ loadPct: null, freqMHz: [0] });
    expect(parseLoadAtFreq('@[1000,1000,1000]')).toEqual({ loadPct: null, freqMHz: [1000, 1000, 1000] });
    expect(parseLoadAtFreq('off')).toBeNull();
    expect(parseLoadAtFreq('')).toBeNull();
  });

  it('early JP5 Orin second GPC and unknown fields', () => {
    const s = parseTegrastatsLine('RAM 1/2MB (lfb 1x4MB) GR3D_FREQ 0%@114 GR3D2_FREQ 5%@114 WEIRD');
    expect(s.gpu).toEqual({ loadPct: 0, freqMHz: [114] });
    expect(s.engines.GR3D2_FREQ).toEqual({ off: false, loadPct: 5, freqMHz: 114 });
    expect(s.unparsed).toEqual(['WEIRD']);
  });
});
