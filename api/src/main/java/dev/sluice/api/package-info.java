/** The OpenAI-compatible HTTP API (Helidon SE). */
package dev.sluice.api;
