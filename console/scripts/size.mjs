// Reports the gzip size of the JavaScript the first screen loads (the index entry and the
// chunks it imports statically), against the 250 KB budget.
import { readFileSync } from "node:fs";
import { resolve } from "node:path";
import { gzipSync } from "node:zlib";

const dist = resolve(import.meta.dirname, "../../src/accessplane/console_dist");
const manifest = JSON.parse(readFileSync(resolve(dist, ".vite/manifest.json"), "utf8"));
const BUDGET = 250 * 1024;

function files(key, seen = new Set()) {
  if (seen.has(key)) return seen;
  seen.add(key);
  for (const imported of manifest[key].imports ?? []) files(imported, seen);
  return seen;
}

let total = 0;
for (const key of files("index.html")) {
  total += gzipSync(readFileSync(resolve(dist, manifest[key].file))).length;
}
const kb = (total / 1024).toFixed(1);
console.log(`First screen JavaScript: ${kb} KB gzip (budget 250 KB)`);
if (total > BUDGET) {
  console.error("Over budget: split the first screen's code or drop a dependency.");
  process.exit(1);
}
