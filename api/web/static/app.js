/* Qianfan pages: small progressive enhancements.  Every page works without this script; it adds live countdowns,
   confirmations, the phone menu, progress bars of background jobs and side-by-side selection. */
"use strict";
(function () {
  const zh = document.documentElement.lang !== "en";
  const say = (cn, en) => (zh ? cn : en);

  // Phone menu.
  const toggle = document.querySelector(".nav-toggle");
  const nav = document.getElementById("mainnav");
  if (toggle && nav) {
    toggle.addEventListener("click", () => {
      const open = nav.classList.toggle("open");
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
    });
  }

  // Confirmation before destructive or money-moving buttons (data-confirm="question").
  document.addEventListener("submit", (event) => {
    const button = event.submitter;
    const question = button && button.getAttribute("data-confirm");
    if (question && !window.confirm(question)) {
      event.preventDefault();
      return;
    }
    if (button && !button.hasAttribute("data-no-busy")) {
      // One click, one request: a second click while the first is under way does nothing.
      window.setTimeout(() => { button.setAttribute("aria-disabled", "true"); button.disabled = true; }, 0);
    }
  });

  // Countdowns to a deadline: <time data-deadline="ISO">; under 12 hours is at risk, past it is breached.
  const AT_RISK_MS = 12 * 3600 * 1000;
  function fmt(ms) {
    const total = Math.floor(Math.abs(ms) / 60000);
    const h = Math.floor(total / 60), m = total % 60;
    return zh ? `${h} 小时 ${m} 分` : `${h} h ${m} min`;
  }
  function tick() {
    const now = Date.now();
    document.querySelectorAll("[data-deadline]").forEach((el) => {
      const due = Date.parse(el.getAttribute("data-deadline"));
      if (Number.isNaN(due)) return;
      const left = due - now;
      el.classList.toggle("breached", left < 0);
      el.classList.toggle("at-risk", left >= 0 && left < AT_RISK_MS);
      el.textContent = left < 0 ? say(`已超时 ${fmt(left)}`, `overdue by ${fmt(left)}`) : say(`剩余 ${fmt(left)}`, `${fmt(left)} left`);
    });
  }
  if (document.querySelector("[data-deadline]")) { tick(); window.setInterval(tick, 30000); }

  // Progress of a background job: <div data-job="/jobs/ID"> with a <progress> and a message.
  document.querySelectorAll("[data-job]").forEach((box) => {
    const bar = box.querySelector("progress");
    const msg = box.querySelector(".job-message");
    const url = box.getAttribute("data-job");
    let delay = 700;
    async function poll() {
      try {
        const res = await fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin" });
        if (!res.ok) { msg.textContent = say("无法读取进度，请刷新页面", "Could not read the progress; reload the page"); return; }
        const job = await res.json();
        if (job.percent !== null && bar) bar.value = job.percent;
        if (msg) msg.textContent = job.message || (job.status === "queued" ? say("排队中…", "Queued…") : say("处理中…", "Working…"));
        box.setAttribute("data-status", job.status);
        if (job.finished) {
          if (job.status === "succeeded" && bar) bar.value = 100;
          const done = box.getAttribute("data-reload");
          if (done && job.status === "succeeded") window.location.assign(done);
          return;
        }
      } catch (e) {
        if (msg) msg.textContent = say("网络中断，正在重试…", "Connection lost, retrying…");
      }
      delay = Math.min(delay * 1.4, 5000);
      window.setTimeout(poll, delay);
    }
    poll();
  });

  // Side-by-side comparison: at most 4 boxes named "compare" may be ticked.
  const boxes = document.querySelectorAll('input[type="checkbox"][data-compare]');
  if (boxes.length) {
    const limit = 4;
    const update = () => {
      const ticked = Array.from(boxes).filter((b) => b.checked).length;
      boxes.forEach((b) => { b.disabled = !b.checked && ticked >= limit; });
      const out = document.querySelector("[data-compare-count]");
      if (out) out.textContent = String(ticked);
    };
    boxes.forEach((b) => b.addEventListener("change", update));
    update();
  }
})();
