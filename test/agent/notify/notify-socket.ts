// Test helpers: the sd_notify addon built into a temp dir, and a real AF_UNIX datagram socket
// standing in for systemd's notify socket. The receiver is a small Python process, independent
// of the code under test.

import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { join, resolve } from 'node:path';

export const repo = resolve(import.meta.dirname, '../../..');

/** Compiles native/sd-notify into `dir` and returns the .node path. */
export function buildAddon(dir: string): string {
  const r = spawnSync('sh', [join(repo, 'native/sd-notify/build.sh'), dir], { encoding: 'utf8', env: { ...process.env, NODE: process.execPath } });
  if (r.status !== 0) throw new Error(`addon build failed: ${r.stderr}`);
  return r.stdout.trim();
}

const RECEIVER = `
import json, socket, sys
addr = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind('\\0' + addr[1:] if addr.startswith('@') else addr)
print(json.dumps({"bound": True}), flush=True)
while True:
    data = s.recv(65536)
    print(json.dumps({"message": data.decode("utf-8")}), flush=True)
`;

export class FakeSystemd {
  readonly messages: string[] = [];
  private waiters: Array<() => void> = [];
  private readonly proc: ChildProcess;
  readonly bound: Promise<void>;

  constructor(readonly path: string) {
    this.proc = spawn('python3', ['-c', RECEIVER, path], { stdio: ['ignore', 'pipe', 'inherit'] });
    let onBound: () => void = () => {};
    this.bound = new Promise((r) => (onBound = r));
    createInterface({ input: this.proc.stdout! }).on('line', (line) => {
      const event = JSON.parse(line) as { bound?: boolean; message?: string };
      if (event.bound) onBound();
      if (event.message !== undefined) {
        this.messages.push(event.message);
        this.waiters.splice(0).forEach((w) => w());
      }
    });
  }

  async waitFor(count: number): Promise<string[]> {
    while (this.messages.length < count) await new Promise<void>((r) => this.waiters.push(r));
    return this.messages;
  }

  async waitUntil(pred: (messages: string[]) => boolean): Promise<string[]> {
    while (!pred(this.messages)) await new Promise<void>((r) => this.waiters.push(r));
    return this.messages;
  }

  close(): void {
    this.proc.kill();
  }
}
