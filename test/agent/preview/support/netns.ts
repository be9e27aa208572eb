// Two throwaway network namespaces joined by a veth pair, for WebRTC tests: headless Chromium gathers no
// ICE candidates on loopback alone. Addresses exist only inside these namespaces; dispose() deletes both
// (which also deletes the veth pair and kills nothing else). Needs root and iproute2.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface VethPair {
  serverNs: string;
  clientNs: string;
  serverIp: string;
  clientIp: string;
  /** argv prefix that runs a command inside a namespace. */
  exec(ns: string): string[];
  dispose(): void;
}

/** Why namespaces cannot be made here, or undefined when they can. */
export function netnsUnavailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'needs root to create network namespaces';
  if (!['/usr/sbin/ip', '/sbin/ip', '/usr/bin/ip'].some(existsSync)) return 'needs iproute2 (`ip`)';
  return undefined;
}

const ip = (...args: string[]) => execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });

export function createVethPair(subnet = '10.99.0'): VethPair {
  // Interface names are limited to 15 characters; the pid keeps parallel runs apart.
  const tag = `${process.pid % 100000}`;
  const serverNs = `pfc-srv-${tag}`, clientNs = `pfc-cli-${tag}`;
  const serverIf = `pfcs${tag}`, clientIf = `pfcc${tag}`;
  const pair: VethPair = {
    serverNs,
    clientNs,
    serverIp: `${subnet}.1`,
    clientIp: `${subnet}.2`,
    exec: (ns) => ['ip', 'netns', 'exec', ns],
    dispose() {
      for (const ns of [serverNs, clientNs]) {
        try {
          ip('netns', 'del', ns);
        } catch {
          // already gone
        }
      }
    },
  };
  try {
    pair.dispose(); // leftovers of a crashed run with the same pid
    ip('netns', 'add', serverNs);
    ip('netns', 'add', clientNs);
    ip('link', 'add', serverIf, 'type', 'veth', 'peer', 'name', clientIf);
    ip('link', 'set', serverIf, 'netns', serverNs);
    ip('link', 'set', clientIf, 'netns', clientNs);
    for (const [ns, dev, addr] of [[serverNs, serverIf, pair.serverIp], [clientNs, clientIf, pair.clientIp]]) {
      ip('-n', ns, 'addr', 'add', `${addr}/24`, 'dev', dev);
      ip('-n', ns, 'link', 'set', dev, 'up');
      ip('-n', ns, 'link', 'set', 'lo', 'up');
    }
  } catch (e) {
    pair.dispose();
    const err = e as { stderr?: Buffer; message: string };
    throw new Error(`cannot set up network namespaces: ${err.stderr?.toString().trim() || err.message}`);
  }
  return pair;
}
