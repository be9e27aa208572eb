export { createNotifier, watchdogIntervalFromEnv, type Notifier, type NotifierOptions } from './sd-notify.js';
export { WatchdogDriver, type WatchdogTimers } from './watchdog.js';
export { ServiceStatus, statusLine, type ServiceStats } from './service-status.js';
