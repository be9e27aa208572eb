// Renders the Home Assistant value templates pafcast emits, the way Home Assistant's Jinja would, so
// that tests can check every entity against the real messages. A deliberately small subset: a template
// is exactly one `{{ expression }}`; anything else (statements, text around it, an unknown filter or
// test) is refused, so a template outside the subset fails the test instead of passing unchecked.
//
// Supported: literals (numbers, '…'/"…" strings, None/none, True/true, False/false, […] lists, {k: v}
// dicts); the variables `value` (the payload text) and `value_json` (the payload parsed as JSON, absent
// when it is not JSON); `.name` and `[expr]` access; `a if c else b` (else optional); or, and, not;
// ==, !=, <, <=, >, >=, in, not in; `is [not] defined`, `is [not] none`; `~` (concatenation); filters
// tojson, default(v), round(n).
//
// Semantics that matter here, as in Jinja on Python: a missing key gives Undefined, which renders '',
// is falsy and is replaced by default(); any access *on* Undefined is an error (Home Assistant logs it
// and keeps the old state); None renders 'None', which Home Assistant's sensors take as unknown;
// ordering a number against None is an error; Python's str() of numbers and booleans.

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

/** Jinja's Undefined. */
const UNDEFINED: unique symbol = Symbol('Undefined');
type Value = null | boolean | number | string | Value[] | { [k: string]: Value } | typeof UNDEFINED;

type Token = { kind: 'num'; value: number } | { kind: 'str'; value: string } | { kind: 'name'; value: string } | { kind: 'op'; value: string };

const OPS = ['==', '!=', '>=', '<=', '>', '<', '~', '|', '.', ',', ':', '(', ')', '[', ']', '{', '}'];

