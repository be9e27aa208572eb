// Which capture programs this machine has, and which backend runs a source.

import type { CaptureConfig } from './config-schema.js';
import { runCommand } from './exec.js';
import type { SourceSpec } from './source-uri.js';
import { SourceError } from './source-uri.js';

export type Backend = 'ffmpeg' | 'gstreamer';

export interface CaptureTools {
  ffmpeg: boolean;
  ffprobe: boolean;
  gstLaunch: boolean;
  gstDiscoverer: boolean;
  /** NVIDIA GStreamer elements (JetPack): hardware decode, hardware scaling, CSI cameras. */
  nvv4l2decoder: boolean;
  nvvidconv: boolean;
  nvarguscamerasrc: boolean;
}

const CHECK_TIMEOUT_MS = 10_000;

async function succeeds(argv: string[]): Promise<boolean> {
  return (await runCommand(argv, CHECK_TIMEOUT_MS)).code === 0;
}

let detected: Promise<CaptureTools> | undefined;

/** Looks the tools up once per process (installed programs do not change while the agent runs). */
export function detectTools(): Promise<CaptureTools> {
  detected ??= (async () => {
    const [ffmpeg, ffprobe, gstLaunch, gstDiscoverer] = await Promise.all([
      succeeds(['ffmpeg', '-version']),
      succeeds(['ffprobe', '-version']),
      succeeds(['gst-launch-1.0', '--version']),
      succeeds(['gst-discoverer-1.0', '--version']),
    ]);
    const element = (name: string) => (gstLaunch ? succeeds(['gst-inspect-1.0', '--exists', name]) : Promise.resolve(false));
    const [nvv4l2decoder, nvvidconv, nvarguscamerasrc] = await Promise.all(
      ['nvv4l2decoder', 'nvvidconv', 'nvarguscamerasrc'].map(element),
    );
    return { ffmpeg, ffprobe, gstLaunch, gstDiscoverer, nvv4l2decoder, nvvidconv, nvarguscamerasrc };
  })();
  return detected;
}

/** Picks the backend for a source; throws SourceError when the needed program is missing. */
export function chooseBackend(wanted: CaptureConfig['backend'], spec: SourceSpec, tools: CaptureTools): Backend {
  if (spec.kind === 'csi') {
    if (!tools.gstLaunch || !tools.nvarguscamerasrc)
      throw new SourceError('CSI cameras need GStreamer with nvarguscamerasrc (JetPack); not found on this machine');
    return 'gstreamer';
  }
  const backend: Backend =
    wanted !== 'auto' ? wanted : tools.gstLaunch && tools.nvvidconv ? 'gstreamer' : tools.ffmpeg ? 'ffmpeg' : 'gstreamer';
  if (backend === 'ffmpeg' && !tools.ffmpeg) throw new SourceError('ffmpeg is not installed (apt install ffmpeg)');
  if (backend === 'gstreamer' && !tools.gstLaunch)
    throw new SourceError('gst-launch-1.0 is not installed (apt install gstreamer1.0-tools gstreamer1.0-plugins-good)');
  return backend;
}
