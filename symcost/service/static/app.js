// The estimator's web page: four modes over the /v1 JSON API, no framework, no build step.
// Every scenario (mode + inputs) lives in the URL hash, so a copied address reproduces it.
"use strict";

(() => {
  const MODES = ["target", "hardware", "whatif", "selfspec"];
  const SVG_NS = "http://www.w3.org/2000/svg";
  const catalogs = {};          // kind -> list of entries, from /v1/catalog/<kind>
  let examples = {};            // selfspec example name -> {model, hardware, stats}
  let currentMode = "target";

  const DEFAULTS = {
    target: { model: "llama-3.1-70b", runtime: "llama.cpp" },
    hardware: { hw: "rtx-4090", model: "llama-3.1-8b", runtime: "llama.cpp", quant: "q4_k_m" },
    whatif: {
      model: "llama-3.1-70b",
      cols: [
        { hw: "2x-rtx-4090", runtime: "llama.cpp", quant: "q4_k_m", tp: "1", pp: "2" },
        { hw: "rtx-6000-ada", runtime: "vllm", quant: "awq-int4", tp: "1", pp: "1" },
        { hw: "apple-m3-ultra-512gb", runtime: "mlx", quant: "mlx-4bit", tp: "1", pp: "1" },
      ],
    },
  };

  const FEASIBILITY = {
    in_vram: "the model and its KV cache fit in device memory",
    with_offload: "runs, with part of the weights in host RAM",
    insufficient_memory: "does not fit, even with offload",
  };
  const ESTIMATES = {  // response key -> [label, unit]
    decode_toks_sec: ["Decode, all sequences", "tok/s"],
    decode_toks_sec_per_sequence: ["Decode, per sequence", "tok/s"],
    output_toks_sec: ["Output, whole request", "tok/s"],
    prefill_toks_sec: ["Prefill", "tok/s"],
    ttft_ms: ["Time to first token", "ms"],
    latency_ms: ["Request latency", "ms"],
    vram_peak_gb: ["VRAM peak", "GB"],
    ram_peak_gb: ["Host RAM peak", "GB"],
    power_w: ["Power at rated figures (upper bound)", "W"],
    energy_per_token_j: ["Energy per generated token (at rated power)", "J"],
  };
  const MEMORY_PARTS = {
    weights_gb: "Weights", kv_cache_gb: "KV cache", activations_gb: "Activations",
    runtime_buffers_gb: "Runtime buffers", fragmentation_reserve_gb: "Fragmentation reserve",
  };
  const MEMORY_OTHER = {
    total_gb: "Total", per_device_need_gb: "Needed per device", per_device_usable_gb: "Usable per device",
    offloaded_weights_gb: "Weights offloaded to host", vram_peak_gb: "VRAM peak", ram_peak_gb: "Host RAM peak",
  };
  const COEFFICIENTS = {
    eta_bw: "achieved share of the peak memory bandwidth in decode",
    eta_flops: "achieved share of the peak FLOP rate",
    t0_ms: "fixed host time of one forward pass (graph set-up, sampling), ms",
    t_layer_us: "fixed time of each layer in a forward pass (kernel launches, synchronisations), us",
    kappa_bw: "bandwidth efficiency of dequantizing formats relative to plain ones",
    kappa_flops: "compute efficiency of dequantizing formats relative to plain ones",
  };
  const COLOURS = {
    memory_bandwidth: "#2f6db5", compute: "#c0504d", pcie_bandwidth: "#e39b25", offload_bandwidth: "#e39b25",
    interconnect: "#7d5ba6", fixed_overhead: "#7f8c8d",
    weights_gb: "#2f6db5", kv_cache_gb: "#3a9b6b", activations_gb: "#e39b25", runtime_buffers_gb: "#7d5ba6",
    fragmentation_reserve_gb: "#7f8c8d",
  };
  const SPARE_COLOURS = ["#b5487a", "#4aa3a8", "#8a7b2d", "#555"];

  // ------------------------------------------------------------------ small helpers

  const $ = (selector, root = document) => root.querySelector(selector);
  const $$ = (selector, root = document) => Array.from(root.querySelectorAll(selector));

  /** An element; attrs: class, text, or any attribute; children: nodes or strings. */
  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    setAttrs(node, attrs);
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined && child !== false) {
        node.append(child instanceof Node ? child : String(child));
      }
    }
    return node;
  }

  function svg(tag, attrs = {}, ...children) {
    const node = document.createElementNS(SVG_NS, tag);
    setAttrs(node, attrs);
    for (const child of children.flat(Infinity)) {
      if (child !== null && child !== undefined) node.append(child instanceof Node ? child : String(child));
    }
    return node;
  }

  function setAttrs(node, attrs) {
    for (const [key, value] of Object.entries(attrs)) {
      if (value === null || value === undefined || value === false) continue;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.setAttribute("class", value);
      else if (key === "style" && typeof value === "object") Object.assign(node.style, value);
      else node.setAttribute(key, value === true ? "" : value);
    }
  }

  /** A number with three significant digits and thousands separators; "–" when missing. */
  function fmt(x, digits = 3) {
    if (x === null || x === undefined || !Number.isFinite(x)) return "–";
    if (Math.abs(x) >= 1000) return Math.round(x).toLocaleString("en-US");
    return Number(x.toPrecision(digits)).toLocaleString("en-US", { maximumSignificantDigits: digits });
  }

  /** A value in SI-prefixed units (J, s): 5.96e-5 J -> "59.6 µJ". */
  function si(x, unit) {
    if (!Number.isFinite(x)) return "–";
    if (x === 0) return `0 ${unit}`;
    const prefixes = [[1e-12, "p"], [1e-9, "n"], [1e-6, "µ"], [1e-3, "m"], [1, ""], [1e3, "k"], [1e6, "M"]];
    let chosen = prefixes[0];
    for (const prefix of prefixes) if (Math.abs(x) >= prefix[0] * 0.9995) chosen = prefix;
    return `${fmt(x / chosen[0])} ${chosen[1]}${unit}`;
  }

  const money = (x) => (Number.isFinite(x) ? `$${Math.round(x).toLocaleString("en-US")}` : "–");
  const integer = (value) => (value === "" || value === null || value === undefined ? null : Number(value));

  function colour(key, index) {
    return COLOURS[key] || SPARE_COLOURS[index % SPARE_COLOURS.length];
  }

  const label = (id) => id.replace(/_/g, " ");

  // ------------------------------------------------------------------ the API

  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.error) || `HTTP ${status}`);
      this.status = status;
      this.issues = (body && Array.isArray(body.issues)) ? body.issues : [];
    }
  }

  async function api(method, path, body) {
    const init = { method, headers: {} };
    if (body !== undefined) {
      init.headers["content-type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    let response;
    try {
      response = await fetch(path, init);
    } catch (error) {
      throw new ApiError(0, { error: `the server did not answer (${error.message})` });
    }
    let data;
    try {
      data = await response.json();
    } catch (error) {
      data = { error: `HTTP ${response.status} ${response.statusText}` };
    }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function showError(mode, error) {
    const box = $(`#error-${mode}`);
    box.replaceChildren(
      el("p", { class: "error-title" },
        el("strong", { text: error instanceof ApiError && error.status ? `Error ${error.status}: ` : "Error: " }),
        el("span", { class: "error-message", text: error.message })),
      error.issues && error.issues.length ? el("ul", { class: "issues" }, error.issues.map((issue) => el("li", { text: issue }))) : null,
    );
    box.hidden = false;
  }

  function clearError(mode) {
    const box = $(`#error-${mode}`);
    box.hidden = true;
    box.replaceChildren();
  }

  /** Runs one request of a mode: busy state, errors into the page, never a dialog. */
  async function run(mode, work) {
    const results = $(`#results-${mode}`);
    const panel = $(`#panel-${mode}`);
    clearError(mode);
    panel.setAttribute("aria-busy", "true");
    results.classList.add("stale");
    try {
      await work(results);
      results.classList.remove("stale");
    } catch (error) {
      results.replaceChildren();
      results.classList.remove("stale");
      showError(mode, error);
      if (!(error instanceof ApiError)) console.error(error);
    } finally {
      panel.removeAttribute("aria-busy");
      panel.dataset.done = String(Number(panel.dataset.done || 0) + 1);  // tests wait on this counter
    }
  }

  // ------------------------------------------------------------------ shared views

  function feasibilityBadge(feasibility) {
    return el("span", { class: `badge feas-${feasibility}`, title: FEASIBILITY[feasibility] || "", text: feasibility });
  }

  /** p10 – p50 – p90 as text and as a small bar on a 0..max scale (max: the bar's own p90 unless given). */
  function rangeView(band, unit, max) {
    if (!band) return el("span", { text: "–" });
    const { p10, p50, p90 } = band;
    const hasRange = Number.isFinite(p10) && Number.isFinite(p90);
    const top = max || (hasRange ? p90 : p50) * 1.15 || 1;
    const pct = (x) => `${Math.max(0, Math.min(100, (100 * x) / top))}%`;
    const bar = el("span", { class: "range-bar", "aria-hidden": "true" },
      hasRange ? el("span", { class: "range-span", style: { left: pct(p10), width: `calc(${pct(p90)} - ${pct(p10)})` } }) : null,
      el("span", { class: "range-mid", style: { left: pct(p50) } }));
    const text = hasRange
      ? el("span", { class: "range-text" },
        el("span", { class: "p10", title: "p10", text: fmt(p10) }), " – ",
        el("strong", { class: "p50", title: "p50 (median)", text: fmt(p50) }), " – ",
        el("span", { class: "p90", title: "p90", text: fmt(p90) }), unit ? ` ${unit}` : "")
      : el("span", { class: "range-text" }, el("strong", { class: "p50", text: fmt(p50) }), unit ? ` ${unit}` : "");
    return el("span", { class: hasRange ? "range" : "range single" }, bar, text);
  }

  /** One horizontal bar split into shares (values need not sum to 100; widths are normalised). */
  function stackedBar(entries, title, unit) {
    const total = entries.reduce((sum, [, value]) => sum + value, 0) || 1;
    const bar = el("div", { class: "stacked", role: "img",
      "aria-label": `${title}: ${entries.map(([key, value]) => `${label(key)} ${fmt(value)}${unit}`).join(", ")}` });
    const legend = el("ul", { class: "legend" });
    entries.forEach(([key, value], index) => {
      const share = (100 * value) / total;
      bar.append(el("span", { class: "seg", "data-key": key, "data-pct": share.toFixed(2),
        title: `${label(key)}: ${fmt(value)}${unit}`, style: { width: `${share}%`, background: colour(key, index) } }));
      legend.append(el("li", {},
        el("span", { class: "swatch", style: { background: colour(key, index) }, "aria-hidden": "true" }),
        `${MEMORY_PARTS[key] || label(key)} `, el("strong", { text: `${fmt(value)}${unit}` })));
    });
    return el("div", { class: "stacked-wrap" }, bar, legend);
  }

  /** A table whose body cells carry their column's header as data-label: narrow screens show each row as a
   *  stack of labelled values (style.css) instead of columns wider than the screen. */
  function table(headers, rows, attrs = {}) {
    for (const row of rows) {
      [...row.children].forEach((cell, index) => {
        if (headers[index] && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", headers[index]);
      });
    }
    return el("table", attrs,
      el("thead", {}, el("tr", {}, headers.map((header) => el("th", { scope: "col", text: header })))),
      el("tbody", {}, rows));
  }

  // ------------------------------------------------------------------ catalog-backed selects

  function entryId(kind, entry) {
    return entry[{ models: "model_id", runtimes: "runtime_id", quantizations: "quant_id",
      "hardware-profiles": "hardware_id" }[kind]];
  }

  function optionText(kind, entry) {
    if (kind === "models") return `${entry.name} (${fmt(entry.params_b)}B)`;
    if (kind === "hardware-profiles") {
      return entry.price_usd ? `${entry.name} — ${money(entry.price_usd)}` : entry.name;
    }
    if (kind === "runtimes") return `${entry.name} ${entry.version || ""}`.trim();
    return entry.name || entryId(kind, entry);
  }

  function fillCatalogSelect(select) {
    const kind = select.dataset.catalog;
    select.replaceChildren(...catalogs[kind].map((entry) =>
      el("option", { value: entryId(kind, entry), text: optionText(kind, entry) })));
  }

  /** The quantization select follows its runtime: only the formats that runtime runs. */
  function fillQuantSelect(quantSelect, runtimeId) {
    const runtime = catalogs.runtimes.find((entry) => entry.runtime_id === runtimeId);
    const previous = quantSelect.value;
    const supported = runtime ? runtime.supported_quant || [] : [];
    const byId = Object.fromEntries(catalogs.quantizations.map((entry) => [entry.quant_id, entry]));
    quantSelect.replaceChildren(
      el("option", { value: "", text: "runtime default" }),
      ...supported.map((id) => el("option", { value: id,
        text: byId[id] ? `${byId[id].name} (${fmt(byId[id].bits_per_weight)} bits)` : id })));
    if (supported.includes(previous)) quantSelect.value = previous;
  }

  /** The multi-device mode select follows its runtime: the runtime's own names, each with the kind the pack models. */
  function fillSplitSelect(splitSelect, runtimeId) {
    const runtime = catalogs.runtimes.find((entry) => entry.runtime_id === runtimeId);
    const previous = splitSelect.value;
    const multi = (runtime && runtime.multi_device) || {};
    const modes = multi.modes || {};
    splitSelect.replaceChildren(
      el("option", { value: "", text: multi.default ? `runtime default (${multi.default})` : "runtime default" }),
      ...Object.entries(modes).map(([name, kind]) => el("option", { value: name, text: `${name} (${kind}-like)` })));
    if (previous in modes) splitSelect.value = previous;
  }

  function runtimeOf(select) {
    const scope = select.closest("fieldset.column") || select.form;
    return $(`select[name="${select.dataset.quantFor || select.dataset.splitFor}"]`, scope);
  }

  /** The selects that follow a runtime select (its formats, its multi-device modes). */
  function wireRuntimeSelects(root) {
    for (const [selector, fill] of [["select[data-quant-for]", fillQuantSelect], ["select[data-split-for]", fillSplitSelect]]) {
      for (const select of $$(selector, root)) {
        const runtime = runtimeOf(select);
        fill(select, runtime.value);
        runtime.addEventListener("change", () => fill(select, runtime.value));
      }
    }
  }

  /** Sets a field; a value a select does not offer is added (the API then says what is wrong with it). */
  function setField(field, value) {
    if (field.tagName === "SELECT" && value !== "" &&
        !Array.from(field.options).some((option) => option.value === value)) {
      field.append(el("option", { value, text: `${value} (not in the catalog)` }));
    }
    field.value = value;
    if (field.tagName === "SELECT") field.dispatchEvent(new Event("change"));
  }

  function setFields(root, values) {
    for (const field of $$("[name]", root)) {
      if (field.closest("fieldset.column") && !root.matches("fieldset.column")) continue;
      if (values[field.name] !== undefined && values[field.name] !== null) setField(field, String(values[field.name]));
    }
  }

  function readFields(root) {
    const values = {};
    for (const field of $$("[name]", root)) {
      if (field.closest("fieldset.column") && !root.matches("fieldset.column")) continue;
      values[field.name] = field.value.trim();
    }
    return values;
  }

  // ------------------------------------------------------------------ permalink

  const WHATIF_COLUMN_KEYS = ["hw", "runtime", "quant", "tp", "pp"];

  function scenarioParams(mode) {
    const params = new URLSearchParams({ mode });
    const values = readFields($(`#form-${mode}`));
    for (const [key, value] of Object.entries(values)) if (value !== "") params.set(key, value);
    if (mode === "whatif") {
      for (const column of $$("#whatif-columns fieldset.column")) {
        const columnValues = readFields(column);
        params.append("col", WHATIF_COLUMN_KEYS.map((key) => columnValues[key] || "").join("~"));
      }
    }
    return params;
  }

  function permalink(mode) {
    return `${location.origin}${location.pathname}#${scenarioParams(mode).toString()}`;
  }

  function recordScenario(mode) {
    history.replaceState(null, "", `#${scenarioParams(mode).toString()}`);
  }

  async function copyPermalink() {
    const link = permalink(currentMode);
    recordScenario(currentMode);
    const status = $("#permalink-status");
    try {
      await navigator.clipboard.writeText(link);
      status.replaceChildren("Copied: ", el("code", { class: "link", text: link }));
    } catch (error) {
      const field = el("input", { type: "text", readonly: true, value: link, "aria-label": "Permalink", class: "link-field" });
      status.replaceChildren("Copy this link: ", field);
      field.select();
    }
  }

  /** Restores a scenario from the hash; true when it named a mode (and its request was started). */
  function restoreFromHash() {
    const hash = location.hash.replace(/^#/, "");
    if (!hash) return false;
    const params = new URLSearchParams(hash);
    const mode = params.get("mode");
    if (!MODES.includes(mode)) return false;
    const values = Object.fromEntries(params.entries());
    if (mode === "whatif") {
      const cols = params.getAll("col").map((text) => {
        const parts = text.split("~");
        return Object.fromEntries(WHATIF_COLUMN_KEYS.map((key, index) => [key, parts[index] || ""]));
      });
      if (cols.length) setWhatifColumns(cols);
    }
    if (mode === "selfspec" && values.example) setField($("#selfspec-example"), values.example);
    setFields($(`#form-${mode}`), values);
    showMode(mode, false);
    submit(mode);
    return true;
  }

  // ------------------------------------------------------------------ tabs

  function showMode(mode, record = true) {
    currentMode = mode;
    for (const tab of $$('[role="tab"]')) {
      const selected = tab.dataset.mode === mode;
      tab.setAttribute("aria-selected", String(selected));
      tab.tabIndex = selected ? 0 : -1;
    }
    for (const name of MODES) $(`#panel-${name}`).hidden = name !== mode;
    if (record) recordScenario(mode);
  }

  function wireTabs() {
    const tabs = $$('[role="tab"]');
    tabs.forEach((tab, index) => {
      tab.addEventListener("click", () => showMode(tab.dataset.mode));
      tab.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (!step) return;
        const next = tabs[(index + step + tabs.length) % tabs.length];
        next.focus();
        showMode(next.dataset.mode);
      });
    });
  }

  function submit(mode) {
    recordScenario(mode);
    return { target: runTarget, hardware: runHardware, whatif: runWhatif, selfspec: runSelfspec }[mode]();
  }

  // ------------------------------------------------------------------ 1. target model first

  function runTarget() {
    const values = readFields($("#form-target"));
    const body = {
      model_ids: [values.model],
      runtime_id: values.runtime,
      workload: { context_tokens: integer(values.prompt), output_tokens: integer(values.output),
        concurrency: integer(values.users) },
      objective: "min_hardware",
      top: integer(values.top) || 8,
    };
    if (values.min_tps !== "") body.min_decode_tps = Number(values.min_tps);
    if (values.max_ttft !== "") body.max_ttft_ms = Number(values.max_ttft);
    return run("target", async (results) => {
      const answer = await api("POST", "/v1/solve", body);
      results.replaceChildren(...targetView(answer, body));
    });
  }

  function targetView(answer, body) {
    const hardware = Object.fromEntries(catalogs["hardware-profiles"].map((entry) => [entry.hardware_id, entry]));
    const summary = el("p", { class: "summary-line" },
      `${fmt(answer.candidates)} configurations, ${fmt(answer.evaluated)} evaluated, `,
      el("strong", { text: `${fmt(answer.feasible)} acceptable` }),
      body.min_decode_tps ? ` (at least ${fmt(body.min_decode_tps)} tok/s decode)` : "", ".");
    const rejected = Object.entries(answer.rejected || {}).sort((a, b) => b[1] - a[1]);
    const rejectedView = rejected.length
      ? el("details", { class: "rejected" }, el("summary", { text: "Why the others were rejected" }),
        el("ul", {}, rejected.map(([reason, count]) => el("li", {}, el("code", { text: reason }), ` ${fmt(count)}`))))
      : null;
    if (!answer.top.length) {
      return [summary, el("p", { class: "empty", text: "No machine in the catalog meets these requirements." }), rejectedView];
    }
    const max = Math.max(...answer.top.map((row) => (row.decode_toks_sec && row.decode_toks_sec.p90) || 0)) * 1.05;
    const rows = answer.top.map((row, index) => {
      const entry = hardware[row.hardware_id];
      const tier = index === 0 ? "Minimum build" : `Upgrade tier ${index}`;
      return el("tr", { class: index === 0 ? "minimum" : "" },
        el("th", { scope: "row", text: tier }),
        el("td", {}, entry ? entry.name : row.hardware_id, el("br"), el("code", { class: "muted", text: row.hardware_id })),
        el("td", { class: "num", text: money(row.price_usd) }),
        el("td", {}, feasibilityBadge(row.feasibility)),
        el("td", {}, rangeView(row.decode_toks_sec, "tok/s", max)),
        el("td", { class: "num", text: fmt(row.ttft_ms) }),
        el("td", {}, `${row.quant}`, el("br"), el("span", { class: "muted", text: `TP ${row.tensor_parallel} × PP ${row.pipeline_parallel}, offload ${row.offload}` })),
        el("td", { class: "num", text: fmt(row.vram_peak_gb) }),
        el("td", { class: "num", text: fmt(row.decode_toks_sec_per_kusd) }));
    });
    return [
      summary,
      el("div", { class: "table-wrap" }, table(
        ["Tier", "Machine", "Price", "Feasibility", "Decode tok/s (p10 – p50 – p90)", "TTFT ms", "Configuration",
          "VRAM GB", "tok/s per $1k"], rows, { class: "solve-table" })),
      el("p", { class: "help small", text: "Machines without a catalog price are listed after the priced ones. " +
        "Prices are the catalog's (GPU price or whole machine, per entry)." }),
      rejectedView,
    ];
  }

  // ------------------------------------------------------------------ 2. current hardware first

  function estimateBody(values, recommend) {
    const workload = { context_tokens: integer(values.prompt), output_tokens: integer(values.output),
      concurrency: integer(values.users) };
    if (values.window) workload.context_window = integer(values.window);
    const body = {
      model_id: values.model, hardware: { hardware_id: values.hw }, workload,
      // A version picks the calibration's runtime era; the answer's coefficients origin names the era used.
      runtime_id: values.runtime_version ? `${values.runtime}@${values.runtime_version}` : values.runtime,
      // Devices in one of the runtime's multi-device modes, or TP x PP as given (the API takes one or the other).
      parallelism: values.devices
        ? { devices: integer(values.devices), ...(values.split_mode ? { split_mode: values.split_mode } : {}) }
        : { tensor_parallel: integer(values.tp) ?? 1, pipeline_parallel: integer(values.pp) ?? 1 },
      offload: values.offload || "auto", recommend,
    };
    if (values.quant) body.quant = values.quant;
    if (values.backend) body.backend = values.backend;
    if (values.flash_attention) body.flash_attention = values.flash_attention === "on";
    return body;
  }

  function runHardware() {
    const body = estimateBody(readFields($("#form-hardware")), 5);
    return run("hardware", async (results) => {
      const [answer, status] = await Promise.all([api("POST", "/v1/estimate", body),
        api("GET", "/v1/calibrate").catch(() => null)]);
      results.replaceChildren(...hardwareView(answer, status));
    });
  }

  function hardwareView(answer, calibrationStatus) {
    const feasibility = el("div", { class: "feasibility" },
      el("h3", { text: "Feasibility" }),
      el("p", {}, feasibilityBadge(answer.feasibility), " ",
        el("span", { class: "feas-text", text: FEASIBILITY[answer.feasibility] || "" })),
      answer.reason_codes.length
        ? el("ul", { class: "codes", "aria-label": "Reason codes" }, answer.reason_codes.map((code) => el("li", {}, el("code", { text: code }))))
        : null);

    const estimateRows = Object.entries(answer.estimates).map(([key, band]) => {
      const [name, unit] = ESTIMATES[key] || [label(key), ""];
      return el("tr", { "data-key": key }, el("th", { scope: "row", text: name }), el("td", {}, rangeView(band, unit)));
    });
    const uncalibrated = answer.runtime_calibrated === false;
    const otherBackend = !uncalibrated && answer.backend_calibrated === false;
    const estimates = el("section", { class: "card" },
      el("h3", {}, "Estimates", uncalibrated
        ? el("span", { class: "badge warn uncalibrated", title: "no measured run of this runtime in the calibration", text: " uncalibrated runtime" })
        : otherBackend
          ? el("span", { class: "badge warn uncalibrated-backend", title: "no measured run of this runtime on this backend and hardware class", text: " uncalibrated backend" })
          : null),
      el("p", { class: "help small", text: uncalibrated || otherBackend
        ? "p10 – p50 – p90: widened for a runtime or backend the calibration never measured (see Warnings); the bar marks p10 to p90, the tick the median."
        : "p10 – p50 – p90: the calibrated range; the bar marks p10 to p90, the tick the median." }),
      table(["Quantity", "p10 – p50 – p90"], estimateRows, { class: "estimates" }));
    const warnings = (answer.warnings || []).length
      ? el("section", { class: "card warnings-card", role: "note" },
        el("h3", { text: "Warnings" }),
        el("ul", { class: "warnings" }, answer.warnings.map((line) => el("li", { text: line }))))
      : null;

    const shares = Object.entries(answer.bottleneck_shares_pct).sort((a, b) => b[1] - a[1]);
    const bottleneck = el("section", { class: "card" },
      el("h3", { text: "What limits a decode step" }),
      shares.length ? stackedBar(shares, "Share of a decode step", " %") : el("p", { text: "–" }),
      el("p", { class: "muted small" }, "Named bottlenecks: ",
        answer.bottlenecks.map((name, index) => [index ? ", " : "", el("code", { text: name })])));

    const memory = answer.memory;
    const parts = Object.keys(MEMORY_PARTS).filter((key) => memory[key] > 0).map((key) => [key, memory[key]]);
    const need = memory.per_device_need_gb;
    const usable = memory.per_device_usable_gb;
    const meter = Number.isFinite(need) && Number.isFinite(usable) && usable > 0
      ? el("div", { class: "meter-wrap" },
        el("div", { class: `meter${need > usable ? " over" : ""}`, role: "img",
          "aria-label": `per device: ${fmt(need)} GB needed of ${fmt(usable)} GB usable` },
          el("span", { style: { width: `${Math.min(100, (100 * need) / usable)}%` } })),
        el("p", { class: "small" }, `Per device: ${fmt(need)} GB needed of ${fmt(usable)} GB usable`,
          need > usable ? el("strong", { class: "warn", text: ` (short by ${fmt(need - usable)} GB)` }) : ""))
      : null;
    const memoryRows = [...Object.keys(MEMORY_PARTS), ...Object.keys(MEMORY_OTHER), ...Object.keys(memory)]
      .filter((key, index, all) => key in memory && all.indexOf(key) === index)
      .map((key) => el("tr", {}, el("th", { scope: "row", text: MEMORY_PARTS[key] || MEMORY_OTHER[key] || label(key) }),
        el("td", { class: "num", text: fmt(memory[key]) })));
    const memoryCard = el("section", { class: "card" },
      el("h3", { text: "Memory" }),
      parts.length ? stackedBar(parts, "Memory by part", " GB") : null,
      meter,
      el("details", {}, el("summary", { text: "All memory figures (GB)" }), table(["Part", "GB"], memoryRows, { class: "memory" })));

    const explanations = el("section", { class: "card wide" },
      el("h3", { text: "Explanations" }),
      el("ul", { class: "explanations" }, answer.explanations.map((line) => el("li", { text: line }))));

    const recommended = el("section", { class: "card wide" }, el("h3", { text: "Recommended configurations" }),
      answer.recommended_configs.length
        ? el("div", { class: "table-wrap" }, table(
          ["Quant", "TP × PP", "Offload", "Feasibility", "Decode tok/s", "TTFT ms", "VRAM GB", "tok/s per $1k", ""],
          answer.recommended_configs.map((config) => el("tr", {},
            el("td", {}, el("code", { text: config.quant })),
            el("td", { text: `${config.tensor_parallel} × ${config.pipeline_parallel}` }),
            el("td", { text: config.offload }),
            el("td", {}, feasibilityBadge(config.feasibility)),
            el("td", {}, rangeView(config.decode_toks_sec, "")),
            el("td", { class: "num", text: fmt(config.ttft_ms) }),
            el("td", { class: "num", text: fmt(config.vram_peak_gb) }),
            el("td", { class: "num", text: fmt(config.decode_toks_sec_per_kusd) }),
            el("td", {}, applyButton(config)))), { class: "recommended" }))
        : el("p", { class: "muted", text: "None: no configuration of this model runs on this machine with this runtime." }));

    return [feasibility, warnings, el("div", { class: "cards" }, estimates, bottleneck, memoryCard, explanations, recommended),
      assumptionsDrawer(answer, calibrationStatus)];
  }

  function applyButton(config) {
    const button = el("button", { type: "button", class: "small-button", text: "Use",
      "aria-label": `Use ${config.quant}, TP ${config.tensor_parallel}, PP ${config.pipeline_parallel}, offload ${config.offload}` });
    button.addEventListener("click", () => {
      setFields($("#form-hardware"), { quant: config.quant, tp: config.tensor_parallel, pp: config.pipeline_parallel,
        offload: config.offload });
      submit("hardware");
    });
    return button;
  }

  function assumptionsDrawer(answer, status) {
    const coefficients = answer.coefficients || {};
    const rows = Object.entries(coefficients).filter(([key]) => key !== "origin").map(([key, value]) =>
      el("tr", {}, el("th", { scope: "row" }, el("code", { text: key })), el("td", { class: "num", text: fmt(value, 4) }),
        el("td", { text: COEFFICIENTS[key] || "" })));
    const scenario = answer.scenario || {};
    const workload = scenario.workload || {};
    const bundle = status && status.latest_bundle;
    return el("details", { class: "assumptions" },
      el("summary", { text: "Assumptions: coefficients, calibration, resolved scenario" }),
      el("div", { class: "drawer" },
        el("h4", { text: "Coefficients" }),
        el("p", {}, "Origin: ", el("strong", { class: "origin", text: coefficients.origin || "–" })),
        table(["Name", "Value", "Meaning"], rows, { class: "coefficients" }),
        el("h4", { text: "Calibration" }),
        el("p", {}, "Calibration id: ", el("code", { class: "calibration-id", text: answer.calibration || "none (runtime defaults)" })),
        status ? el("p", { class: "small", text: `Service: ${status.records} stored run records, ${status.pending} pending, ` +
          `${status.bundles} fitted bundle(s)${bundle ? "" : " (the packaged calibration is in use)"}` +
          `${status.recalibrating ? ", recalibrating now" : ""}.` }) : null,
        el("h4", { text: "Scenario as resolved" }),
        el("ul", { class: "small" },
          el("li", { text: `model ${scenario.model_id}, hardware ${scenario.hardware_id}, runtime ${scenario.runtime_id} on ${scenario.backend}, quant ${scenario.quant}` }),
          el("li", { text: `prompt ${fmt(workload.prompt_tokens)} tokens, output ${fmt(workload.gen_tokens)}, ` +
            `concurrency ${workload.concurrency}, context allocated ${fmt(workload.context_alloc)} per sequence` }),
          el("li", { text: `TP ${scenario.tensor_parallel} × PP ${scenario.pipeline_parallel}` +
            `${scenario.multi_device_mode ? ` (${scenario.multi_device_mode} split)` : ""}, offload ${scenario.offload}, ` +
            `flash attention ${scenario.flash_attention ? "on" : "off"}` })),
        el("p", { class: "help small", text: "Ranges are conformal bounds from held-out errors on the calibration measurements " +
          "(each source left out in turn; each hardware profile when there is one source); see docs/llm.md and " +
          "docs/llm-accuracy.md." })));
  }

  // ------------------------------------------------------------------ 3. what-if

  function buildName(index) {
    return `Build ${String.fromCharCode(65 + index)}`;
  }

  function whatifColumn(values, index) {
    const column = el("fieldset", { class: "column" },
      el("legend", { text: buildName(index) }),
      el("label", {}, "Hardware ", el("select", { name: "hw", "data-catalog": "hardware-profiles" })),
      el("label", {}, "Runtime ", el("select", { name: "runtime", "data-catalog": "runtimes" })),
      el("label", {}, "Quantization ", el("select", { name: "quant", "data-quant-for": "runtime" })),
      el("label", {}, el("abbr", { title: "tensor parallel", text: "TP" }),
        el("input", { name: "tp", type: "number", min: "1", max: "64", step: "1", value: "1", "aria-label": "Tensor parallel" })),
      el("label", {}, el("abbr", { title: "pipeline parallel", text: "PP" }),
        el("input", { name: "pp", type: "number", min: "1", max: "64", step: "1", value: "1", "aria-label": "Pipeline parallel" })));
    $$("select[data-catalog]", column).forEach(fillCatalogSelect);
    wireRuntimeSelects(column);
    setFields(column, values);
    return column;
  }

  function setWhatifColumns(columns) {
    const holder = $("#whatif-columns");
    holder.replaceChildren(...columns.slice(0, 3).map((values, index) => whatifColumn(values, index)));
    updateWhatifButtons();
  }

  function updateWhatifButtons() {
    const count = $$("#whatif-columns fieldset.column").length;
    $("#whatif-add").disabled = count >= 3;
    $("#whatif-remove").disabled = count <= 2;
  }

  function runWhatif() {
    const shared = readFields($("#form-whatif"));
    const columns = $$("#whatif-columns fieldset.column").map(readFields);
    const hardware = Object.fromEntries(catalogs["hardware-profiles"].map((entry) => [entry.hardware_id, entry]));
    return run("whatif", async (results) => {
      const answers = await Promise.all(columns.map((column) =>
        api("POST", "/v1/estimate", estimateBody({ ...shared, ...column, offload: "auto" }, 0))
          .catch((error) => ({ error }))));
      results.replaceChildren(whatifView(columns, answers, hardware));
    });
  }

  function whatifView(columns, answers, hardware) {
    const ok = answers.filter((answer) => !answer.error);
    const maxOf = (key) => Math.max(1e-9, ...ok.map((answer) => (answer.estimates[key] || {}).p90 || (answer.estimates[key] || {}).p50 || 0)) * 1.05;
    const price = (column) => (hardware[column.hw] || {}).price_usd;
    const rows = [
      ["Feasibility", (answer) => el("span", {}, feasibilityBadge(answer.feasibility),
        answer.reason_codes.length ? el("span", { class: "muted small", text: ` ${answer.reason_codes.join(", ")}` }) : null)],
      ["Decode tok/s (all sequences)", (answer) => rangeView(answer.estimates.decode_toks_sec, "", maxOf("decode_toks_sec"))],
      ["Prefill tok/s", (answer) => rangeView(answer.estimates.prefill_toks_sec, "", maxOf("prefill_toks_sec"))],
      ["Time to first token ms", (answer) => rangeView(answer.estimates.ttft_ms, "", maxOf("ttft_ms"))],
      ["VRAM peak GB", (answer) => el("span", { class: "num", text: fmt(answer.memory.vram_peak_gb) })],
      ["Host RAM peak GB", (answer) => el("span", { class: "num", text: fmt(answer.memory.ram_peak_gb) })],
      ["Main bottleneck", (answer) => {
        const top = Object.entries(answer.bottleneck_shares_pct).sort((a, b) => b[1] - a[1])[0];
        return el("span", { text: top ? `${label(top[0])} ${fmt(top[1])} %` : "–" });
      }],
      ["Power W (rated, upper bound)", (answer) => el("span", { class: "num",
        text: answer.estimates.power_w ? fmt(answer.estimates.power_w.p50) : "unknown" })],
      ["Energy per token J", (answer) => answer.estimates.energy_per_token_j
        ? rangeView(answer.estimates.energy_per_token_j, "", maxOf("energy_per_token_j"))
        : el("span", { class: "muted", text: "unknown" })],
      ["Price", (answer, column) => el("span", { class: "num", text: money(price(column)) })],
      ["Decode tok/s per $1k (p50)", (answer, column) => el("span", { class: "num",
        text: price(column) ? fmt((1000 * answer.estimates.decode_toks_sec.p50) / price(column)) : "–" })],
    ];
    const header = el("tr", {}, el("th", { scope: "col", text: "" }), columns.map((column, index) =>
      el("th", { scope: "col" }, buildName(index), el("br"),
        el("span", { class: "muted small", text: `${(hardware[column.hw] || {}).name || column.hw}, ${column.runtime}, ` +
          `${column.quant || "default quant"}, TP ${column.tp} × PP ${column.pp}` }))));
    const body = rows.map(([name, cell]) => el("tr", {}, el("th", { scope: "row", text: name }),
      answers.map((answer, index) => {
        if (!answer.error) return el("td", { "data-label": buildName(index) }, cell(answer, columns[index]));
        return name === "Feasibility"
          ? el("td", { class: "cell-error", rowspan: String(rows.length) },
            el("strong", { text: `Error${answer.error.status ? ` ${answer.error.status}` : ""}: ` }),
            el("span", { class: "error-message", text: answer.error.message }),
            answer.error.issues.length ? el("ul", { class: "issues" }, answer.error.issues.map((issue) => el("li", { text: issue }))) : null)
          : null;
      })));
    return el("div", { class: "table-wrap" }, el("table", { class: "whatif-table" }, el("thead", {}, header), el("tbody", {}, body)));
  }

  // ------------------------------------------------------------------ 4. selfspec

  /** 64 .. 65,536 at four points per octave, cut at the longest prompt the pack's limits allow (the API's
   *  prompt_length_max for these documents; null when no limit bounds the prompt). */
  function promptLengths(cap) {
    const lengths = [];
    for (let i = 0; i <= 40; i += 1) lengths.push(Math.round(64 * 2 ** (i / 4)));
    if (cap === null || cap === undefined) return lengths;
    const kept = lengths.filter((length) => length <= cap);
    if (kept[kept.length - 1] !== cap) kept.push(cap);
    return kept;
  }

  /** The sentence saying where the prompts stop and which limit of the pack stops them (its values from the API). */
  function limitNote(limits) {
    const applying = limits.limits.filter((limit) => limit.applies);
    if (limits.prompt_length_max === null || !applying.length) return null;
    const shown = applying.map((limit) => `${limit.at_inputs.expression} ≤ ${fmt(limit.at_inputs.maximum)}`).join(", ");
    return el("p", { class: "help small limit-note" }, `Prompts are cut at ${fmt(limits.prompt_length_max)} tokens, ` +
      `the longest the pack's limits allow for these documents (${shown}): ${applying[0].message}.`);
  }

  function histogramText(stats) {
    const k = stats.k;
    const histogram = stats.histogram || {};
    return Array.from({ length: k + 1 }, (_, accepted) => String(histogram[accepted] ?? histogram[String(accepted)] ?? 0)).join(", ");
  }

  function parseHistogram(text) {
    const parts = text.split(",").map((part) => part.trim()).filter((part) => part !== "");
    if (parts.length < 2 || parts.some((part) => !/^\d+(\.\d+)?$/.test(part))) {
      throw new ApiError(0, { error: "the acceptance histogram must be two or more non-negative numbers separated by commas" });
    }
    return Object.fromEntries(parts.map((part, accepted) => [String(accepted), Number(part)]));
  }

  function fillExamples() {
    const select = $("#selfspec-example");
    select.replaceChildren(...Object.keys(examples).map((name) => el("option", { value: name, text: name })));
    select.addEventListener("change", () => {
      const example = examples[select.value];
      if (example) $("#selfspec-hist").value = histogramText(example.stats);
    });
    if (select.value) select.dispatchEvent(new Event("change"));
  }

  function runSelfspec() {
    const values = readFields($("#form-selfspec"));
    return run("selfspec", async (results) => {
      const example = examples[values.example];
      if (!example) throw new ApiError(0, { error: `no bundled example ${JSON.stringify(values.example)}` });
      const histogram = values.hist ? parseHistogram(values.hist) : example.stats.histogram;
      const k = Object.keys(histogram).length - 1;
      const stats = { ...example.stats, k, histogram };
      const documents = { model: example.model, hardware: example.hardware, stats };
      const limits = await api("POST", "/v1/selfspec/limits", documents);
      const answer = await api("POST", "/v1/selfspec/curve",
        { ...documents, prompt_lengths: promptLengths(limits.prompt_length_max) });
      results.replaceChildren(
        limitNote(limits),
        el("div", { class: "plots" },
          plotCard(answer, "energy", "energy_per_token", "Energy per committed token"),
          plotCard(answer, "latency", "latency_per_token", "Latency per committed token")));
    });
  }

  function plotCard(answer, quantity, curve, title) {
    const breakEven = (answer.break_even || {})[quantity] || {};
    const unit = answer.units[curve];
    const crossing = Number.isFinite(breakEven.L_prompt) ? breakEven.L_prompt : null;
    const caption = crossing !== null
      ? el("p", { class: "verdict", "data-verdict": breakEven.verdict || "" }, "Break-even at ",
        el("strong", { text: `L_prompt ≈ ${fmt(crossing)}` }), " tokens", breakEven.description ? `: ${breakEven.description}` : "")
      : el("p", { class: "verdict", "data-verdict": breakEven.verdict || "" }, "Verdict: ",
        el("strong", { text: label(breakEven.verdict || "unknown") }), breakEven.description ? ` — ${breakEven.description}` : "");
    return el("figure", { class: "card plot", "data-quantity": quantity },
      el("h3", { text: title }),
      linePlot(answer.prompt_lengths, [
        { name: "speculative", values: answer.curves[`speculative.${curve}`], cls: "spec" },
        { name: "baseline", values: answer.curves[`baseline.${curve}`], cls: "base" },
      ], unit, crossing, breakEven.verdict, `${title} vs prompt length`),
      el("figcaption", {}, caption));
  }

  /** An SVG line plot on a log x axis (prompt length) and a linear y axis from 0. */
  function linePlot(xs, series, unit, crossing, verdict, title) {
    const width = 560;
    const height = 320;
    const margin = { left: 72, right: 16, top: 28, bottom: 44 };
    const plotW = width - margin.left - margin.right;
    const plotH = height - margin.top - margin.bottom;
    const xMin = Math.log10(xs[0]);
    const xMax = Math.log10(xs[xs.length - 1]);
    const yMax = niceCeil(Math.max(...series.flatMap((line) => line.values)) * 1.05);
    const x = (value) => margin.left + ((Math.log10(value) - xMin) / (xMax - xMin || 1)) * plotW;
    const y = (value) => margin.top + plotH - (value / yMax) * plotH;
    const root = svg("svg", { viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": title, class: "chart" },
      svg("title", {}, title));
    // axes and grid
    const yTicks = 5;
    for (let i = 0; i <= yTicks; i += 1) {
      const value = (yMax * i) / yTicks;
      root.append(svg("line", { class: "grid", x1: margin.left, x2: margin.left + plotW, y1: y(value), y2: y(value) }),
        svg("text", { class: "tick", x: margin.left - 6, y: y(value) + 4, "text-anchor": "end" }, si(value, unit)));
    }
    for (let power = Math.ceil(Math.log2(xs[0])); 2 ** power <= xs[xs.length - 1]; power += 2) {
      const value = 2 ** power;
      root.append(svg("line", { class: "grid", x1: x(value), x2: x(value), y1: margin.top, y2: margin.top + plotH }),
        svg("text", { class: "tick", x: x(value), y: margin.top + plotH + 16, "text-anchor": "middle" },
          value >= 1024 ? `${value / 1024}k` : String(value)));
    }
    root.append(
      svg("line", { class: "axis", x1: margin.left, x2: margin.left + plotW, y1: margin.top + plotH, y2: margin.top + plotH }),
      svg("line", { class: "axis", x1: margin.left, x2: margin.left, y1: margin.top, y2: margin.top + plotH }),
      svg("text", { class: "axis-label", x: margin.left + plotW / 2, y: height - 6, "text-anchor": "middle" },
        "prompt length L_prompt (tokens, log scale)"));
    // curves
    for (const line of series) {
      const points = xs.map((value, index) => `${x(value).toFixed(1)},${y(line.values[index]).toFixed(1)}`).join(" ");
      root.append(svg("polyline", { class: `curve ${line.cls}`, "data-series": line.name, points }));
    }
    // legend
    series.forEach((line, index) => {
      const lx = margin.left + 12 + index * 130;
      root.append(svg("line", { class: `curve ${line.cls}`, x1: lx, x2: lx + 22, y1: 14, y2: 14 }),
        svg("text", { class: "legend-text", x: lx + 28, y: 18 }, line.name));
    });
    // break-even
    if (crossing !== null && crossing >= xs[0] && crossing <= xs[xs.length - 1]) {
      const cx = x(crossing);
      root.append(svg("g", { class: "break-even" },
        svg("line", { x1: cx, x2: cx, y1: margin.top, y2: margin.top + plotH }),
        svg("text", { x: cx > margin.left + plotW * 0.7 ? cx - 6 : cx + 6, y: margin.top + 14,
          "text-anchor": cx > margin.left + plotW * 0.7 ? "end" : "start" }, `break-even ${fmt(crossing)}`)));
    } else if (verdict) {
      root.append(svg("text", { class: "verdict-text", x: margin.left + plotW - 6, y: margin.top + plotH - 10,
        "text-anchor": "end" }, label(verdict)));
    }
    return root;
  }

  function niceCeil(value) {
    if (!(value > 0)) return 1;
    const power = 10 ** Math.floor(Math.log10(value));
    const step = [1, 2, 2.5, 5, 10].find((factor) => factor * power >= value);
    return step * power;
  }

  // ------------------------------------------------------------------ start-up

  async function start() {
    wireTabs();
    for (const mode of MODES) {
      $(`#form-${mode}`).addEventListener("submit", (event) => {
        event.preventDefault();
        submit(mode);
      });
    }
    $("#copy-permalink").addEventListener("click", copyPermalink);
    $("#whatif-add").addEventListener("click", () => {
      const holder = $("#whatif-columns");
      const count = holder.children.length;
      if (count < 3) holder.append(whatifColumn(DEFAULTS.whatif.cols[count] || DEFAULTS.whatif.cols[0], count));
      updateWhatifButtons();
    });
    $("#whatif-remove").addEventListener("click", () => {
      const holder = $("#whatif-columns");
      if (holder.children.length > 2) holder.lastElementChild.remove();
      updateWhatifButtons();
    });
    showMode("target", false);
    try {
      const kinds = ["models", "runtimes", "quantizations", "hardware-profiles"];
      const lists = await Promise.all(kinds.map((kind) => api("GET", `/v1/catalog/${kind}`)));
      kinds.forEach((kind, index) => { catalogs[kind] = lists[index]; });
      examples = await api("GET", "/v1/selfspec/examples").catch(() => ({}));
    } catch (error) {
      showError("target", error);
      return;
    }
    $$("form select[data-catalog]").forEach(fillCatalogSelect);
    wireRuntimeSelects(document);
    for (const mode of ["target", "hardware", "whatif"]) setFields($(`#form-${mode}`), DEFAULTS[mode]);
    setWhatifColumns(DEFAULTS.whatif.cols.slice(0, 2));
    fillExamples();
    document.body.dataset.ready = "true";
    window.addEventListener("hashchange", restoreFromHash);
    restoreFromHash();
  }

  document.addEventListener("DOMContentLoaded", start);
})();
