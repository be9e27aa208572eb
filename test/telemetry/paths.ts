// Where tests find recorded data: the board trees in test/fixtures and the shared Jetson recordings.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const sharedDir = process.env.PAFCAST_SHARED ?? resolve(repoRoot, '../shared');
export const jetsonDir = resolve(sharedDir, 'jetson');
export const boardRoot = (board: string): string => resolve(repoRoot, 'test/fixtures/boards', board);
