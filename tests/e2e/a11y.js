// Basic accessibility checks of the current page (run by tests/e2e/conftest.py): every form control has a label,
// images have alt text, links and buttons have names, the page has a language and a heading, and visible text
// meets WCAG AA contrast (4.5:1, or 3:1 for large text).  Returns a list of problems (empty when fine).
() => {
  const problems = [];
  const visible = (el) => !!(el.offsetWidth || el.offsetHeight || el.getClientRects().length);
  for (const el of document.querySelectorAll("input:not([type=hidden]), select, textarea")) {
    const id = el.id;
    const labelled = (id && document.querySelector(`label[for="${CSS.escape(id)}"]`)) || el.closest("label")
      || el.getAttribute("aria-label") || el.getAttribute("aria-labelledby") || el.getAttribute("title");
    if (!labelled) problems.push("form control without a label: " + el.outerHTML.slice(0, 140));
  }
  for (const img of document.querySelectorAll("img")) {
    if (!img.hasAttribute("alt")) problems.push("image without alt: " + img.outerHTML.slice(0, 140));
  }
  for (const el of document.querySelectorAll("a[href], button")) {
    if (!visible(el)) continue;
    const name = (el.innerText || "").trim() || el.getAttribute("aria-label") || el.getAttribute("title")
      || (el.querySelector("img[alt]") && el.querySelector("img[alt]").getAttribute("alt"));
    if (!name) problems.push("link or button without a name: " + el.outerHTML.slice(0, 140));
  }
  if (!document.documentElement.lang) problems.push("the page has no lang attribute");
  if (!document.querySelector("h1")) problems.push("the page has no h1");
  const ids = new Set();
  for (const el of document.querySelectorAll("[id]")) {
    if (ids.has(el.id)) problems.push("duplicate id: " + el.id);
    ids.add(el.id);
  }
  const rgb = (s) => {
    const m = s.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[ ,/]+/).filter(Boolean).map(parseFloat);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const lum = (c) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(c.r) + 0.7152 * f(c.g) + 0.0722 * f(c.b);
  };
  const background = (el) => {
    for (let e = el; e; e = e.parentElement) {
      const c = rgb(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0.5) return c;
    }
    return { r: 255, g: 255, b: 255, a: 1 };
  };
  for (const el of document.querySelectorAll("body *")) {
    if (!visible(el) || el.closest("svg") || el.closest("[disabled], [aria-disabled=true]")) continue;
    const text = Array.from(el.childNodes).filter((n) => n.nodeType === 3).map((n) => n.textContent).join("").trim();
    if (!text) continue;
    const st = getComputedStyle(el);
    if (st.visibility === "hidden" || parseFloat(st.opacity) < 0.5) continue;
    const fg = rgb(st.color);
    if (!fg) continue;
    const l1 = lum(fg), l2 = lum(background(el));
    const ratio = (Math.max(l1, l2) + 0.05) / (Math.min(l1, l2) + 0.05);
    const size = parseFloat(st.fontSize), bold = parseInt(st.fontWeight, 10) >= 700;
    const large = size >= 24 || (size >= 18.66 && bold);
    if (ratio < (large ? 3 : 4.5)) problems.push(`low contrast ${ratio.toFixed(2)}: <${el.tagName.toLowerCase()}> "${text.slice(0, 40)}"`);
  }
  return problems;
}
