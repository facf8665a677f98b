// After trunk has built every page into the given directory, for each page (*.html):
// - shrink its wasm with binaryen's `wasm-opt -Oz` (npm binaryen, the same release
//   trunk's configuration names; run here because trunk would download it);
// - minify its wasm-bindgen glue with terser (trunk leaves it as written, about twice
//   the size);
// - rewrite the page's Subresource Integrity hashes for both to match;
// - drop its preloads of wasm-bindgen snippets that its glue never imports: trunk
//   preloads every snippet of the crate, so every page would download the profile
//   editor's Monaco loader.
import { execFileSync } from "node:child_process";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { basename, join } from "node:path";
import { fileURLToPath } from "node:url";
import { minify } from "terser";

const wasmOpt = fileURLToPath(new URL("../node_modules/binaryen/bin/wasm-opt", import.meta.url));
// What rustc's wasm32 target emits by default (Rust 1.95); wasm-opt must accept them.
const wasmFeatures = [
  "--enable-bulk-memory",
  "--enable-mutable-globals",
  "--enable-multivalue",
  "--enable-nontrapping-float-to-int",
  "--enable-reference-types",
  "--enable-sign-ext",
];

const dist = process.argv[2];
if (!dist) throw new Error("usage: node scripts/finish-pages.mjs DIST");

const integrity = (text) => "sha384-" + createHash("sha384").update(text).digest("base64");

// The page with `before`'s integrity hash replaced by `after`'s; a page that does not
// name `before` is a build this script does not understand, so it stops.
const rehash = (html, page, before, after) => {
  const old = integrity(before);
  if (!html.includes(old)) throw new Error(`${page} has no integrity hash ${old} to replace`);
  return html.replaceAll(old, integrity(after));
};

for (const page of readdirSync(dist).filter((f) => f.endsWith(".html"))) {
  const pagePath = join(dist, page);
  let html = readFileSync(pagePath, "utf8");
  const glueRef = html.match(/data-js="?([^"\s>]+\.js)/);
  const wasmRef = html.match(/data-wasm="?([^"\s>]+\.wasm)/);
  if (!glueRef || !wasmRef) continue; // not a console page
  const gluePath = join(dist, basename(glueRef[1]));
  const glue = readFileSync(gluePath, "utf8");

  const wasmPath = join(dist, basename(wasmRef[1]));
  const wasm = readFileSync(wasmPath);
  execFileSync(process.execPath, [wasmOpt, "-Oz", ...wasmFeatures, wasmPath, "-o", wasmPath]);
  html = rehash(html, page, wasm, readFileSync(wasmPath));

  html = html.replace(/<link[^>]*\/snippets\/([^"\s>]+)[^>]*>/g, (link, snippet) =>
    glue.includes(`snippets/${snippet}`) ? link : "",
  );

  const minified = await minify(glue, { module: true, compress: true, mangle: true });
  if (!minified.code) throw new Error(`terser produced nothing for ${gluePath}`);
  html = rehash(html, page, glue, minified.code);
  writeFileSync(gluePath, minified.code);
  writeFileSync(pagePath, html);
}
