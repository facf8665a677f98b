//! Thin bindings to xterm.js (npm `@xterm/xterm` with its fit addon, copied into the
//! console's `xterm/` folder by trunk). Loaded on first use only, like Monaco, so a page
//! that opens no terminal never fetches it.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let loading = null;
function add(element) {
  return new Promise((resolve, reject) => {
    element.onload = () => resolve();
    element.onerror = () => reject(new Error('the terminal could not be loaded'));
    document.head.appendChild(element);
  });
}
export function load_xterm() {
  if (globalThis.Terminal && globalThis.FitAddon) return Promise.resolve();
  if (!loading) {
    const base = new URL('xterm/', document.baseURI).href;
    const style = document.createElement('link');
    style.rel = 'stylesheet';
    style.href = `${base}xterm.css`;
    const script = (name) => { const s = document.createElement('script'); s.src = `${base}${name}`; return s; };
    loading = Promise.all([add(style), add(script('xterm.js')), add(script('addon-fit.js'))])
      .catch((error) => { loading = null; throw error; });
  }
  return loading;
}
export function create_terminal(element, dark, on_data, on_resize, on_leave) {
  const terminal = new globalThis.Terminal({
    cursorBlink: true, convertEol: false, scrollback: 5000, fontSize: 14,
    fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
    theme: dark ? { background: '#111418', foreground: '#e6e8eb' } : { background: '#ffffff', foreground: '#1d2125', cursor: '#1d2125', selectionBackground: '#b4d5fe' },
  });
  const fit = new globalThis.FitAddon.FitAddon();
  terminal.loadAddon(fit);
  terminal.open(element);
  // Ctrl+] leaves the terminal (no keyboard trap); every other key goes to the shell.
  terminal.attachCustomKeyEventHandler((event) => {
    if (event.type === 'keydown' && event.ctrlKey && event.key === ']') { on_leave(); return false; }
    return true;
  });
  terminal.onData((data) => on_data(data));
  terminal.onResize(({ cols, rows }) => on_resize(cols, rows));
  const observer = new ResizeObserver(() => { try { fit.fit(); } catch (_) {} });
  observer.observe(element);
  fit.fit();
  return { terminal, fit, observer };
}
export function columns(handle) { return handle.terminal.cols; }
export function rows(handle) { return handle.terminal.rows; }
// A copy: `bytes` is a view of wasm memory, valid only during this call, and xterm
// parses what it is given later.
export function write(handle, bytes) { handle.terminal.write(new Uint8Array(bytes)); }
export function focus(handle) { handle.terminal.focus(); }
export function dispose(handle) { handle.observer.disconnect(); handle.terminal.dispose(); }
"#)]
extern "C" {
    /// Resolves once xterm.js and its fit addon are loaded (at once if they are).
    pub fn load_xterm() -> js_sys::Promise;
    /// A terminal filling `element` (and following its size). `on_data` gets what the
    /// user types, `on_resize` the new columns and rows, `on_leave` is called on
    /// Ctrl+], the documented key that moves focus out of the terminal.
    pub fn create_terminal(
        element: &web_sys::HtmlElement,
        dark: bool,
        on_data: &Closure<dyn FnMut(String)>,
        on_resize: &Closure<dyn FnMut(u32, u32)>,
        on_leave: &Closure<dyn FnMut()>,
    ) -> JsValue;
    pub fn columns(handle: &JsValue) -> u32;
    pub fn rows(handle: &JsValue) -> u32;
    /// Shows bytes the command wrote (escape sequences are the terminal's to read).
    pub fn write(handle: &JsValue, bytes: &[u8]);
    pub fn focus(handle: &JsValue);
    pub fn dispose(handle: &JsValue);
}
