// A real decoder for RTP video in tests: GStreamer (rtpstreamdepay → rtph264depay/rtpvp8depay → avdec_h264/vp8dec)
// fed RFC 4571 framed packets on stdin. Counts decoded frames and reads the decoded size from the negotiated caps.
// Frames come out scaled to 32×18 grey on fd 3 only to be counted; the size is the decoder's own output.

import { spawn, type ChildProcess } from 'node:child_process';
import type { Readable } from 'node:stream';
import { frame4571, type VideoCodec } from '../../../../src/agent/preview/rtp.js';

const COUNT_W = 32;
const COUNT_H = 18;

export class RtpDecoder {
  private readonly child: ChildProcess;
  private bytes = 0;
  private out = '';
  private closed: Promise<void>;

  /** Frames decoded so far. */
  get frames(): number {
    return Math.floor(this.bytes / (COUNT_W * COUNT_H));
  }

  /** The decoder's output size, once known. */
  get size(): { width: number; height: number } | null {
    // What the scaler (right after the decoder) takes in: the decoded size.
    const m = /videoscale0\.GstPad:sink: caps = video\/x-raw[^\n]*?width=\(int\)(\d+), height=\(int\)(\d+)/.exec(this.out);
    return m ? { width: Number(m[1]), height: Number(m[2]) } : null;
  }

  constructor(codec: VideoCodec, payloadType: number) {
    const [depay, dec] = codec === 'H264' ? ['rtph264depay', 'avdec_h264'] : ['rtpvp8depay', 'vp8dec'];
    // -v: the negotiated caps (with the decoded size) are printed on stdout; frames go to fd 3.
    this.child = spawn('gst-launch-1.0', ['-v', 'fdsrc', 'fd=0', '!',
      `application/x-rtp-stream,media=video,clock-rate=90000,encoding-name=${codec},payload=${payloadType}`, '!', 'rtpstreamdepay', '!', depay, '!', dec, '!',
      'videoscale', '!', 'videoconvert', '!', `video/x-raw,format=GRAY8,width=${COUNT_W},height=${COUNT_H}`, '!', 'fdsink', 'fd=3', 'sync=false'],
    { stdio: ['pipe', 'pipe', 'pipe', 'pipe'] });
    this.child.stdin!.on('error', () => undefined);
    (this.child.stdio[3] as Readable).on('data', (d: Buffer) => (this.bytes += d.length));
    this.child.stdout!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.child.stderr!.setEncoding('utf8').on('data', (s: string) => (this.out += s));
    this.closed = new Promise((r) => this.child.once('close', () => r()));
  }

  push(packet: Uint8Array): void {
    this.child.stdin!.write(frame4571(packet));
  }

  /** Ends the input and waits for the decoder to drain; returns the frames decoded. */
  async finish(): Promise<number> {
    this.child.stdin!.end();
    const t = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
    await this.closed;
    clearTimeout(t);
    return this.frames;
  }

  kill(): void {
    this.child.kill('SIGKILL');
  }

  /** What the decoder printed (for failure messages). */
  get log(): string {
    return this.out.slice(-2000);
  }
}
