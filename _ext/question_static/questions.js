// "Check yourself" questions (chapters/questions.py): checks the reader's answer in the
// page, with the same rules and words as the module's Question.check. One listener
// for every question on the page; nothing is fetched.
(() => {
  "use strict";
  const CORRECT = "Correct.";
  const NOT_QUITE = "Not quite.";
  const NOT_A_NUMBER = "Type a number, such as 2.5, −0.5, 1/4 or 1e-3 (with a point for decimals).";
  const NO_CHOICE = "Pick one of the options first.";
  const NUMBER = /^[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?$/;
  const MINUSES = /[\u2212\u2012\u2013\ufe63\uff0d]/g;

  const FRACTION = /\s*\/\s*/;

  const parse = (text) => {
    const parts = text.trim().replace(MINUSES, "-").split(FRACTION);
    if (parts.length > 2 || !parts.every((part) => NUMBER.test(part))) return null;
    const [top, bottom] = parts.map(Number);
    if (bottom === 0) return null;
    const number = parts.length === 2 ? top / bottom : top;
    return Number.isFinite(number) ? number : null;
  };

  const check = (form) => {
    const data = form.dataset;
    const slips = JSON.parse(data.slips);
    let same;
    if (data.kind === "number") {
      const typed = parse(form.querySelector("input").value);
      if (typed === null) return ["invalid", NOT_A_NUMBER];
      const tolerance = 0.5 * 10 ** -Number(data.decimals);
      same = (value) => Math.abs(typed - Number(value)) <= tolerance * (1 + 1e-9);
    } else {
      const picked = form.querySelector("input:checked");
      if (!picked) return ["invalid", NO_CHOICE];
      same = (value) => Number(picked.value) === Number(value);
    }
    if (same(data.answer)) return ["correct", CORRECT];
    for (const [value, message] of slips) {
      if (same(value)) return ["slip", `${NOT_QUITE} ${message}`];
    }
    return ["advice", `${NOT_QUITE} ${data.advice}`];
  };

  document.addEventListener("submit", (event) => {
    const form = event.target;
    if (!form.matches("form.question") || form.dataset.kind === "formula") return;
    event.preventDefault();
    const [verdict, message] = check(form);
    form.dataset.verdict = verdict;
    form.querySelector(".question-feedback").textContent = message;
  });
})();
