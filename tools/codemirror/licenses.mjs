// The licence of every package in the CodeMirror bundle, one after another, for
// docs/assets/vendor/codemirror/LICENSE. Reads esbuild's metafile (the files it bundled)
// and prints, per package: name, version, licence, then its LICENSE file.
// Usage: node licenses.mjs meta.json > LICENSE
import { readFileSync } from "node:fs";

const meta = JSON.parse(readFileSync(process.argv[2], "utf8"));
const packages = new Set();
for (const file of Object.keys(meta.inputs)) {
  const match = file.match(/^node_modules\/((@[^/]+\/)?[^/]+)\//);
  if (match) packages.add(`node_modules/${match[1]}`);
}
const sections = [...packages].sort().map((dir) => {
  const { name, version, license } = JSON.parse(readFileSync(`${dir}/package.json`, "utf8"));
  const text = readFileSync(`${dir}/LICENSE`, "utf8").trim();
  return `${name} ${version} (${license})\n\n${text}\n`;
});
process.stdout.write(sections.join("\n-----\n\n"));
