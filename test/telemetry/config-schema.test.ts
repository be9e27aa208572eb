import { Value } from '@sinclair/typebox/value';
import { describe, expect, it } from 'vitest';
import { checkTelemetryConfig, TelemetryConfigSchema, type TelemetryConfig } from '../../src/telemetry/config-schema.js';

const defaults = (): TelemetryConfig => Value.Default(TelemetryConfigSchema, {}) as TelemetryConfig;

describe('telemetry config schema', () => {
  it('an empty section fills in valid defaults', () => {
    const c = defaults();
    expect(Value.Check(TelemetryConfigSchema, c)).toBe(true);
    expect(c.interval_ms).toBe(2_000);
    expect(c.root).toBe('/');
    expect(c.scale.ladder).toEqual([368, 320, 256, 224, 160]);
    expect(c.thermal).toMatchObject({ soft_limit_c: 80, hard_limit_c: 90 });
    expect(checkTelemetryConfig(c)).toEqual([]);
  });

  it('rejects unknown keys and out-of-range values', () => {
    expect(Value.Check(TelemetryConfigSchema, { ...defaults(), bogus: 1 })).toBe(false);
    const c = defaults();
    expect(Value.Check(TelemetryConfigSchema, { ...c, interval_ms: 10 })).toBe(false);
    expect(Value.Check(TelemetryConfigSchema, { ...c, scale: { ...c.scale, ladder: [] } })).toBe(false);
    expect(Value.Check(TelemetryConfigSchema, { ...c, scale: { ...c.scale, target_fps: 0 } })).toBe(false);
  });

  it('cross-field rules: soft below hard, min below max', () => {
    const c = defaults();
    c.thermal.soft_limit_c = 95;
    c.scale.min_height = 320;
    c.scale.max_height = 224;
    const errors = checkTelemetryConfig(c);
    expect(errors).toHaveLength(2);
    expect(errors[0]).toMatch(/soft_limit_c \(95\) must be below hard_limit_c \(90\)/);
    expect(errors[1]).toMatch(/min_height \(320\) is above max_height \(224\)/);
  });

  it('every field documents itself', () => {
    const walk = (schema: Record<string, any>, path: string, out: string[]): void => {
      for (const [k, v] of Object.entries(schema.properties ?? {})) {
        const p = `${path}/${k}`;
        if ((v as any).type === 'object') walk(v as any, p, out);
        else {
          expect((v as any).description, p).toBeTruthy();
          out.push(p);
        }
      }
    };
    const restart: string[] = [];
    walk(TelemetryConfigSchema as any, '', restart);
    expect(restart).toContain('/scale/ladder');
  });
});
