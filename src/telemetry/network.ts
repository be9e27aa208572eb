// Network throughput per interface, through systeminformation: given explicit interface names its
// networkStats() reads /sys/class/net counters with an asynchronous child and computes rates between
// calls, and nothing Jetson-specific is involved. (Without names it would look up the default
// interface with execSync, so names are always passed.)

import si from 'systeminformation';

export interface NetworkRate {
  iface: string;
  rxBytes: number;
  txBytes: number;
  /** Bytes per second since the previous call; null on the first. */
  rxPerSec: number | null;
  txPerSec: number | null;
}

export async function readNetworkRates(interfaces: readonly string[]): Promise<NetworkRate[]> {
  if (!interfaces.length) return [];
  const stats = await si.networkStats(interfaces.join(','));
  return stats.map((s) => ({
    iface: s.iface,
    rxBytes: s.rx_bytes,
    txBytes: s.tx_bytes,
    // systeminformation leaves the rates null (despite its typings) or negative until it has two readings.
    rxPerSec: typeof s.rx_sec === 'number' && s.rx_sec >= 0 ? s.rx_sec : null,
    txPerSec: typeof s.tx_sec === 'number' && s.tx_sec >= 0 ? s.tx_sec : null,
  }));
}
