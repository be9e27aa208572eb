import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createNotifier, watchdogIntervalFromEnv } from '../../../src/agent/notify/sd-notify.js';
import { WatchdogDriver, type WatchdogTimers } from '../../../src/agent/notify/watchdog.js';
import { buildAddon, FakeSystemd } from './notify-socket.js';

/** Timers the test fires by hand, so "an interval passed" needs no sleeping. */
class ManualTimers implements WatchdogTimers {
  fn: (() => void) | null = null;
  ms = 0;
  setInterval(fn: () => void, ms: number) {
    this.fn = fn;
    this.ms = ms;
    return 1;
  }
  clearInterval() {
    this.fn = null;
  }
  fire() {
    this.fn?.();
  }
}

let addonDir: string;
let addon: string;
let dir: string;
let systemd: FakeSystemd;
beforeAll(() => {
  addonDir = mkdtempSync(join(tmpdir(), 'pafcast-addon-'));
  addon = buildAddon(addonDir);
});
afterAll(() => rmSync(addonDir, { recursive: true, force: true }));
beforeEach(async () => {
  dir = mkdtempSync(join(tmpdir(), 'pafcast-notify-'));
  systemd = new FakeSystemd(join(dir, 'notify.sock'));
  await systemd.bound;
});
/** The environment systemd would give the service, plus where the test built the addon. */
const envFor = (vars: Record<string, string>) => ({ PAFCAST_SD_NOTIFY_ADDON: addon, ...vars });
afterEach(() => {
  systemd.close();
  rmSync(dir, { recursive: true, force: true });
});

describe('createNotifier', () => {
  it('sends READY, STATUS, WATCHDOG and STOPPING datagrams to NOTIFY_SOCKET', async () => {
    const errors: Error[] = [];
    const n = createNotifier(envFor({ NOTIFY_SOCKET: systemd.path, WATCHDOG_USEC: '30000000' }), { onError: (e) => errors.push(e) });
    expect(n.enabled).toBe(true);
    expect(n.watchdogIntervalMs).toBe(15000);
    await n.ready('fps 12.0, net 456x256');
    await systemd.waitFor(1);
    await n.status('fps 9.5\nnet 400x224');
    await systemd.waitFor(2);
    await n.watchdog();
    await systemd.waitFor(3);
    await n.stopping();
    const got = await systemd.waitFor(4);
    expect(got).toEqual([
      'READY=1\nSTATUS=fps 12.0, net 456x256',
      'STATUS=fps 9.5 net 400x224',
      'WATCHDOG=1',
      'STOPPING=1',
    ]);
    expect(errors).toEqual([]);
  });

  it('is a no-op without NOTIFY_SOCKET', async () => {
    const n = createNotifier({});
    expect(n.enabled).toBe(false);
    expect(n.watchdogIntervalMs).toBeNull();
    await n.ready();
    await n.watchdog();
    expect(systemd.messages).toEqual([]);
  });

  it('reports a vanished socket through onError instead of throwing', async () => {
    const errors: Error[] = [];
    const n = createNotifier(envFor({ NOTIFY_SOCKET: join(dir, 'missing.sock') }), { onError: (e) => errors.push(e) });
    await n.ready();
    expect(errors).toHaveLength(1);
    expect(errors[0].message).toMatch(/sd_notify to .*missing\.sock failed/);
  });

  it('reaches an abstract-namespace socket (NOTIFY_SOCKET=@name)', async () => {
    const abstract = new FakeSystemd(`@pafcast-test-${process.pid}`);
    try {
      await abstract.bound;
      const n = createNotifier(envFor({ NOTIFY_SOCKET: abstract.path }));
      expect(n.enabled).toBe(true);
      await n.ready();
      expect(await abstract.waitFor(1)).toEqual(['READY=1']);
    } finally {
      abstract.close();
    }
  });

  it('says how to build the addon when it is missing, and ignores a garbage NOTIFY_SOCKET', () => {
    expect(() => createNotifier({ NOTIFY_SOCKET: systemd.path, PAFCAST_SD_NOTIFY_ADDON: join(dir, 'nope.node') })).toThrow(
      /sd_notify addon .*nope\.node cannot be loaded .*native\/sd-notify\/build\.sh/,
    );
    const errors: Error[] = [];
    const n = createNotifier(envFor({ NOTIFY_SOCKET: 'relative/path' }), { onError: (e) => errors.push(e) });
    expect(n.enabled).toBe(false);
    expect(errors[0].message).toMatch(/neither a socket path nor an abstract name/);
  });
});

describe('watchdogIntervalFromEnv', () => {
  it('halves WATCHDOG_USEC and honours WATCHDOG_PID', () => {
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '20000000' }, 42)).toBe(10000);
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '42' }, 42)).toBe(10000);
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: '20000000', WATCHDOG_PID: '7' }, 42)).toBeNull();
    expect(watchdogIntervalFromEnv({ WATCHDOG_USEC: 'soon' }, 42)).toBeNull();
    expect(watchdogIntervalFromEnv({}, 42)).toBeNull();
  });
});

describe('WatchdogDriver', () => {
  it('pings once per interval while frames are processed and stays silent when the pipeline stalls', async () => {
    const n = createNotifier(envFor({ NOTIFY_SOCKET: systemd.path, WATCHDOG_USEC: '4000000' }));
    const timers = new ManualTimers();
    const driver = new WatchdogDriver(n, timers);
    driver.start();
    expect(timers.ms).toBe(2000);

    driver.progress();
    driver.progress();
    timers.fire(); // progress since start -> one ping
    await systemd.waitFor(1);
    timers.fire(); // stalled: no frame since the last ping
    timers.fire();
    driver.progress();
    timers.fire(); // progress again -> second ping
    await systemd.waitFor(2);
    // A marker datagram sent after the stalled ticks proves nothing else was queued before it.
    await n.status('marker');
    const got = await systemd.waitFor(3);
    expect(got).toEqual(['WATCHDOG=1', 'WATCHDOG=1', 'STATUS=marker']);
    expect(driver.pingCount).toBe(2);

    driver.stop();
    expect(timers.fn).toBeNull();
  });

  it('does nothing when systemd set no watchdog', () => {
    const timers = new ManualTimers();
    const driver = new WatchdogDriver(createNotifier(envFor({ NOTIFY_SOCKET: systemd.path })), timers);
    driver.start();
    expect(driver.active).toBe(false);
    expect(timers.fn).toBeNull();
  });
});

describe('ServiceStatus', () => {
  it('sends READY at the first frame only, STATUS lines after it, and STOPPING at the end', async () => {
    const { ServiceStatus } = await import('../../../src/agent/notify/service-status.js');
    const timers = new ManualTimers();
    const service = new ServiceStatus(createNotifier(envFor({ NOTIFY_SOCKET: systemd.path, WATCHDOG_USEC: '10000000' })), timers);
    service.stats({ fps: 0, net: null }); // not ready yet: nothing
    expect(timers.fn).toBeNull();
    service.frame();
    await systemd.waitFor(1);
    service.frame();
    service.stats({ fps: 11.84, net: { width: 456, height: 256 }, model: 'lightweight-openpose-coco18' });
    await systemd.waitFor(2);
    timers.fire();
    await systemd.waitFor(3);
    await service.stopping();
    expect(await systemd.waitFor(4)).toEqual([
      'READY=1\nSTATUS=first frame processed',
      'STATUS=11.8 fps, net 456x256, lightweight-openpose-coco18',
      'WATCHDOG=1',
      'STOPPING=1\nSTATUS=stopping',
    ]);
    expect(timers.fn).toBeNull();
  });
});
