// Reads every sensor on a timer without blocking the event loop: only fs/promises and asynchronous
// children. Where each reading comes from, and why, is said in its module:
//   thermal.ts    sysfs thermal zones (systeminformation.cpuTemperature uses execSync, no Jetson names)
//   gpu-load.ts   the iGPU devfreq `load` file; tegrastats only when the board has none
//   cpu-load.ts   /proc/stat deltas;   memory.ts  /proc/meminfo;   power-mode.ts  `nvpmodel -q`, cached
//   network.ts    systeminformation.networkStats (async, nothing Jetson-specific)
// A failing sensor yields null for its field and never stops the others.

import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { TelemetryConfig } from './config-schema.js';
import { CpuLoadMeter, type CpuLoad } from './cpu-load.js';
import { findGpuLoadPath, readGpuLoad } from './gpu-load.js';
import { parseMeminfo, type MemoryInfo } from './memory.js';
import { readNetworkRates, type NetworkRate } from './network.js';
import { PowerModeReader, type PowerMode } from './power-mode.js';
import type { PowerRail, TegrastatsSample } from './tegrastats.js';
import { TegrastatsProcess, type SpawnTegrastats } from './tegrastats-process.js';
import { hottestRelevantZone, listThermalZones, type ThermalZone } from './thermal.js';

export interface SensorSample {
  /** Wall-clock time of the reading, ms since the epoch. */
  atMs: number;
  thermal: ThermalZone[];
  /** Hottest relevant zone (config `thermal.zones`, else every on-die zone); what the scale controller watches. */
  hottest: ThermalZone | null;
  gpu: { loadPct: number; source: 'sysfs' | 'tegrastats' } | null;
  cpu: CpuLoad | null;
  memory: MemoryInfo | null;
  powerMode: PowerMode | null;
  /** Power rails, only while tegrastats runs. */
  rails: Record<string, PowerRail> | null;
  network: NetworkRate[];
}

export interface TelemetrySamplerOptions {
  config: TelemetryConfig;
  onSample?: (sample: SensorSample) => void;
  /** Said once per problem (e.g. no GPU load anywhere). */
  onWarning?: (message: string) => void;
  /** Wall clock for `atMs`; injectable for tests. */
  now?: () => number;
  powerMode?: { read(): Promise<PowerMode | null> };
  spawnTegrastats?: SpawnTegrastats;
  readNetwork?: (interfaces: readonly string[]) => Promise<NetworkRate[]>;
}

async function readText(path: string): Promise<string | null> {
  try {
    return await readFile(path, 'utf8');
  } catch {
    return null;
  }
}

export class TelemetrySampler {
  private readonly root: string;
  private readonly cpuMeter = new CpuLoadMeter();
  private readonly powerMode: { read(): Promise<PowerMode | null> };
  private readonly now: () => number;
  private gpuLoadPath: string | null | undefined;
  private tegrastats: TegrastatsProcess | null = null;
  private lastTegrastats: TegrastatsSample | null = null;
  private timer: NodeJS.Timeout | null = null;
  private inFlight: Promise<SensorSample> | null = null;
  private last: SensorSample | null = null;
  private readonly warned = new Set<string>();

  constructor(private readonly opts: TelemetrySamplerOptions) {
    this.root = opts.config.root;
    this.now = opts.now ?? Date.now;
    this.powerMode = opts.powerMode ?? new PowerModeReader(opts.config.nvpmodel_refresh_ms);
  }

  /** Finds the sensors, starts tegrastats when needed, takes a first sample and starts the timer. */
  async start(): Promise<void> {
    await this.probe();
    await this.tick();
    this.timer = setInterval(() => void this.tick(), this.opts.config.interval_ms);
    // Telemetry alone must not keep the daemon alive.
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
    this.tegrastats?.stop();
    this.tegrastats = null;
  }

  latest(): SensorSample | null {
    return this.last;
  }

  /** Whether tegrastats is being used as the GPU load source. */
  get usingTegrastats(): boolean {
    return this.tegrastats?.running ?? false;
  }

  /** Reads every sensor once; overlapping calls share one reading. */
  sampleOnce(): Promise<SensorSample> {
    this.inFlight ??= this.read().finally(() => {
      this.inFlight = null;
    });
    return this.inFlight;
  }

  private async tick(): Promise<void> {
    // A slow read (e.g. a stuck nvpmodel) must not pile up more reads behind it.
    if (this.inFlight) return;
    const sample = await this.sampleOnce();
    this.opts.onSample?.(sample);
  }

  private async probe(): Promise<void> {
    this.gpuLoadPath = await findGpuLoadPath(this.root);
    if (this.gpuLoadPath !== null || this.opts.config.tegrastats === 'off') return;
    this.tegrastats = new TegrastatsProcess({
      intervalMs: this.opts.config.interval_ms,
      spawnFn: this.opts.spawnTegrastats,
      onSample: (s) => (this.lastTegrastats = s),
      onExit: (reason) => this.warnOnce('tegrastats', `no GPU load: sysfs has no load file and ${reason}`),
    });
    this.tegrastats.start();
  }

  private async read(): Promise<SensorSample> {
    if (this.gpuLoadPath === undefined) this.gpuLoadPath = await findGpuLoadPath(this.root);
    const [thermal, gpuSysfs, procStat, meminfo, powerMode, network] = await Promise.all([
      listThermalZones(this.root),
      this.gpuLoadPath ? readGpuLoad(this.gpuLoadPath) : Promise.resolve(null),
      readText(join(this.root, 'proc/stat')),
      readText(join(this.root, 'proc/meminfo')),
      this.powerMode.read().catch(() => null),
      (this.opts.readNetwork ?? readNetworkRates)(this.opts.config.network_interfaces).catch(() => []),
    ]);
    const ts = this.lastTegrastats;
    let gpu: SensorSample['gpu'] = null;
    if (gpuSysfs !== null) gpu = { loadPct: gpuSysfs, source: 'sysfs' };
    else if (ts?.gpu?.loadPct != null) gpu = { loadPct: ts.gpu.loadPct, source: 'tegrastats' };
    const sample: SensorSample = {
      atMs: this.now(),
      thermal,
      hottest: hottestRelevantZone(thermal, this.opts.config.thermal.zones),
      gpu,
      cpu: procStat === null ? null : this.cpuMeter.update(procStat),
      memory: meminfo === null ? null : parseMeminfo(meminfo),
      powerMode,
      rails: ts && Object.keys(ts.rails).length ? ts.rails : null,
      network,
    };
    this.last = sample;
    return sample;
  }

  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.opts.onWarning?.(message);
  }
}
