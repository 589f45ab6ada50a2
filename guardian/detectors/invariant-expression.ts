/**
 * A small, closed expression language for invariants, e.g. `token.totalSupply() <= eth.balance(wrapper)`.
 * It is parsed once, at config load, into a tree that can only do what the grammar allows: view calls on
 * named contracts, balances, integer arithmetic and one comparison. Nothing is ever evaluated as code.
 *
 *   invariant  := sum cmp sum            cmp := <= | < | >= | > | == | !=
 *   sum        := product (("+" | "-") product)*
 *   product    := unary (("*" | "/" | "%") unary)*
 *   unary      := "-" unary | primary
 *   primary    := number | address | name | name "." name "(" args? ")" | "(" sum ")"
 *   args       := sum ("," sum)*
 *
 * Numbers are decimal (underscores allowed, `1e18` allowed) or hex; a bare name is a contract's address.
 */

export type CompareOp = "<=" | "<" | ">=" | ">" | "==" | "!=";
export type ArithOp = "+" | "-" | "*" | "/" | "%";

export type Expr =
  | { kind: "number"; value: bigint }
  | { kind: "address"; value: string }
  | { kind: "name"; name: string }
  | { kind: "call"; target: string; method: string; args: Expr[]; text: string }
  | { kind: "neg"; operand: Expr }
  | { kind: "binary"; op: ArithOp; left: Expr; right: Expr };

export interface Invariant {
  op: CompareOp;
  left: Expr;
  right: Expr;
  leftText: string;
  rightText: string;
}

export class InvariantSyntaxError extends Error {
  constructor(message: string, readonly source: string, readonly position: number) {
    super(`${message} at column ${position + 1} of "${source}"`);
  }
}

type Token =
  | { type: "number"; value: bigint; pos: number; end: number }
  | { type: "address"; value: string; pos: number; end: number }
  | { type: "ident"; value: string; pos: number; end: number }
  | { type: "punct"; value: string; pos: number; end: number }
  | { type: "eof"; pos: number; end: number };

const PUNCT = ["<=", ">=", "==", "!=", "<", ">", "+", "-", "*", "/", "%", "(", ")", ",", "."];

function tokenize(src: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < src.length) {
    const ch = src[i];
    if (/\s/.test(ch)) {
      i++;
      continue;
    }
    const rest = src.slice(i);
    const hex = /^0x[0-9a-fA-F]+/.exec(rest);
    if (hex) {
      const text = hex[0];
      tokens.push(
        text.length === 42
          ? { type: "address", value: text.toLowerCase(), pos: i, end: i + text.length }
          : { type: "number", value: BigInt(text), pos: i, end: i + text.length },
      );
      i += text.length;
      continue;
    }
    const dec = /^\d[\d_]*(?:[eE]\d+)?/.exec(rest);
    if (dec) {
      const [mantissa, exp] = dec[0].replace(/_/g, "").split(/[eE]/);
      tokens.push({ type: "number", value: BigInt(mantissa) * 10n ** BigInt(exp ?? 0), pos: i, end: i + dec[0].length });
      i += dec[0].length;
      continue;
    }
    const ident = /^[A-Za-z_$][\w$]*/.exec(rest);
    if (ident) {
      tokens.push({ type: "ident", value: ident[0], pos: i, end: i + ident[0].length });
      i += ident[0].length;
      continue;
    }
    const punct = PUNCT.find((p) => rest.startsWith(p));
    if (!punct) throw new InvariantSyntaxError(`unexpected character "${ch}"`, src, i);
    tokens.push({ type: "punct", value: punct, pos: i, end: i + punct.length });
    i += punct.length;
  }
  tokens.push({ type: "eof", pos: src.length, end: src.length });
  return tokens;
}

const COMPARE_OPS: readonly string[] = ["<=", "<", ">=", ">", "==", "!="];

