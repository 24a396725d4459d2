package dev.sluice.scheduler;

import dev.sluice.engine.sampling.Sampler;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.engine.sampling.SamplingWorkspace;
import dev.sluice.engine.text.StopStringMatcher;
import dev.sluice.engine.text.StreamingDetokenizer;
import dev.sluice.engine.text.Tokenizer;

/** A sequence's token-to-text state on the engine thread: its sampler, detokenizer and stop matcher. */
final class Generation implements AutoCloseable {

    final Sampler sampler;
    final StreamingDetokenizer detokenizer;
    final StopStringMatcher stops;
    final boolean logprobs;

    Generation(Request request, int index, Tokenizer tokenizer, SamplingWorkspace workspace) {
        SamplingParams params = request.sampling();
        // n > 1 with a seed: each choice draws from its own stream, reproducibly.
        if (index > 0 && params.seed().isPresent()) {
            params = params.toBuilder().seed(params.seed().getAsLong() + index).build();
        }
        this.sampler = new Sampler(params, workspace);
        this.detokenizer = new StreamingDetokenizer(tokenizer);
        this.stops = request.stop().stopStrings().matcher();
        this.logprobs = params.logprobs();
    }

    @Override
    public void close() {
        sampler.close();
    }
}
