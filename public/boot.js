// Starts the console. Loaded as an external module so that the Content-Security-Policy
// can forbid inline scripts; trunk writes the hashed file names into data attributes.
const script = document.querySelector("script[data-js][data-wasm]");
const { default: init } = await import(script.dataset.js);
await init({ module_or_path: script.dataset.wasm });
