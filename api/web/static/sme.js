/* The SME's finance wizard: the live maximum.  As the amount or the product changes, the same quote the page shows
   is asked for again (GET /sme/finance/quote) and the maximum, each cap and the message are updated.  Without this
   script the "Recalculate" button does the same through the page. */
"use strict";
(function () {
  const form = document.getElementById("quote-form");
  if (!form) return;
  const zh = document.documentElement.lang !== "en";
  const say = (cn, en) => (zh ? cn : en);
  const amount = document.getElementById("f-amount");
  const product = document.getElementById("f-product");
  const max = document.getElementById("quote-max");
  const binding = document.getElementById("quote-binding");
  const message = document.getElementById("quote-message");
  const caps = document.getElementById("quote-caps");
  const part = form.querySelector("input[name=part]").value;
  let timer = null;
  let asked = 0;

  function show(q) {
    max.textContent = q.ok ? q.max_text : "—";
    binding.textContent = q.ok ? say("受限于：", "Limited by the ") + say(q.binding_zh, q.binding_en) : "";
    const text = q.message_zh ? say(q.message_zh, q.message_en) : (q.amount_ok ? say("金额在可申请范围内", "The amount is within the maximum") : "");
    message.textContent = text;
    message.className = q.message_zh ? "error" : "muted";
    amount.closest(".field").classList.toggle("has-error", Boolean(q.message_zh));
    caps.replaceChildren();
    (q.caps || []).forEach((c) => {
      const tr = document.createElement("tr");
      if (c.binding) tr.className = "row-at-risk";
      const name = document.createElement("td");
      name.textContent = say(c.zh, c.en);
      if (c.binding) {
        const badge = document.createElement("span");
        badge.className = "badge badge-warn";
        badge.textContent = say("约束", "binding");
        name.append(" ", badge);
      }
      const value = document.createElement("td");
      value.className = "num";
      value.textContent = c.text;
      tr.append(name, value);
      caps.append(tr);
    });
    form.setAttribute("data-quoted", String(asked));
  }

  async function ask() {
    const n = ++asked;
    const query = new URLSearchParams({ part: part, product: product.value, amount: amount.value.trim() });
    try {
      const res = await fetch(form.getAttribute("data-quote") + "?" + query.toString(), {
        headers: { Accept: "application/json" }, credentials: "same-origin",
      });
      if (!res.ok || n !== asked) return;
      show(await res.json());
    } catch (e) {
      message.textContent = say("网络中断，请点击“重新计算”", "Connection lost; use Recalculate");
    }
  }

  function later() {
    window.clearTimeout(timer);
    timer = window.setTimeout(ask, 250);
  }
  amount.addEventListener("input", later);
  product.addEventListener("change", ask);
})();
