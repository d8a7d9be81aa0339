// Hall console: live regions refreshed on server-sent events (polling every 5 s while the stream is down),
// the audit check's progress, the print button. No inline script anywhere (the CSP forbids it).
"use strict";
(function () {
  const regions = () => Array.from(document.querySelectorAll("[data-live]"));
  const seen = new Map();  // region id -> keys already shown (new rows flash)
  const live = document.getElementById("live");

  function keysOf(el) { return new Set(Array.from(el.querySelectorAll("[data-key]")).map(e => e.dataset.key)); }
  regions().forEach(el => seen.set(el.id, keysOf(el)));

  function busy(el) {  // never wipe a note someone is typing
    const a = document.activeElement;
    if (a && el.contains(a) && (a.tagName === "INPUT" || a.tagName === "SELECT")) return true;
    return Array.from(el.querySelectorAll("input[name=note]")).some(i => i.value.trim() !== "");
  }

  async function refresh(el) {
    if (busy(el)) { el.dataset.stale = "1"; return; }
    let resp;
    try { resp = await fetch(el.dataset.src, { credentials: "same-origin", cache: "no-store" }); }
    catch (e) { return; }
    if (resp.status === 401) { window.location.reload(); return; }
    if (!resp.ok) return;
    const html = await resp.text();
    if (busy(el)) { el.dataset.stale = "1"; return; }
    el.innerHTML = html;
    delete el.dataset.stale;
    const before = seen.get(el.id) || new Set();
    const now = keysOf(el);
    el.querySelectorAll("[data-key]").forEach(e => { if (!before.has(e.dataset.key)) e.classList.add("new"); });
    seen.set(el.id, now);
    el.dispatchEvent(new CustomEvent("refreshed", { bubbles: true }));
  }

  document.addEventListener("focusout", () => {
    setTimeout(() => regions().forEach(el => { if (el.dataset.stale && !busy(el)) refresh(el); }), 50);
  });

  // Help requests: a badge on "Tasks" on every page, and a chime when a new one arrives. The chime is made by
  // Web Audio (no sound file to serve); a browser that holds sound back until a click gets a button for it.
  const badge = document.getElementById("help-badge");
  const soundOn = document.getElementById("sound-on");
  const state = window.hallConsole = { chimes: 0, missed: 0, help: [] };
  let audio = null, known = null;
  function chime() {
    try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    if (audio.state !== "running") {
      state.missed += 1;
      if (soundOn) soundOn.classList.remove("hidden");
      audio.resume().catch(() => {});
      return;
    }
    const t0 = audio.currentTime;
    [[880, 0], [660, 0.3]].forEach(([hz, at]) => {  // two falling tones, like a door chime
      const osc = audio.createOscillator(), gain = audio.createGain();
      osc.frequency.value = hz;
      gain.gain.setValueAtTime(0.25, t0 + at);
      gain.gain.exponentialRampToValueAtTime(0.001, t0 + at + 0.28);
      osc.connect(gain).connect(audio.destination);
      osc.start(t0 + at); osc.stop(t0 + at + 0.3);
    });
    state.chimes += 1;
  }
  if (soundOn) soundOn.addEventListener("click", () => {
    try { audio = audio || new (window.AudioContext || window.webkitAudioContext)(); } catch (e) { return; }
    audio.resume().then(() => { soundOn.classList.add("hidden"); chime(); });
  });
  async function helpCheck() {
    if (!badge) return;
    let ids;
    try {
      const resp = await fetch("/tasks/help.json", { credentials: "same-origin", cache: "no-store" });
      if (!resp.ok) return;
      ids = (await resp.json()).open;
    } catch (e) { return; }
    state.help = ids;
    badge.textContent = ids.length ? String(ids.length) : "";
    badge.classList.toggle("hidden", !ids.length);
    const fresh = known === null ? [] : ids.filter(id => !known.has(id));  // those already open at load: no chime
    known = new Set(ids);
    if (fresh.length) chime();
  }
  helpCheck();

  let fallback = null;
  function setLive(on) {
    if (!live) return;
    live.classList.toggle("on", on); live.classList.toggle("off", !on);
    live.textContent = on ? live.dataset.on : live.dataset.off;
    if (on && fallback) { clearInterval(fallback); fallback = null; }
    if (!on && !fallback && (regions().length || badge)) {
      fallback = setInterval(() => { regions().forEach(refresh); helpCheck(); }, 5000);
    }
  }

  if (live && !regions().length) live.classList.add("hidden");  // nothing on this page to keep live
  if (live && (regions().length || badge)) {
    if (window.EventSource) {
      const es = new EventSource("/events");
      es.addEventListener("open", () => setLive(true));
      es.addEventListener("error", () => setLive(false));
      es.addEventListener("change", ev => {
        setLive(true);
        const topics = JSON.parse(ev.data).topics;
        regions().forEach(el => { if (topics.includes(el.dataset.live)) refresh(el); });
        if (topics.includes("tasks")) helpCheck();
      });
    } else { setLive(false); }
  }

  // The audit chain check: progress while it runs.
  const vt = document.getElementById("verify-text");
  if (vt) {
    const bar = document.getElementById("verify-progress"), btn = document.getElementById("verify-start");
    async function poll() {
      let st;
      try { st = await (await fetch("/audit/verify.json", { credentials: "same-origin", cache: "no-store" })).json(); }
      catch (e) { setTimeout(poll, 2000); return; }
      vt.textContent = st.text; vt.dataset.state = st.state; vt.className = "verify-" + st.state;
      bar.max = Math.max(st.total, 1); bar.value = st.checked;
      bar.classList.toggle("hidden", st.state !== "running");
      if (btn) btn.disabled = st.state === "running";
      if (st.state === "running") setTimeout(poll, 500);
    }
    poll();
  }

  const pr = document.getElementById("print");
  if (pr) pr.addEventListener("click", () => window.print());
})();
