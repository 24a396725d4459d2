/**
 * The engine: turns a batch of sequences into logits with a transformer graph built from ggml ops,
 * over a paged KV cache it owns. See ARCHITECTURE.md beside the checkout.
 */
package dev.sluice.engine;
