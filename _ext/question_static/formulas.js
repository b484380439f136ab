// Typed formulas in the book: the language of chapters/formulas.py (the same tokens,
// grammar, shapes and words), evaluated on the draws that chapters/formula_questions.py
// stored in each form, and checked with the same rules as FormulaQuestion.check. What the
// reader types is data: it is read token by token, never run as code. Nothing is fetched.
(() => {
  "use strict";
  const CORRECT = "Correct.";
  const NOT_QUITE = "Not quite.";
  const MAX_LENGTH = 200;
  const MAX_DEPTH = 20;
  const MAX_EXPONENT = 10;
  const MAX_NUMBER = 1e6;
  const RTOL = 1e-9;
  const FUNCTIONS = ["exp", "log", "tanh", "sqrt", "sigmoid", "σ"];
  const WORD = "A-Za-z0-9_\\u0370-\\u03ff";
  const TOKEN = new RegExp(
    "\\s*(?:((?:[0-9]+\\.?[0-9]*|\\.[0-9]+)(?:[eE][+-]?[0-9]+)?)" +
      `|([A-Za-z\\u0370-\\u03ff][${WORD}]*)` +
      `|(\\*\\*|\\^T|(?:\\.T|\\.sum|\\.mean)(?![${WORD}])|[-+*/@^(),=ᵀ·⊙×−]))`,
    "y",
  );
  const SAME = { "−": "-", "⊙": "*", "×": "*" };
  const KEEPDIM =
    "The numbers are right, but the shape is {got} where the answer is {want}: keep the " +
    "dimension (.sum(0, keepdim=True)), or reshape.";
  const DROPDIM =
    "The numbers are right, but the shape is {got} where the answer is {want}: leave out " +
    "keepdim=True, or reshape.";
  const BATCH_SUM =
    "Your formula gives one row per sample, and their sum is the answer: the parameter is " +
    "shared by every sample, so add up their contributions over the batch with .sum(0).";
  const WRONG_AXIS =
    "Your formula gives {got}, and the answer is {want}: the sum is over the wrong axis " +
    "(0 adds up the rows, 1 the entries of each row).";
  const WRONG_SHAPE =
    "Your formula gives {got}, and the answer is {want}: a gradient has the shape of what " +
    "it is taken with respect to.";

  class FormulaError extends Error {}
  const fail = (message) => {
    throw new FormulaError(message);
  };
  const q = (text) => `“${text}”`;

  // -- Reading ------------------------------------------------------------------------------

  const tokenize = (text) => {
    const found = [];
    let at = 0;
    while (at < text.length) {
      if (text.slice(at).trim() === "") break;
      TOKEN.lastIndex = at;
      const match = TOKEN.exec(text);
      if (!match || TOKEN.lastIndex === at) {
        const start = at + text.slice(at).length - text.slice(at).trimStart().length;
        fail(`${q(String.fromCodePoint(text.codePointAt(start)))} at position ${start + 1} is not part of a formula.`);
      }
      const kind = match[1] !== undefined ? "number" : match[2] !== undefined ? "name" : "op";
      const value = match[1] ?? match[2] ?? match[3];
      const start = match.index + match[0].length - value.length;
      found.push([kind, Object.hasOwn(SAME, value) ? SAME[value] : value, start + 1]);
      at = TOKEN.lastIndex;
    }
    found.push(["end", "", text.length + 1]);
    return found;
  };

  const parse = (text) => {
    if (typeof text !== "string") fail("A formula is text.");
    if (text.length > MAX_LENGTH) fail(`The formula is too long: at most ${MAX_LENGTH} characters.`);
    const tokens = tokenize(text);
    let at = 0;
    let depth = 0;
    const peek = () => tokens[at];
    const take = () => tokens[at++];
    const expect = (op, after) => {
      const [kind, value, position] = take();
      if (value !== op) {
        const got = kind === "end" ? "the end" : q(value);
        fail(`Expected ${q(op)} at position ${position} ${after}, found ${got}.`);
      }
    };
    const deeper = () => {
      depth += 1;
      if (depth > MAX_DEPTH) fail(`The formula is nested too deeply (more than ${MAX_DEPTH} levels).`);
    };
    const source = (start) => {
      const first = tokens[start][2] - 1;
      const last = tokens[at - 1];
      return text.slice(first, last[2] - 1 + last[1].length).trim();
    };
    const startsFactor = () => {
      const [kind, value] = peek();
      return kind === "number" || kind === "name" || value === "(";
    };

    const sum = () => {
      const start = at;
      let tree = product();
      while (["+", "-"].includes(peek()[1])) {
        const op = take()[1];
        tree = [op, tree, product(), source(start)];
      }
      return tree;
    };
    const product = () => {
      const start = at;
      let tree = unary();
      for (;;) {
        const value = peek()[1];
        let op;
        if (["*", "/", "@", "·"].includes(value)) {
          take();
          op = value === "·" ? "juxt" : value;
        } else if (startsFactor()) op = "juxt";
        else return tree;
        tree = [op, tree, unary(), source(start)];
      }
    };
    const unary = () => {
      const start = at;
      if (["-", "+"].includes(peek()[1])) {
        const sign = take()[1];
        deeper();
        const inner = unary();
        depth -= 1;
        return sign === "-" ? ["neg", inner, source(start)] : inner;
      }
      return power();
    };
    const power = () => {
      const start = at;
      const base = postfix();
      if (["**", "^"].includes(peek()[1])) {
        const [, op, position] = take();
        let negative = false;
        while (["-", "+"].includes(peek()[1])) negative = negative !== (take()[1] === "-");
        const [kind, value] = take();
        if (kind !== "number") fail(`After ${q(op)} at position ${position}, the exponent must be a number.`);
        const exponent = negative ? -Number(value) : Number(value);
        if (Math.abs(exponent) > MAX_EXPONENT) {
          fail(`The exponent ${value} at position ${position} is too large: powers up to ${MAX_EXPONENT} are read.`);
        }
        return ["**", base, ["number", exponent, value], source(start)];
      }
      return base;
    };
    const postfix = () => {
      const start = at;
      let tree = atom();
      for (;;) {
        const value = peek()[1];
        if ([".T", "ᵀ", "^T"].includes(value)) {
          take();
          tree = ["T", tree, source(start)];
        } else if ([".sum", ".mean"].includes(value)) {
          take();
          const [dim, keepdim] = reductionArguments(value);
          tree = ["reduce", value.slice(1), tree, dim, keepdim, source(start)];
        } else return tree;
      }
    };
    const reductionArguments = (method) => {
      expect("(", `after ${q(method)}`);
      let dim = null;
      let keepdim = false;
      while (peek()[1] !== ")") {
        let [kind, value, position] = take();
        let word = "dim";
        if (kind === "name" && ["dim", "axis", "keepdim"].includes(value)) {
          expect("=", `after ${q(value)}`);
          word = value;
          [kind, value, position] = take();
        }
        if (word === "keepdim") {
          if (!["True", "False"].includes(value)) fail(`keepdim is True or False (position ${position}).`);
          keepdim = value === "True";
        } else {
          let negative = false;
          if (value === "-") {
            negative = true;
            [kind, value, position] = take();
          }
          if (kind !== "number" || !["0", "1"].includes(value)) {
            fail(`${method}(…) takes the axis 0 (down the rows) or 1 (along each row), at position ${position}.`);
          }
          dim = negative ? -Number(value) : Number(value);
        }
        if (peek()[1] === ",") take();
      }
      take();
      return [dim, keepdim];
    };
    const atom = () => {
      const start = at;
      const [kind, value, position] = take();
      if (kind === "number") {
        const number = Number(value);
        if (number > MAX_NUMBER) fail(`The number ${value} at position ${position} is too large.`);
        return ["number", number, value];
      }
      if (kind === "name") {
        if (FUNCTIONS.includes(value) && peek()[1] === "(") {
          take();
          deeper();
          const inner = sum();
          depth -= 1;
          expect(")", `to close ${value}(`);
          return ["call", value, inner, source(start)];
        }
        return ["name", value, position, value];
      }
      if (value === "(") {
        deeper();
        const inner = sum();
        depth -= 1;
        expect(")", `to close the “(” at position ${position}`);
        return inner;
      }
      const got = kind === "end" ? "the end" : q(value);
      fail(`Expected a name, a number or “(” at position ${position}, found ${got}.`);
    };

    if (peek()[0] === "end") fail("Type a formula first.");
    const tree = sum();
    const [kind, value, position] = peek();
    if (kind !== "end") fail(`Unexpected ${q(value)} at position ${position}.`);
    return tree;
  };

  // -- Arrays of at most two axes ---------------------------------------------------------

  const array = (nested) => {
    if (!Array.isArray(nested)) return { shape: [], data: [nested] };
    if (!Array.isArray(nested[0])) return { shape: [nested.length], data: nested.slice() };
    return { shape: [nested.length, nested[0].length], data: nested.flat() };
  };
  const at2 = (shape, i, j) => (shape.length === 2 ? i * shape[1] + j : shape.length === 1 ? j : 0);
  const broadcasts = (a, b) => {
    for (let k = 1; k <= Math.min(a.length, b.length); k += 1) {
      const x = a[a.length - k];
      const y = b[b.length - k];
      if (x !== y && x !== 1 && y !== 1) return false;
    }
    return true;
  };
  const entrywise = (a, b, f) => {
    const rank = Math.max(a.shape.length, b.shape.length);
    const pad = (s) => [...Array(rank - s.length).fill(1), ...s];
    const [sa, sb] = [pad(a.shape), pad(b.shape)];
    const shape = sa.map((n, k) => Math.max(n, sb[k]));
    const [rows, cols] = rank === 2 ? shape : [1, rank === 1 ? shape[0] : 1];
    const data = [];
    const pick = (x, s, i, j) => {
      const ii = rank === 2 && s[0] === 1 ? 0 : i;
      const jj = s[rank - 1] === 1 ? 0 : j;
      return x.data[at2(x.shape, ii, jj)];
    };
    for (let i = 0; i < rows; i += 1) {
      for (let j = 0; j < cols; j += 1) data.push(f(pick(a, sa, i, j), pick(b, sb, i, j)));
    }
    return { shape, data };
  };
  const map = (a, f) => ({ shape: a.shape.slice(), data: a.data.map(f) });
  const transpose = (a) => {
    if (a.shape.length !== 2) return a;
    const [n, m] = a.shape;
    const data = [];
    for (let j = 0; j < m; j += 1) for (let i = 0; i < n; i += 1) data.push(a.data[i * m + j]);
    return { shape: [m, n], data };
  };
  const matmul = (a, b) => {
    const [n, k] = a.shape;
    const m = b.shape[1];
    const data = [];
    for (let i = 0; i < n; i += 1) {
      for (let j = 0; j < m; j += 1) {
        let total = 0;
        for (let r = 0; r < k; r += 1) total += a.data[i * k + r] * b.data[r * m + j];
        data.push(total);
      }
    }
    return { shape: [n, m], data };
  };
  const reduce = (a, method, dim, keepdim) => {
    const mean = method === "mean";
    const total = (values) => values.reduce((s, v) => s + v, 0) / (mean ? values.length : 1);
    if (dim === null || a.shape.length === 0) {
      const shape = dim === null && keepdim ? a.shape.map(() => 1) : dim === null ? [] : a.shape;
      return { shape, data: [total(a.data)] };
    }
    if (a.shape.length === 1) return { shape: keepdim ? [1] : [], data: [total(a.data)] };
    const axis = dim < 0 ? dim + 2 : dim;
    const [n, m] = a.shape;
    const data = [];
    const outer = axis === 0 ? m : n;
    for (let o = 0; o < outer; o += 1) {
      const values = [];
      for (let x = 0; x < (axis === 0 ? n : m); x += 1) {
        values.push(axis === 0 ? a.data[x * m + o] : a.data[o * m + x]);
      }
      data.push(total(values));
    }
    const shape = keepdim ? (axis === 0 ? [1, m] : [n, 1]) : [outer];
    return { shape, data };
  };
  const FUNCTION = {
    exp: Math.exp,
    log: Math.log,
    tanh: Math.tanh,
    sqrt: Math.sqrt,
    sigmoid: (x) => 1 / (1 + Math.exp(-x)),
  };

  const letter = (size, letters) => (Object.hasOwn(letters, String(size)) ? letters[String(size)] : String(size));
  const shapeWords = (shape, letters) => {
    const named = shape.map((size) => letter(size, letters));
    if (named.length === 0) return "a number";
    if (named.length === 1) return `a vector of ${named[0]} (one axis)`;
    return named.join("×");
  };

  const evaluate = (text, values, letters) => {
    const tree = parse(text);
    const words = (value) => shapeWords(value.shape, letters);
    const textOf = (node) => node[node.length - 1];
    const run = (node) => {
      const kind = node[0];
      if (kind === "number") return { shape: [], data: [node[1]] };
      if (kind === "name") {
        if (!values.has(node[1])) {
          const names = [...values.keys()].sort().join(", ");
          fail(`Unknown name ${q(node[1])} at position ${node[2]}: the names here are ${names}.`);
        }
        return values.get(node[1]);
      }
      if (kind === "neg") return map(run(node[1]), (x) => -x);
      if (kind === "T") return transpose(run(node[1]));
      if (kind === "call") {
        const name = node[1] === "σ" ? "sigmoid" : node[1];
        return map(run(node[2]), FUNCTION[name]);
      }
      if (kind === "reduce") {
        const [, method, inner, dim, keepdim] = node;
        const value = run(inner);
        const rank = value.shape.length;
        if (dim !== null && !(-rank <= dim && dim < Math.max(rank, 1))) {
          fail(`${textOf(inner)} is ${words(value)}: it has no axis ${dim} to ${method} over.`);
        }
        return reduce(value, method, dim, keepdim);
      }
      const left = run(node[1]);
      const right = run(node[2]);
      let op = kind;
      if (op === "juxt") {
        if (left.shape.length === 0 || right.shape.length === 0) op = "*";
        else {
          const matrix = left.shape.length === 2 && right.shape.length === 2 && left.shape[1] === right.shape[0];
          const entries = broadcasts(left.shape, right.shape);
          if (matrix && entries) {
            fail(`In ${textOf(node)}, a product could be the matrix product or entry by entry: write @ or * between the two.`);
          }
          if (!matrix && !entries) {
            fail(`${textOf(node[1])} is ${words(left)} and ${textOf(node[2])} is ${words(right)}: neither a matrix product nor a product entry by entry fits them. Is one of them transposed?`);
          }
          op = matrix ? "@" : "*";
        }
      }
      if (op === "@") {
        for (const [side, value] of [[textOf(node[1]), left], [textOf(node[2]), right]]) {
          if (value.shape.length !== 2) fail(`@ multiplies two matrices, and ${side} is ${words(value)}.`);
        }
        if (left.shape[1] !== right.shape[0]) {
          const inner = [left.shape[1], right.shape[0]].map((n) => letter(n, letters));
          fail(`${textOf(node[1])} is ${words(left)} and ${textOf(node[2])} is ${words(right)}, so ${textOf(node)} needs ${inner[0]} = ${inner[1]}: which one is transposed?`);
        }
        return matmul(left, right);
      }
      if (op === "**") return map(left, (x) => x ** node[2][1]);
      if (!broadcasts(left.shape, right.shape)) {
        fail(`${textOf(node[1])} is ${words(left)} and ${textOf(node[2])} is ${words(right)}: ${q(op)} works entry by entry, so their shapes must match (or one be a single row, column or number).`);
      }
      const f = { "+": (x, y) => x + y, "-": (x, y) => x - y, "*": (x, y) => x * y, "/": (x, y) => x / y }[op];
      return entrywise(left, right, f);
    };
    const result = run(tree);
    if (!result.data.every(Number.isFinite)) {
      fail("Your formula gives values that are not finite numbers here (too large, or a log or a division by zero).");
    }
    return result;
  };

  // -- The questions ----------------------------------------------------------------------

  const sameShape = (a, b) => a.shape.length === b.shape.length && a.shape.every((n, k) => n === b.shape[k]);
  const close = (got, want) =>
    sameShape(got, want) && got.data.every((x, k) => Math.abs(x - want.data[k]) <= RTOL * (1 + Math.abs(want.data[k])));
  const reshaped = (a, shape) => ({ shape, data: a.data });
  const otherAxis = (shape, wanted) => {
    if (shape.length !== 2 || wanted.length !== 2 || (wanted[0] === 1) === (wanted[1] === 1)) return false;
    const kept = wanted.indexOf(1);
    return shape[kept] !== 1 && shape[1 - kept] === 1;
  };

  const check = (form) => {
    const data = form.dataset;
    const letters = JSON.parse(data.letters);
    const names = JSON.parse(data.names);
    const answers = JSON.parse(data.answer).map(array);
    const slips = JSON.parse(data.slips).map(([message, values]) => [message, values.map(array)]);
    const typed = form.querySelector("input").value;
    let got;
    try {
      got = answers.map((_, draw) => {
        const values = new Map(Object.entries(names).map(([name, draws]) => [name, array(draws[draw])]));
        return evaluate(typed, values, letters);
      });
    } catch (error) {
      if (error instanceof FormulaError) return ["invalid", error.message];
      throw error;
    }
    const all = (f) => got.every((g, k) => f(g, answers[k], k));
    if (all(close)) return ["correct", CORRECT];
    for (const [message, values] of slips) {
      if (all((g, _, k) => close(g, values[k]))) return ["slip", `${NOT_QUITE} ${message}`];
    }
    const want = shapeWords(answers[0].shape, letters);
    const have = shapeWords(got[0].shape, letters);
    const fill = (words) => words.replace("{got}", have).replace("{want}", want);
    if (all((g, a) => g.data.length === a.data.length && close(reshaped(g, a.shape), a))) {
      return ["slip", `${NOT_QUITE} ${fill(got[0].shape.length > answers[0].shape.length ? DROPDIM : KEEPDIM)}`];
    }
    if (all((g, a) => g.shape.length === 2 && a.data.length === g.shape[1] && g.shape[0] !== 1 && close(reshaped(reduce(g, "sum", 0, false), a.shape), a))) {
      return ["slip", `${NOT_QUITE} ${BATCH_SUM}`];
    }
    if (otherAxis(got[0].shape, answers[0].shape)) return ["advice", `${NOT_QUITE} ${fill(WRONG_AXIS)}`];
    if (!sameShape(got[0], answers[0])) return ["advice", `${NOT_QUITE} ${fill(WRONG_SHAPE)}`];
    return ["advice", `${NOT_QUITE} ${data.advice}`];
  };

  // The tests compare this evaluator with the Python one on a corpus of formulas.
  window.formulas = {
    evaluate: (text, values, letters) => {
      try {
        const result = evaluate(text, new Map(Object.entries(values).map(([k, v]) => [k, array(v)])), letters);
        return { shape: result.shape, data: result.data };
      } catch (error) {
        if (error instanceof FormulaError) return { error: error.message };
        throw error;
      }
    },
  };

  // -- Sliders (chapters/sliders.py): the readout's formulas, recomputed as a slider moves --

  // Numbers written as Python writes them: sliders._number, and f"{value:g}" for a slider.
  const fourDecimals = (value) => {
    if (value !== 0 && Math.abs(value) < 1e-3) {
      return value.toExponential(3).replace(/e([+-])(\d)$/, "e$10$2");
    }
    return (value + 0).toFixed(4).replace(/^-(0\.0+)$/, "$1");
  };
  const general = (value) => {
    if (value === 0) return Object.is(value, -0) ? "-0" : "0";
    const [mantissa, power] = value.toExponential(5).split("e");
    const exponent = Number(power);
    const trim = (text) => (text.includes(".") ? text.replace(/0+$/, "").replace(/\.$/, "") : text);
    if (exponent < -4 || exponent >= 6) {
      const sign = exponent < 0 ? "-" : "+";
      return `${trim(mantissa)}e${sign}${String(Math.abs(exponent)).padStart(2, "0")}`;
    }
    return trim(value.toFixed(Math.max(0, 5 - exponent)));
  };

  const explore = (box) => {
    const data = box.dataset;
    const constants = JSON.parse(data.constants);
    const steps = JSON.parse(data.steps);
    const formulas = JSON.parse(data.formulas);
    const inputs = [...box.querySelectorAll("input[type='range']")];
    const caption = box.querySelector("caption");
    const cells = new Map([...box.querySelectorAll("tr")].map((row) => [row.querySelector("th").textContent, row.querySelector("td")]));
    const update = () => {
      const names = new Map(Object.entries(constants).map(([name, value]) => [name, array(value)]));
      for (const input of inputs) names.set(input.name, { shape: [], data: [Number(input.value)] });
      try {
        for (const [name, formula] of steps) names.set(name, evaluate(formula, names, {}));
        for (const [label, formula] of formulas) {
          cells.get(label).textContent = fourDecimals(evaluate(formula, names, {}).data[0]);
        }
      } catch (error) {
        if (!(error instanceof FormulaError)) throw error;
        for (const [label] of formulas) cells.get(label).textContent = "not a number";
      }
      caption.textContent = inputs.map((input) => `${input.name} = ${general(Number(input.value))}`).join(", ");
    };
    box.addEventListener("input", update);
  };
  document.querySelectorAll("div.explore[data-kind='explore']").forEach(explore);

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("form.question[data-kind='formula']")) return;
    event.preventDefault();
    const [verdict, message] = check(form);
    form.dataset.verdict = verdict;
    form.querySelector(".question-feedback").textContent = message;
  });
})();
