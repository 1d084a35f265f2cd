#!/usr/bin/env node
// Runs one ONNX model with ONNX Runtime (onnxruntime-node, CPU) and writes
// its outputs: the reference for hatc's model tests. Driven by
// ort_outputs.py, which speaks a plain format both sides read easily:
//
//   node ort_reference.js REQUEST.json
//
// REQUEST.json: {"ort_dir": DIR (holding node_modules/onnxruntime-node),
//                "model": PATH, "threads": N (0: ORT's default),
//                "inputs": [{"name", "type", "dims", "file"}],
//                "out_dir": DIR, "warmup": W, "warmup_s": S, "repeat": R}
// Each input file is the tensor's raw little-endian bytes. Writes
// out_dir/output_N.bin (raw bytes) and out_dir/outputs.json:
// [{"name", "type", "dims", "file"}] in the model's output order.
// With "repeat" > 0 (bench/model_perf.py) the session, loaded once, then
// runs W untimed times and more until S seconds have passed (hatc's own
// warm-up rule, kWarmupSeconds in hatc/Measure/Timing.h), then R timed times
// on the same feeds, and
// out_dir/timing.json holds {"samples_s": [...], "median_s", "version"}:
// wall time of each awaited session.run, session creation excluded.
// With "lockstep": true as well, the timed runs are paced by stdin instead:
// after the warm-up it prints "ready", then warms up again and runs once per
// line read, and prints that run's seconds, and at the end of input writes timing.json
// (bench/model_perf.py takes turns between ORT and hatc this way).
// "type" is ORT's name: float32, float64, int8, uint8, int16, uint16,
// int32, uint32, int64, uint64, bool.
'use strict';
const fs = require('fs');
const path = require('path');

const ARRAYS = {
  float32: Float32Array, float64: Float64Array, int8: Int8Array,
  uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array,
  int32: Int32Array, uint32: Uint32Array, int64: BigInt64Array,
  uint64: BigUint64Array, bool: Uint8Array,
};

function fail(message) {
  process.stderr.write(`ort_reference.js: ${message}\n`);
  process.exit(1);
}

function typedArray(type, bytes) {
  const Array_ = ARRAYS[type];
  if (!Array_) fail(`element type ${type} is not supported here`);
  // Copy into an aligned buffer: file buffers may start at any offset.
  const copy = new ArrayBuffer(bytes.length);
  new Uint8Array(copy).set(bytes);
  return new Array_(copy);
}

async function main() {
  if (process.argv.length !== 3) fail('usage: node ort_reference.js REQUEST.json');
  const request = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'));
  const modulePath = path.join(request.ort_dir, 'node_modules', 'onnxruntime-node');
  let ort;
  try {
    ort = require(modulePath);
  } catch (e) {
    fail(`cannot load onnxruntime-node from ${modulePath}: ${e.message}`);
  }
  const options = {
    graphOptimizationLevel: 'all', executionMode: 'sequential',
    executionProviders: ['cpu'],
  };
  if (request.threads > 0) {
    options.intraOpNumThreads = request.threads;
    options.interOpNumThreads = 1;
  }
  let session;
  try {
    session = await ort.InferenceSession.create(request.model, options);
  } catch (e) {
    fail(`ONNX Runtime cannot load ${request.model}: ${e.message}`);
  }
  const feeds = {};
  for (const input of request.inputs) {
    const data = typedArray(input.type, fs.readFileSync(input.file));
    feeds[input.name] = new ort.Tensor(input.type, data, input.dims);
  }
  let results;
  try {
    results = await session.run(feeds);
  } catch (e) {
    fail(`ONNX Runtime failed running ${request.model}: ${e.message}`);
  }
  fs.mkdirSync(request.out_dir, { recursive: true });
  const described = [];
  session.outputNames.forEach((name, i) => {
    const tensor = results[name];
    const data = tensor.data;
    const file = path.join(request.out_dir, `output_${i}.bin`);
    fs.writeFileSync(file, Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    described.push({ name, type: tensor.type, dims: tensor.dims.map(Number), file });
  });
  fs.writeFileSync(path.join(request.out_dir, 'outputs.json'),
                   JSON.stringify(described, null, 1));
  if (request.repeat > 0)
    await time(ort, session, feeds, request, modulePath);
}

async function time(ort, session, feeds, request, modulePath) {
  try {
    const warmUp = async () => {
      const warmupStart = process.hrtime.bigint();
      const warmedFor = () => Number(process.hrtime.bigint() - warmupStart) / 1e9;
      for (let i = 0; i < (request.warmup || 0) || warmedFor() < (request.warmup_s || 0); ++i)
        await session.run(feeds);
    };
    await warmUp();
    const samples = [];
    const timedRun = async () => {
      const start = process.hrtime.bigint();
      await session.run(feeds);
      samples.push(Number(process.hrtime.bigint() - start) / 1e9);
    };
    if (request.lockstep) {
      process.stdout.write('ready\n');
      const lines = require('readline').createInterface({ input: process.stdin });
      for await (const line of lines) { // eslint-disable-line no-unused-vars
        await warmUp(); // its cores idled while the other programs ran
        await timedRun();
        process.stdout.write(`${samples[samples.length - 1]}\n`);
      }
    } else {
      for (let i = 0; i < request.repeat; ++i)
        await timedRun();
    }
    const sorted = [...samples].sort((a, b) => a - b);
    const mid = sorted.length >> 1;
    const median = !sorted.length ? 0
      : sorted.length % 2 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    const version = require(path.join(modulePath, 'package.json')).version;
    fs.writeFileSync(path.join(request.out_dir, 'timing.json'),
                     JSON.stringify({ samples_s: samples, median_s: median, version }));
  } catch (e) {
    fail(`ONNX Runtime failed timing ${request.model}: ${e.message}`);
  }
}

main().catch((e) => fail(e.stack || String(e)));
