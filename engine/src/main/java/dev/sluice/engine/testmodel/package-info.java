/**
 * Random-weight GGUF models for tests, benchmarks and the demo mode, written deterministically from
 * a seed because real models cannot be downloaded where Sluice is built. {@link
 * dev.sluice.engine.testmodel.TestModelGenerator} writes them (and caches them by preset, weight
 * type, seed and generator version); {@link dev.sluice.engine.testmodel.Preset} names the shapes,
 * from tiny test models to the exact shapes of SmolLM2-135M and Qwen2.5-0.5B; {@link
 * dev.sluice.engine.testmodel.GgufWriter} is the streaming GGUF writer underneath. The models load
 * in llama.cpp like trained ones and generate gibberish.
 */
package dev.sluice.engine.testmodel;
