package dev.sluice.engine.sampling;

import dev.sluice.bindings.llama.LlamaSampler;
import dev.sluice.bindings.llama.LlamaTokenDataArray;

import java.util.List;

/**
 * The pick from a candidate array through llama.cpp's samplers, the path a grammar that
 * constrains first takes (see {@link Sampler}): greedy, the highest logit (the lowest index on
 * ties); otherwise temperature, min-p, top-k and top-p, each on what the previous one left, then
 * llama.cpp's {@code dist} draw seeded by {@link Seeds#nativeSeed}. Owns its native samplers;
 * {@link #close()} frees them. Engine-thread only.
 */
final class NativeDraw {

    private final boolean greedy;
    private final List<LlamaSampler> stages;   // temperature, truncation, dist; empty when greedy or drawn in Java

    private NativeDraw(boolean greedy, List<LlamaSampler> stages) {
        this.greedy = greedy;
        this.stages = stages;
    }

    /** A pick without native stages: greedy, or a sampler whose draws are all in Java. */
    static NativeDraw none(boolean greedy) {
        return new NativeDraw(greedy, List.of());
    }

    /**
     * The stages {@code params} asks for, each added to {@code created} as it is made so that the
     * caller can free them all if a later one fails.
     */
    static NativeDraw of(SamplingParams params, int vocabSize, List<LlamaSampler> created) {
        int first = created.size();
        if (params.temperature() != 1f) {
            track(created, LlamaSampler.temperature(params.temperature()));
        }
        if (params.minP() > 0f) {
            track(created, LlamaSampler.minP(params.minP()));
        }
        if (params.topK() > 1 && params.topK() < vocabSize) {
            track(created, LlamaSampler.topK(params.topK()));
        }
        if (params.topP() < 1f) {
            track(created, LlamaSampler.topP(params.topP()));
        }
        track(created, LlamaSampler.distribution(Seeds.nativeSeed(params.seed())));
        return new NativeDraw(false, List.copyOf(created.subList(first, created.size())));
    }

    private static LlamaSampler track(List<LlamaSampler> created, LlamaSampler sampler) {
        created.add(sampler);
        return sampler;
    }

    /** The token picked from {@code candidates}; the stages may reorder and truncate them. */
    int pick(LlamaTokenDataArray candidates) {
        if (greedy) {
            return candidates.id(argmax(candidates));
        }
        for (LlamaSampler stage : stages) {
            stage.apply(candidates);
        }
        int selected = candidates.selectedIndex();
        if (selected < 0) {
            throw new IllegalStateException("llama.cpp's dist sampler selected no token from "
                    + candidates.size() + " candidates");
        }
        return candidates.id(selected);
    }

    private static int argmax(LlamaTokenDataArray candidates) {
        int best = 0;
        float bestLogit = candidates.logit(0);
        for (int i = 1, n = candidates.size(); i < n; i++) {
            float logit = candidates.logit(i);
            if (logit > bestLogit) {
                best = i;
                bestLogit = logit;
            }
        }
        return best;
    }

    /** Frees the native stages. */
    void close() {
        stages.forEach(LlamaSampler::close);
    }
}
