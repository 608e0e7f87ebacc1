// jitgate: small progressive enhancements. The pages work without this script.
"use strict";

function formatLeft(ms) {
  if (ms <= 0) return "ended";
  const s = Math.floor(ms / 1000);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
  const parts = [];
  if (h > 0) parts.push(h + "h");
  if (h > 0 || m > 0) parts.push(m + "m");
  parts.push(sec + "s");
  return parts.join(" ") + " left";
}

function tick() {
  const now = Date.now();
  for (const el of document.querySelectorAll("time.countdown")) {
    const end = Date.parse(el.getAttribute("datetime"));
    if (!Number.isNaN(end)) {
      el.textContent = formatLeft(end - now);
      el.classList.toggle("soon", end - now < 5 * 60 * 1000);
    }
  }
}

document.addEventListener("DOMContentLoaded", () => {
  tick();
  for (const button of document.querySelectorAll("button[data-print]")) {
    button.addEventListener("click", () => window.print());
  }
  setInterval(tick, 1000);
  for (const form of document.querySelectorAll("form.package")) {
    const select = form.querySelector("select[name=duration_minutes]");
    const custom = form.querySelector(".custom");
    if (select && custom) {
      const sync = () => { custom.hidden = select.value !== "custom"; };
      select.addEventListener("change", sync);
      sync();
    }
    form.addEventListener("submit", () => {
      const tz = form.querySelector("input[name=tz_offset]");
      if (tz) tz.value = String(new Date().getTimezoneOffset());
    });
  }
});
