//! Thin bindings to uPlot (npm `uplot`, copied into the console's `uplot/` folder by
//! trunk): small, fast time-series charts. Loaded on first use only, on the pages that
//! chart (a sandbox's, a runner's), like Monaco and xterm.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let loading = null;
function add(element) {
  return new Promise((resolve, reject) => {
    element.onload = () => resolve();
    element.onerror = () => reject(new Error('the charts could not be loaded'));
    document.head.appendChild(element);
  });
}
export function load_uplot() {
  if (globalThis.uPlot) return Promise.resolve();
  if (!loading) {
    const base = new URL('uplot/', document.baseURI).href;
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = `${base}uPlot.min.css`;
    const script = document.createElement('script');
    script.src = `${base}uPlot.iife.min.js`;
    loading = Promise.all([add(style), add(script)]).catch((error) => { loading = null; throw error; });
  }
  return loading;
}
function bytes(value) {
  if (value == null) return '';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  while (Math.abs(value) >= 1024 && unit < units.length - 1) { value /= 1024; unit += 1; }
  return `${value.toFixed(unit === 0 ? 0 : 1)} ${units[unit]}`;
}
function cpu(value) { return value == null ? '' : `${(value / 1000).toFixed(2)} vCPU`; }
export function create_chart(element, label, kind, dark) {
  const format = kind === 'cpu' ? cpu : bytes;
  const ink = dark ? '#c9ced6' : '#4a525c';
  const grid = dark ? '#2b3138' : '#e3e6ea';
  const color = kind === 'cpu' ? '#2f81f7' : '#8957e5';
  const floor = kind === 'cpu' ? 1000 : 64 * 1024 * 1024;
  const axis = { stroke: ink, grid: { stroke: grid, width: 1 }, ticks: { stroke: grid, width: 1 } };
  const options = {
    width: Math.max(element.clientWidth, 200), height: 160,
    // Dots while there are few points (one point draws no line).
    series: [{}, { label, stroke: color, width: 2, fill: `${color}22`, value: (_, v) => format(v),
                   points: { show: (u) => u.data[0].length < 30, size: 5 } }],
    axes: [{ ...axis, values: (u, ticks) => {
             const span = u.scales.x.max - u.scales.x.min;
             const parts = span < 600 ? { hour: '2-digit', minute: '2-digit', second: '2-digit' } : { hour: '2-digit', minute: '2-digit' };
             return ticks.map((t) => new Date(t * 1000).toLocaleTimeString([], parts));
           } },
           { ...axis, size: 80, values: (_, ticks) => ticks.map(format) }],
    // Set with each update (`set_data`): uPlot's own ranges for one or two points
    // span years.
    scales: { x: { time: true, auto: false }, y: { auto: false } },
    cursor: { drag: { x: false, y: false } },
  };
  const chart = new globalThis.uPlot(options, [[], []], element);
  // The chart's data, for whoever needs to read what it shows (tests, assistive tools).
  element.uplot = chart;
  const observer = new ResizeObserver(() => chart.setSize({ width: Math.max(element.clientWidth, 200), height: 160 }));
  observer.observe(element);
  return { chart, observer, floor };
}
// Copies: the arrays are views of wasm memory, valid only during this call. The time
// axis spans at least the last two minutes and ends now; the value axis starts at zero.
export function set_data(handle, times, values) {
  const xs = Array.from(times);
  const ys = Array.from(values);
  const now = Date.now() / 1000;
  const end = Math.max(xs.length ? xs[xs.length - 1] : now, now);
  const start = Math.min(xs.length ? xs[0] : end, end - 120);
  const top = Math.max(ys.reduce((a, b) => Math.max(a, b), 0) * 1.1, handle.floor);
  handle.chart.setData([xs, ys], false);
  handle.chart.batch(() => {
    handle.chart.setScale('x', { min: start, max: end });
    handle.chart.setScale('y', { min: 0, max: top });
  });
}
export function dispose(handle) { handle.observer.disconnect(); handle.chart.destroy(); }
"#)]
extern "C" {
    /// Resolves once uPlot is loaded (at once if it is).
    pub fn load_uplot() -> js_sys::Promise;
    /// A chart of one series filling `element`'s width; `kind` is `cpu` (millicores,
    /// shown as vCPU) or `memory` (bytes).
    pub fn create_chart(
        element: &web_sys::HtmlElement,
        label: &str,
        kind: &str,
        dark: bool,
    ) -> JsValue;
    /// Shows `values` at `times` (seconds since the epoch).
    pub fn set_data(handle: &JsValue, times: &[f64], values: &[f64]);
    pub fn dispose(handle: &JsValue);
}
