//! Thin bindings to the Monaco editor (npm `monaco-editor`, copied into the console's
//! `monaco/` folder by trunk). Monaco is loaded on first use only, so it is never part of
//! a page that does not edit; its AMD loader is the way to load it without a bundler.
//! Options and markers cross as JSON; everything else is the few calls the profile
//! editor makes.

use wasm_bindgen::prelude::*;

#[wasm_bindgen(inline_js = r#"
let loading = null;
export function load_monaco() {
  if (globalThis.monaco) return Promise.resolve();
  if (!loading) {
    const base = new URL('monaco/vs', document.baseURI).href;
    loading = new Promise((resolve, reject) => {
      const script = document.createElement('script');
      script.src = `${base}/loader.js`;
      script.onload = () => {
        globalThis.require.config({ paths: { vs: base } });
        globalThis.require(['vs/editor/editor.main'], () => resolve(), (error) => { loading = null; reject(error); });
      };
      script.onerror = () => { loading = null; reject(new Error('the editor script could not be loaded')); };
      document.head.appendChild(script);
    });
  }
  return loading;
}
export function create_editor(element, value, language, dark, on_change, on_escape) {
  const monaco = globalThis.monaco;
  const editor = monaco.editor.create(element, {
    value, language, theme: dark ? 'vs-dark' : 'vs', automaticLayout: true,
    minimap: { enabled: false }, scrollBeyondLastLine: false, tabSize: 2, fixedOverflowWidgets: true,
    ariaLabel: 'Profile text', dropIntoEditor: { enabled: false },
  });
  editor.onDidChangeModelContent(() => on_change(editor.getValue()));
  // Escape leaves the editor (no keyboard trap) unless a widget of its own is open.
  editor.addCommand(monaco.KeyCode.Escape, () => on_escape(),
    '!suggestWidgetVisible && !findWidgetVisible && !renameInputVisible && !parameterHintsVisible');
  return editor;
}
export function set_value(editor, value) {
  if (editor.getValue() !== value) editor.setValue(value);
}
export function set_language(editor, language) {
  globalThis.monaco.editor.setModelLanguage(editor.getModel(), language);
}
export function set_markers(editor, markers) {
  const monaco = globalThis.monaco;
  const model = editor.getModel();
  monaco.editor.setModelMarkers(model, 'profile', JSON.parse(markers).map((m) => ({
    startLineNumber: m.line, startColumn: m.column,
    endLineNumber: m.line, endColumn: model.getLineMaxColumn(Math.min(m.line, model.getLineCount())),
    message: m.message, severity: monaco.MarkerSeverity.Error,
  })));
}
export function reveal(editor, line, column) {
  editor.revealLineInCenter(line);
  editor.setPosition({ lineNumber: line, column });
  editor.focus();
}
export function dispose(editor) { editor.dispose(); }
"#)]
extern "C" {
    /// Resolves once Monaco is loaded (at once if it already is).
    pub fn load_monaco() -> js_sys::Promise;
    /// An editor in `element` holding `value`; `on_change` gets the whole text after
    /// every edit, `on_escape` is called when Escape should leave the editor.
    pub fn create_editor(
        element: &web_sys::HtmlElement,
        value: &str,
        language: &str,
        dark: bool,
        on_change: &Closure<dyn FnMut(String)>,
        on_escape: &Closure<dyn FnMut()>,
    ) -> JsValue;
    /// Replaces the text unless it already is `value` (so typing is not disturbed).
    pub fn set_value(editor: &JsValue, value: &str);
    pub fn set_language(editor: &JsValue, language: &str);
    /// `markers`: a JSON array of `{line, column, message}` (1-based).
    pub fn set_markers(editor: &JsValue, markers: &str);
    /// Scrolls to and puts the cursor at `line`, `column`, and focuses the editor.
    pub fn reveal(editor: &JsValue, line: u32, column: u32);
    pub fn dispose(editor: &JsValue);
}
