/**
 * The scheduler: continuous batching over the engine's paged KV blocks, with prefix caching,
 * chunked prefill, preemption and cancellation. It never touches tensors or native memory.
 */
package dev.sluice.scheduler;