export function parseInvariant(src: string): Invariant {
  const tokens = tokenize(src);
  let k = 0;
  const peek = (): Token => tokens[k];
  const isPunct = (v: string): boolean => {
    const t = peek();
    return t.type === "punct" && t.value === v;
  };
  const expect = (v: string): Token => {
    if (!isPunct(v)) throw new InvariantSyntaxError(`expected "${v}"`, src, peek().pos);
    return tokens[k++];
  };

  const primary = (): Expr => {
    const t = peek();
    if (t.type === "number") {
      k++;
      return { kind: "number", value: t.value };
    }
    if (t.type === "address") {
      k++;
      return { kind: "address", value: t.value };
    }
    if (t.type === "punct" && t.value === "(") {
      k++;
      const inner = sum();
      expect(")");
      return inner;
    }
    if (t.type === "ident") {
      k++;
      if (!isPunct(".")) return { kind: "name", name: t.value };
      k++;
      const method = peek();
      if (method.type !== "ident") throw new InvariantSyntaxError("expected a function name after \".\"", src, method.pos);
      k++;
      expect("(");
      const args: Expr[] = [];
      if (!isPunct(")")) {
        args.push(sum());
        while (isPunct(",")) {
          k++;
          args.push(sum());
        }
      }
      const close = expect(")");
      return { kind: "call", target: t.value, method: method.value, args, text: src.slice(t.pos, close.end) };
    }
    throw new InvariantSyntaxError(t.type === "eof" ? "unexpected end of expression" : "expected a value", src, t.pos);
  };
  const unary = (): Expr => {
    if (isPunct("-")) {
      k++;
      return { kind: "neg", operand: unary() };
    }
    return primary();
  };
  const chain = (next: () => Expr, ops: readonly ArithOp[]): Expr => {
    let left = next();
    for (;;) {
      const t = peek();
      if (t.type !== "punct" || !ops.includes(t.value as ArithOp)) return left;
      k++;
      left = { kind: "binary", op: t.value as ArithOp, left, right: next() };
    }
  };
  const product = (): Expr => chain(unary, ["*", "/", "%"]);
  const sum = (): Expr => chain(product, ["+", "-"]);

  const leftStart = peek().pos;
  const left = sum();
  const opTok = peek();
  if (opTok.type !== "punct" || !COMPARE_OPS.includes(opTok.value)) {
    throw new InvariantSyntaxError("expected a comparison (<=, <, >=, >, ==, !=)", src, opTok.pos);
  }
  k++;
  const rightStart = peek().pos;
  const right = sum();
  if (peek().type !== "eof") throw new InvariantSyntaxError("unexpected text after the comparison", src, peek().pos);
  return {
    op: opTok.value as CompareOp,
    left,
    right,
    leftText: src.slice(leftStart, opTok.pos).trim(),
    rightText: src.slice(rightStart).trim(),
  };
}

/** The calls an expression makes, in order of appearance, for validation and prefetching. */
export function callsOf(e: Expr, out: Extract<Expr, { kind: "call" }>[] = []): Extract<Expr, { kind: "call" }>[] {
  switch (e.kind) {
    case "call":
      e.args.forEach((a) => callsOf(a, out));
      out.push(e);
      break;
    case "neg":
      callsOf(e.operand, out);
      break;
    case "binary":
      callsOf(e.left, out);
      callsOf(e.right, out);
      break;
  }
  return out;
}

export type Value = bigint | { address: string };

export class InvariantEvaluationError extends Error {}

/**
 * Evaluates an expression with `resolveName` for bare names and `call` for calls (which the caller
 * implements as eth_call / eth_getBalance at the block). Arithmetic is exact on bigints.
 */
export async function evaluate(
  e: Expr,
  env: { resolveName(name: string): string; call(c: Extract<Expr, { kind: "call" }>, args: Value[]): Promise<bigint> },
): Promise<Value> {
  const num = async (x: Expr): Promise<bigint> => {
    const v = await evaluate(x, env);
    if (typeof v !== "bigint") throw new InvariantEvaluationError(`an address (${v.address}) is used as a number`);
    return v;
  };
  switch (e.kind) {
    case "number":
      return e.value;
    case "address":
      return { address: e.value };
    case "name":
      return { address: env.resolveName(e.name) };
    case "neg":
      return -(await num(e.operand));
    case "call":
      return env.call(e, await Promise.all(e.args.map((a) => evaluate(a, env))));
    case "binary": {
      const [l, r] = await Promise.all([num(e.left), num(e.right)]);
      switch (e.op) {
        case "+":
          return l + r;
        case "-":
          return l - r;
        case "*":
          return l * r;
        case "/":
        case "%":
          if (r === 0n) throw new InvariantEvaluationError("division by zero");
          return e.op === "/" ? l / r : l % r;
      }
    }
  }
}

export function compare(op: CompareOp, l: bigint, r: bigint): boolean {
  switch (op) {
    case "<=":
      return l <= r;
    case "<":
      return l < r;
    case ">=":
      return l >= r;
    case ">":
      return l > r;
    case "==":
      return l === r;
    case "!=":
      return l !== r;
  }
}