function tokenize(src: string): Token[] {
  const out: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const num = /^\d+(\.\d+)?/.exec(src.slice(i));
    if (num) {
      out.push({ kind: 'num', value: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (ch === "'" || ch === '"') {
      let j = i + 1;
      let s = '';
      while (j < src.length && src[j] !== ch) {
        if (src[j] === '\\') {
          const next = src[j + 1];
          s += next === 'n' ? '\n' : next === 't' ? '\t' : next;
          j += 2;
        } else s += src[j++];
      }
      if (j >= src.length) throw new TemplateError(`unterminated string in ${src}`);
      out.push({ kind: 'str', value: s });
      i = j + 1;
      continue;
    }
    const name = /^[A-Za-z_][A-Za-z0-9_]*/.exec(src.slice(i));
    if (name) {
      out.push({ kind: 'name', value: name[0] });
      i += name[0].length;
      continue;
    }
    const op = OPS.find((o) => src.startsWith(o, i));
    if (!op) throw new TemplateError(`unsupported character ${JSON.stringify(ch)} in ${src}`);
    out.push({ kind: 'op', value: op });
    i += op.length;
  }
  return out;
}

type Node =
  | { t: 'lit'; v: Value }
  | { t: 'var'; name: string }
  | { t: 'attr'; obj: Node; name: string }
  | { t: 'item'; obj: Node; key: Node }
  | { t: 'list'; items: Node[] }
  | { t: 'dict'; entries: Array<[Node, Node]> }
  | { t: 'cond'; test: Node; then: Node; else?: Node }
  | { t: 'or' | 'and'; a: Node; b: Node }
  | { t: 'not'; a: Node }
  | { t: 'cmp'; op: string; a: Node; b: Node }
  | { t: 'is'; a: Node; test: 'defined' | 'none'; negate: boolean }
  | { t: 'concat'; a: Node; b: Node }
  | { t: 'filter'; a: Node; name: string; args: Node[] };

class Parser {
  private i = 0;
  constructor(
    private readonly toks: Token[],
    private readonly src: string,
  ) {}

  private peek(offset = 0): Token | undefined {
    return this.toks[this.i + offset];
  }
  private isOp(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'op' && t.value === v;
  }
  private isName(v: string, offset = 0): boolean {
    const t = this.peek(offset);
    return t?.kind === 'name' && t.value === v;
  }
  private expectOp(v: string): void {
    if (!this.isOp(v)) throw new TemplateError(`expected "${v}" in ${this.src}`);
    this.i++;
  }

  parseAll(): Node {
    const n = this.expr();
    if (this.i !== this.toks.length) throw new TemplateError(`unexpected ${JSON.stringify(this.peek())} in ${this.src}`);
    return n;
  }

  private expr(): Node {
    const then = this.or();
    if (this.isName('if')) {
      this.i++;
      const test = this.or();
      if (this.isName('else')) {
        this.i++;
        return { t: 'cond', test, then, else: this.expr() };
      }
      return { t: 'cond', test, then };
    }
    return then;
  }
  private or(): Node {
    let a = this.and();
    while (this.isName('or')) {
      this.i++;
      a = { t: 'or', a, b: this.and() };
    }
    return a;
  }
  private and(): Node {
    let a = this.not();
    while (this.isName('and')) {
      this.i++;
      a = { t: 'and', a, b: this.not() };
    }
    return a;
  }
  private not(): Node {
    if (this.isName('not')) {
      this.i++;
      return { t: 'not', a: this.not() };
    }
    return this.compare();
  }
  private compare(): Node {
    let a = this.concat();
    for (;;) {
      const t = this.peek();
      if (t?.kind === 'op' && ['==', '!=', '>=', '<=', '>', '<'].includes(t.value)) {
        this.i++;
        a = { t: 'cmp', op: t.value, a, b: this.concat() };
      } else if (this.isName('in')) {
        this.i++;
        a = { t: 'cmp', op: 'in', a, b: this.concat() };
      } else if (this.isName('not') && this.isName('in', 1)) {
        this.i += 2;
        a = { t: 'cmp', op: 'not in', a, b: this.concat() };
      } else if (this.isName('is')) {
        this.i++;
        let negate = false;
        if (this.isName('not')) {
          negate = true;
          this.i++;
        }
        const test = this.peek();
        if (test?.kind !== 'name' || (test.value !== 'defined' && test.value !== 'none')) throw new TemplateError(`unsupported test ${JSON.stringify(test)} in ${this.src}`);
        this.i++;
        a = { t: 'is', a, test: test.value, negate };
      } else return a;
    }
  }
  private concat(): Node {
    let a = this.filtered();
    while (this.isOp('~')) {
      this.i++;
      a = { t: 'concat', a, b: this.filtered() };
    }
    return a;
  }
  private filtered(): Node {
    let a = this.postfix();
    while (this.isOp('|')) {
      this.i++;
      const name = this.peek();
      if (name?.kind !== 'name') throw new TemplateError(`expected a filter name in ${this.src}`);
      this.i++;
      const args: Node[] = [];
      if (this.isOp('(')) {
        this.i++;
        while (!this.isOp(')')) {
          args.push(this.expr());
          if (!this.isOp(')')) this.expectOp(',');
        }
        this.i++;
      }
      a = { t: 'filter', a, name: name.value, args };
    }
    return a;
  }
  private postfix(): Node {
    let a = this.primary();
    for (;;) {
      if (this.isOp('.')) {
        this.i++;
        const name = this.peek();
        if (name?.kind !== 'name') throw new TemplateError(`expected a name after "." in ${this.src}`);
        this.i++;
        a = { t: 'attr', obj: a, name: name.value };
      } else if (this.isOp('[')) {
        this.i++;
        const key = this.expr();
        this.expectOp(']');
        a = { t: 'item', obj: a, key };
      } else return a;
    }
  }
  private primary(): Node {
    const t = this.peek();
    if (!t) throw new TemplateError(`unexpected end of ${this.src}`);
    this.i++;
    if (t.kind === 'num') return { t: 'lit', v: t.value };
    if (t.kind === 'str') return { t: 'lit', v: t.value };
    if (t.kind === 'name') {
      if (t.value === 'None' || t.value === 'none') return { t: 'lit', v: null };
      if (t.value === 'True' || t.value === 'true') return { t: 'lit', v: true };
      if (t.value === 'False' || t.value === 'false') return { t: 'lit', v: false };
      if (['if', 'else', 'and', 'or', 'not', 'in', 'is'].includes(t.value)) throw new TemplateError(`unexpected "${t.value}" in ${this.src}`);
      return { t: 'var', name: t.value };
    }
    if (t.value === '(') {
      const n = this.expr();
      this.expectOp(')');
      return n;
    }
    if (t.value === '[') {
      const items: Node[] = [];
      while (!this.isOp(']')) {
        items.push(this.expr());
        if (!this.isOp(']')) this.expectOp(',');
      }
      this.i++;
      return { t: 'list', items };
    }
    if (t.value === '{') {
      const entries: Array<[Node, Node]> = [];
      while (!this.isOp('}')) {
        const k = this.expr();
        this.expectOp(':');
        entries.push([k, this.expr()]);
        if (!this.isOp('}')) this.expectOp(',');
      }
      this.i++;
      return { t: 'dict', entries };
    }
    throw new TemplateError(`unexpected "${t.value}" in ${this.src}`);
  }
}

const isDict = (v: Value): v is { [k: string]: Value } => typeof v === 'object' && v !== null && !Array.isArray(v);

function truthy(v: Value): boolean {
  if (v === UNDEFINED || v === null || v === false || v === 0 || v === '') return false;
  if (Array.isArray(v)) return v.length > 0;
  if (isDict(v)) return Object.keys(v).length > 0;
  return true;
}

/** Python's str() of a scalar; lists and dicts only through tojson. */
function str(v: Value): string {
  if (v === UNDEFINED) return '';
  if (v === null) return 'None';
  if (v === true) return 'True';
  if (v === false) return 'False';
  // JSON numbers written without a fraction are Python ints; String() matches str() for both in the ranges used here.
  if (typeof v === 'number') return String(v);
  if (typeof v === 'string') return v;
  throw new TemplateError('rendering a list or dict without tojson is not in the supported subset');
}

function get(obj: Value, key: Value, what: string): Value {
  if (obj === UNDEFINED) throw new TemplateError(`'${what}' is undefined`);
  if (isDict(obj) && typeof key === 'string') return Object.hasOwn(obj, key) ? obj[key] : UNDEFINED;
  if (Array.isArray(obj) && typeof key === 'number') return key >= 0 && key < obj.length ? obj[key] : UNDEFINED;
  // Jinja: an attribute of None, a number or a string that does not exist is Undefined.
  return UNDEFINED;
}

function equal(a: Value, b: Value): boolean {
  if (a === UNDEFINED || b === UNDEFINED) return a === b;
  return JSON.stringify(a) === JSON.stringify(b);
}

function toJson(v: Value): string {
  const walk = (x: Value): unknown => {
    if (x === UNDEFINED) throw new TemplateError('Object of type Undefined is not JSON serializable');
    if (Array.isArray(x)) return x.map(walk);
    if (isDict(x)) return Object.fromEntries(Object.entries(x).map(([k, y]) => [k, walk(y)]));
    return x;
  };
  // Python's json.dumps separators; Jinja's tojson also escapes <, >, & and ' (not needed for parsing back).
  return JSON.stringify(walk(v)).replace(/,"/g, ', "').replace(/":/g, '": ');
}

function evaluate(n: Node, vars: Record<string, Value>): Value {
  switch (n.t) {
    case 'lit':
      return n.v;
    case 'var':
      return Object.hasOwn(vars, n.name) ? vars[n.name] : UNDEFINED;
    case 'attr':
      return get(evaluate(n.obj, vars), n.name, describeNode(n.obj));
    case 'item':
      return get(evaluate(n.obj, vars), evaluate(n.key, vars), describeNode(n.obj));
    case 'list':
      return n.items.map((x) => evaluate(x, vars));
    case 'dict': {
      const out: { [k: string]: Value } = {};
      for (const [k, v] of n.entries) {
        const key = evaluate(k, vars);
        if (typeof key !== 'string') throw new TemplateError('dict keys must be strings in the supported subset');
        out[key] = evaluate(v, vars);
      }
      return out;
    }
    case 'cond':
      return truthy(evaluate(n.test, vars)) ? evaluate(n.then, vars) : n.else ? evaluate(n.else, vars) : UNDEFINED;
    case 'or': {
      const a = evaluate(n.a, vars);
      return truthy(a) ? a : evaluate(n.b, vars);
    }
    case 'and': {
      const a = evaluate(n.a, vars);
      return truthy(a) ? evaluate(n.b, vars) : a;
    }
    case 'not':
      return !truthy(evaluate(n.a, vars));
    case 'is': {
      const a = evaluate(n.a, vars);
      const r = n.test === 'defined' ? a !== UNDEFINED : a === null;
      return n.negate ? !r : r;
    }
    case 'concat':
      return str(evaluate(n.a, vars)) + str(evaluate(n.b, vars));
    case 'cmp': {
      const a = evaluate(n.a, vars);
      const b = evaluate(n.b, vars);
      if (n.op === '==') return equal(a, b);
      if (n.op === '!=') return !equal(a, b);
      if (n.op === 'in' || n.op === 'not in') {
        let r: boolean;
        if (Array.isArray(b)) r = b.some((x) => equal(x, a));
        else if (typeof b === 'string' && typeof a === 'string') r = b.includes(a);
        else if (isDict(b) && typeof a === 'string') r = Object.hasOwn(b, a);
        else throw new TemplateError(`argument of type ${typeName(b)} is not iterable`);
        return n.op === 'in' ? r : !r;
      }
      const bothNumbers = typeof a === 'number' && typeof b === 'number';
      const bothStrings = typeof a === 'string' && typeof b === 'string';
      if (!bothNumbers && !bothStrings) throw new TemplateError(`'${n.op}' not supported between instances of '${typeName(a)}' and '${typeName(b)}'`);
      const x = a as number | string;
      const y = b as number | string;
      return n.op === '>' ? x > y : n.op === '<' ? x < y : n.op === '>=' ? x >= y : x <= y;
    }
    case 'filter': {
      const a = evaluate(n.a, vars);
      const args = n.args.map((x) => evaluate(x, vars));
      switch (n.name) {
        case 'tojson':
          return toJson(a);
        case 'default':
          return a === UNDEFINED ? (args.length ? args[0] : '') : a;
        case 'round': {
          if (typeof a !== 'number') throw new TemplateError(`round of ${typeName(a)}`);
          const d = typeof args[0] === 'number' ? args[0] : 0;
          const f = 10 ** d;
          return Math.round(a * f) / f;
        }
        default:
          throw new TemplateError(`filter "${n.name}" is not in the supported subset`);
      }
    }
  }
}

function typeName(v: Value): string {
  if (v === UNDEFINED) return 'Undefined';
  if (v === null) return 'NoneType';
  if (Array.isArray(v)) return 'list';
  if (isDict(v)) return 'dict';
  return typeof v === 'number' ? (Number.isInteger(v) ? 'int' : 'float') : typeof v === 'string' ? 'str' : 'bool';
}

function describeNode(n: Node): string {
  if (n.t === 'var') return n.name;
  if (n.t === 'attr') return `${describeNode(n.obj)}.${n.name}`;
  return '(expression)';
}

/**
 * Renders `template` for a message with payload `payload`, as Home Assistant's
 * render_with_possible_json_value does: `value` is the text, `value_json` its JSON when it parses.
 * The result is stripped, as Home Assistant strips rendered templates.
 */
export function renderTemplate(template: string, payload: string): string {
  const m = /^\s*\{\{(.*)\}\}\s*$/s.exec(template);
  if (!m || m[1].includes('{{') || m[1].includes('}}') || /\{%|%\}/.test(template))
    throw new TemplateError(`only a single {{ expression }} is in the supported subset: ${template}`);
  const vars: Record<string, Value> = { value: payload };
  try {
    vars.value_json = JSON.parse(payload) as Value;
  } catch {
    // Not JSON: value_json is not defined, as in Home Assistant.
  }
  const ast = new Parser(tokenize(m[1]), template).parseAll();
  return str(evaluate(ast, vars)).trim();
}
