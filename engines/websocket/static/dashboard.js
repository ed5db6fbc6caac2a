// The desk's dashboard: engine states from /api/engines (once a second), alerts, orders, PnL and
// quotes from the WebSocket engine's stream, recent history from /api/desk on every (re)connect.
// Plain DOM, no framework, no build step, nothing loaded from elsewhere.
"use strict";

const E9 = 1e9;
const FEED_LIMIT = 100;
const ALERT_TYPES = new Set([
  "nautilus.vpin.v1.FlashCrashWarning",
  "nautilus.vpin.v1.ToxicityAlert",
  "nautilus.collateral.v1.MarginAlert",
]);

const state = {
  seen: new Set(),          // "<sequence>:<tsInit>" of frames shown (history and live overlap)
  latenciesMs: [],          // publish -> this page, live alerts only
  counts: { flash: 0, toxicity: 0, orders: 0 },
  socket: null,
  retryMs: 500,
  accountPnlSeen: false,    // the PnL tile follows the live account PnL once one has arrived
};

function $(id) { return document.getElementById(id); }

function nowNs() { return (performance.timeOrigin + performance.now()) * 1e6; }

function clock(ns) {
  const date = new Date(Number(ns) / 1e6);
  return date.toISOString().slice(11, 23);
}

function money(e9, currency) {
  const value = Number(e9 || 0) / E9;
  return value.toLocaleString(undefined, { minimumFractionDigits: 2, maximumFractionDigits: 2 })
    + (currency ? " " + currency : "");
}

function item(list, cls, timeNs, text) {
  const li = document.createElement("li");
  if (cls) li.className = cls;
  const time = document.createElement("span");
  time.className = "time";
  time.textContent = clock(timeNs);
  li.append(time, document.createTextNode(text));
  list.prepend(li);
  while (list.children.length > FEED_LIMIT) list.lastChild.remove();
}

function setConnection(label, cls) {
  const pill = $("connection");
  pill.textContent = label;
  pill.dataset.state = label;
  pill.className = "pill " + cls;
}

function percentile(values, p) {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))];
}

function recordLatency(payload) {
  if (!payload.tsInit) return;
  const ms = (nowNs() - Number(payload.tsInit)) / 1e6;
  state.latenciesMs.push(ms);
  if (state.latenciesMs.length > 1000) state.latenciesMs.shift();
  $("tile-latency").textContent = ms.toFixed(1) + " ms";
  $("tile-latency-detail").textContent =
    `median ${percentile(state.latenciesMs, 0.5).toFixed(1)} ms, ` +
    `p99 ${percentile(state.latenciesMs, 0.99).toFixed(1)} ms over ${state.latenciesMs.length}`;
}

function onAlert(frame, live) {
  const p = frame.payload;
  const type = frame.sourceType.split(".").pop();
  if (live) recordLatency(p);
  if (type === "FlashCrashWarning") {
    state.counts.flash += 1;
    const drop = Number(p.priceDropBps || 0).toFixed(0);
    const detail = `${p.instrumentId}: price down ${drop} bps, VPIN ${Number(p.vpin || 0).toFixed(3)}, ` +
      `severity ${(p.severity || "").replace("SEVERITY_", "")} at ${clock(p.tsInit || frame.tsInit)}`;
    $("flash-crash-detail").textContent = detail;
    $("flash-crash").hidden = false;
    item($("alerts"), "flash", p.tsInit || frame.tsInit, "Flash-crash warning, " + detail);
  } else if (type === "ToxicityAlert") {
    state.counts.toxicity += 1;
    item($("alerts"), (p.severity || "").includes("CRITICAL") ? "critical" : "", p.tsInit || frame.tsInit,
      `Toxicity ${p.instrumentId}: VPIN ${Number(p.vpin || 0).toFixed(3)} (CDF ${Number(p.vpinCdf || 0).toFixed(2)})`);
  } else {
    item($("alerts"), "critical", p.tsInit || frame.tsInit,
      `Margin ${p.accountId}: utilization ${(100 * Number(p.utilization || 0)).toFixed(0)}% ${p.reason || ""}`);
  }
  $("tile-flash").textContent = state.counts.flash;
  $("tile-toxicity").textContent = state.counts.toxicity;
}

