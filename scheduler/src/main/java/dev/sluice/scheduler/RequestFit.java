package dev.sluice.scheduler;

import dev.sluice.scheduler.kv.KvCacheManager;

/**
 * Refuses, before any work, a request that could never complete: longer than the model's
 * context, or needing more KV blocks than the whole pool.
 */
final class RequestFit {

    private RequestFit() {
    }

    /** Throws {@link RequestRejectedException} (with the reason, for the client) when {@code request} cannot fit. */
    static void check(Request request, SchedulerConfig config, KvCacheManager kv) {
        int prompt = request.promptLength();
        int maxTokens = request.stop().maxTokens();
        if (request.prefillOnly() && request.n() > 1) {
            throw new RequestRejectedException("A request that generates nothing has one result: n must be 1.");
        }
        long total = (long) prompt + maxTokens;
        if (total > config.maxModelLength()) {
            throw new RequestRejectedException("This model's maximum context length is " + config.maxModelLength()
                    + " tokens. However, you requested " + total + " tokens (" + prompt + " in the prompt, "
                    + maxTokens + " in the completion). Please reduce the length of the prompt or completion.");
        }
        long blocks = kv.blocksFor(prompt) + (long) request.n() * (kv.blocksFor(maxTokens) + 1);
        if (request.n() == 1) {
            blocks = kv.blocksFor((int) total);
        }
        long poolSize = kv.pool().size();
        if (blocks > poolSize) {
            throw new RequestRejectedException("The request needs up to " + blocks * kv.blockSize()
                    + " tokens of KV cache (" + prompt + " prompt tokens, " + maxTokens + " completion tokens, n="
                    + request.n() + ") but the server's KV cache holds " + poolSize * kv.blockSize()
                    + " tokens. Reduce max_tokens, n or the prompt.");
        }
    }
}
