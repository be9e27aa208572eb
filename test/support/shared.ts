// Where the shared, never-committed data (models, media, COCO ground truth) lives for tests:
// $PAFCAST_SHARED, else ../shared next to the checkout.

import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(fileURLToPath(new URL('../..', import.meta.url)));

export const sharedDir = process.env.PAFCAST_SHARED ?? resolve(repoRoot, '../shared');

export function sharedPath(...parts: string[]): string {
  return resolve(sharedDir, ...parts);
}