function onOrder(frame) {
  const p = frame.payload;
  state.counts.orders += 1;
  $("tile-orders").textContent = state.counts.orders;
  const side = (p.side || "").replace("ORDER_SIDE_", "");
  const price = p.limitPriceE9 ? " @ " + money(p.limitPriceE9) : "";
  item($("orders"), "", p.tsInit || frame.tsInit,
    `${side} ${Number(p.quantityE9 || 0) / E9} ${p.instrumentId}${price}${p.reduceOnly ? " (reduce)" : ""}`);
}

function row(table, key, cells) {
  const body = table.tBodies[0];
  let tr = body.querySelector(`tr[data-key="${CSS.escape(key)}"]`);
  if (!tr) {
    tr = document.createElement("tr");
    tr.dataset.key = key;
    body.append(tr);
  }
  tr.replaceChildren(...cells.map(([text, cls]) => {
    const td = document.createElement("td");
    td.textContent = text;
    if (cls) td.className = cls;
    return td;
  }));
  return tr;
}

function onPnl(frame) {
  const p = frame.payload;
  const scope = [p.accountId, p.strategyId, p.instrumentId].filter(Boolean).join(" / ");
  row($("pnl"), scope, [[scope], [money(p.totalPnlE9, p.currency), "num"],
    [money(p.realizedPnlE9), "num"]]);
  if (!p.strategyId && !p.instrumentId) {
    state.accountPnlSeen = true;
    $("tile-pnl").textContent = money(p.totalPnlE9, p.currency);
  }
}

function onQuote(frame) {
  const p = frame.payload;
  row($("quotes"), p.instrumentId, [[p.instrumentId], [money(p.bidPriceE9), "num"], [money(p.askPriceE9), "num"]]);
}

function onFrame(frame, live) {
  if (frame.sourceType === "nautilus.marketdata.v1.Quote") return onQuote(frame);
  // Desk frames come live and again in the history: shown once. A restarted engine numbers from
  // 1 again, so its creation time tells its updates apart.
  const key = `${frame.sequence}:${frame.tsInit}`;
  if (state.seen.has(key)) return;
  state.seen.add(key);
  if (ALERT_TYPES.has(frame.sourceType)) onAlert(frame, live);
  else if (frame.sourceType === "nautilus.strategy.v1.OrderRequest") onOrder(frame);
  else if (frame.sourceType === "nautilus.portfolio.v1.PnlUpdate") onPnl(frame);
}

async function loadHistory() {
  try {
    const answer = await fetch("api/desk", { cache: "no-store" });
    const desk = await answer.json();
    for (const frame of desk.frames) onFrame(frame, false);
  } catch (error) { /* the engine is restarting: the next reconnect tries again */ }
}

function connect() {
  const scheme = location.protocol === "https:" ? "wss:" : "ws:";
  const socket = new WebSocket(`${scheme}//${location.host}/`);
  state.socket = socket;
  setConnection("connecting", "pill-wait");
  socket.onopen = () => {
    state.retryMs = 500;
    setConnection("live", "pill-ok");
    loadHistory();
  };
  socket.onmessage = (event) => onFrame(JSON.parse(event.data), true);
  socket.onclose = () => {
    setConnection("reconnecting", "pill-bad");
    setTimeout(connect, state.retryMs);
    state.retryMs = Math.min(state.retryMs * 2, 5000);
  };
}

function rate(value) { return value === null || value === undefined ? "–" : value.toFixed(0); }

async function refreshEngines() {
  try {
    const answer = await fetch("api/engines", { cache: "no-store" });
    const snapshot = await answer.json();
    for (const engine of snapshot.engines) {
      const status = engine.status;
      const tr = row($("engines"), engine.engine, [
        [engine.engine], [status, "status-" + status.replace(/ /g, "-")],
        [rate(engine.consumed_per_s), "num"], [rate(engine.published_per_s), "num"],
        [engine.lag === undefined ? "–" : String(engine.lag), "num"],
        [engine.errors === undefined ? "–" : String(engine.errors), "num"],
        [engine.port === null ? "–" : String(engine.port), "num"]]);
      tr.dataset.engine = engine.engine;
      tr.dataset.status = status;
    }
    const desk = snapshot.desk || {};
    if (desk.market_time_ns) $("market-time").textContent = "market " + clock(desk.market_time_ns);
    if (!state.accountPnlSeen && desk.pnl && desk.pnl.total !== undefined) {
      $("tile-pnl").textContent = Number(desk.pnl.total).toFixed(2) + " " + (desk.pnl.currency || "");
    }
  } catch (error) { /* shown by the connection pill; retried next second */ }
}

connect();
refreshEngines();
setInterval(refreshEngines, 1000);
