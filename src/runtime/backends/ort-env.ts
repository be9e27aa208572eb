// onnxruntime-node 1.30's Linux library carries Microsoft's 1DS telemetry ("PosixTelemetry"): when
// a session is created it reads /etc/machine-id, /etc/os-release and /proc/self/cmdline, writes
// /tmp/mat-debug-<pid>.log and may try HTTPS uploads. Parsing the command line recurses once per
// character or so (gdb: ~43,000 frames), so a command line over ~14 KB overflows the 4 MB stack of
// the worker thread that runs the session and the process dies of SIGSEGV (`pafcast detect` with
// 450 image paths). A headless camera agent has no business reporting its machine id and command
// line either. The library honours ORT_DISABLE_TELEMETRY; it reads the real process environment,
// so this must be set on the main thread before the first session is created. A value the user set
// explicitly is kept.

export function disableOnnxRuntimeTelemetry(env: NodeJS.ProcessEnv = process.env): void {
  env.ORT_DISABLE_TELEMETRY ??= '1';
}
