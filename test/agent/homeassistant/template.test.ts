// The Jinja subset the Home Assistant tests render templates with (support/template.ts): the results
// Home Assistant's Jinja gives for the same template and payload, and refusal of anything outside it.
import { describe, expect, it } from 'vitest';
import { renderTemplate, TemplateError } from './support/template.js';

const r = (t: string, payload: unknown) => renderTemplate(t, typeof payload === 'string' ? payload : JSON.stringify(payload));

describe('renderTemplate (Jinja subset)', () => {
  it('reads values and renders them as Python str() does', () => {
    expect(r('{{ value_json.count }}', { count: 2 })).toBe('2');
    expect(r('{{ value_json.a.b }}', { a: { b: 61.3 } })).toBe('61.3');
    expect(r('{{ value_json.fps }}', { fps: null })).toBe('None');
    expect(r('{{ value_json.ok }}', { ok: true })).toBe('True');
    expect(r("{{ value_json['a'] }}", { a: 'x' })).toBe('x');
    expect(r('{{ value }}', 'online')).toBe('online');
    // A missing key is Undefined, which renders as nothing.
    expect(r('{{ value_json.missing }}', {})).toBe('');
  });

  it('evaluates conditionals, comparisons, membership, tests and concatenation', () => {
    expect(r("{{ 'ON' if value_json.count > 0 else 'OFF' }}", { count: 3 })).toBe('ON');
    expect(r("{{ 'ON' if value_json.count > 0 else 'OFF' }}", { count: 0 })).toBe('OFF');
    expect(r("{{ 'online' if value == 'online' else 'offline' }}", 'stopped')).toBe('offline');
    expect(r('{{ value_json.net.height if value_json.net else None }}', { net: null })).toBe('None');
    expect(r('{{ value_json.s.i.m if value_json.s.i is defined else None }}', { s: {} })).toBe('None');
    expect(r("{{ 'y' if value_json.t in ['a', 'b'] else 'n' }}", { t: 'b' })).toBe('y');
    expect(r("{{ 'y' if value_json.t not in ['a', 'b'] else 'n' }}", { t: 'b' })).toBe('n');
    expect(r("{{ 'y' if value_json.a is none else 'n' }}", { a: null })).toBe('y');
    expect(r("{{ value_json.a ~ ' ' ~ value_json.b ~ (' x' if value_json.c else '') }}", { a: 'onnxruntime', b: 'cpu' })).toBe('onnxruntime cpu');
    expect(r('{{ not value_json.a and value_json.b }}', { a: false, b: 'z' })).toBe('z');
    // A conditional without else is Undefined when false.
    expect(r("{{ 'x' if value_json.a }}", { a: 0 })).toBe('');
  });

  it('applies tojson, default and round; dict and list literals', () => {
    expect(JSON.parse(r("{{ {'event_type': value_json.type, 'zone': value_json.zone | default(None)} | tojson }}", { type: 'fall' }))).toEqual({ event_type: 'fall', zone: null });
    expect(r("{{ {'a': [1, 'b']} | tojson }}", {})).toBe('{"a": [1, "b"]}');
    expect(r('{{ value_json.v | round(1) }}', { v: 3.14159 })).toBe('3.1');
    expect(r("{{ value_json.x | default('none') }}", {})).toBe('none');
  });

  it('fails where Home Assistant would fail: access on Undefined, ordering against None, Undefined in tojson', () => {
    expect(() => r('{{ value_json.a.b }}', {})).toThrow(/'value_json.a' is undefined/);
    expect(() => r('{{ value_json.x }}', 'not json')).toThrow(/'value_json' is undefined/);
    expect(() => r('{{ value_json.count > 0 }}', { count: null })).toThrow(/not supported between instances of 'NoneType' and 'int'/);
    expect(() => r("{{ {'a': value_json.missing} | tojson }}", {})).toThrow(/not JSON serializable/);
  });

  it('refuses templates outside the subset instead of guessing', () => {
    expect(() => r('{% if value %}x{% endif %}', 'a')).toThrow(TemplateError);
    expect(() => r('value is {{ value }}', 'a')).toThrow(/single \{\{ expression \}\}/);
    expect(() => r('{{ value | from_json }}', 'a')).toThrow(/filter "from_json"/);
    expect(() => r('{{ value is string }}', 'a')).toThrow(/unsupported test/);
    expect(() => r('{{ value - 1 }}', '3')).toThrow(TemplateError);
  });
});
