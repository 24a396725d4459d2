package dev.sluice.engine.sampling;

import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.util.Arrays;
import java.util.Comparator;
import java.util.HashSet;
import java.util.Random;
import java.util.Set;
import java.util.stream.IntStream;

/** Synthetic logits rows and the reference math the sampler is checked against, in double precision. */
final class TestLogits {

    private TestLogits() {
    }

    static float[] gaussian(Random random, int vocabSize, double scale) {
        float[] logits = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++) {
            logits[i] = (float) (random.nextGaussian() * scale);
        }
        return logits;
    }

    static float[] constant(int vocabSize, float value) {
        float[] logits = new float[vocabSize];
        Arrays.fill(logits, value);
        return logits;
    }

    /** Copies {@code logits} into the off-heap row {@code row}, which it returns. */
    static MemorySegment write(MemorySegment row, float[] logits) {
        MemorySegment.copy(logits, 0, row, ValueLayout.JAVA_FLOAT, 0, logits.length);
        return row;
    }

    static double[] logSoftmax(float[] logits) {
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double sum = 0;
        for (float logit : logits) {
            sum += Math.exp(logit - max);
        }
        double log = max + Math.log(sum);
        double[] result = new double[logits.length];
        for (int i = 0; i < logits.length; i++) {
            result[i] = logits[i] - log;
        }
        return result;
    }

    /** Token ids by descending logit, the lower id first on ties. */
    static int[] ranking(float[] logits) {
        return IntStream.range(0, logits.length).boxed()
                .sorted(Comparator.<Integer>comparingDouble(i -> -logits[i]).thenComparingInt(i -> i))
                .mapToInt(Integer::intValue).toArray();
    }

    /**
     * The tokens top-p keeps after temperature: the most likely ones until the probability before
     * them reaches {@code topP} (a token right at the edge, within {@code slack}, counts as kept).
     */
    static Set<Integer> nucleus(float[] logits, double temperature, double topP, double slack) {
        float[] scaled = new float[logits.length];
        for (int i = 0; i < logits.length; i++) {
            scaled[i] = (float) (logits[i] / temperature);
        }
        double[] logProbs = logSoftmax(scaled);
        Set<Integer> kept = new HashSet<>();
        double before = 0;
        for (int token : ranking(logits)) {
            if (before >= topP + slack) {
                break;
            }
            kept.add(token);
            before += Math.exp(logProbs[token]);
        }
        return kept;
    }

    /** The tokens min-p keeps after temperature: probability at least {@code minP} times the highest. */
    static Set<Integer> minPSet(float[] logits, double temperature, double minP, double slack) {
        double max = Double.NEGATIVE_INFINITY;
        for (float logit : logits) {
            max = Math.max(max, logit);
        }
        double threshold = max / temperature + Math.log(minP) - slack;
        Set<Integer> kept = new HashSet<>();
        for (int i = 0; i < logits.length; i++) {
            if (logits[i] / temperature >= threshold) {
                kept.add(i);
            }
        }
        return kept;
    }

    /** Entropy in nats of the empirical distribution {@code counts}. */
    static double entropy(int[] counts) {
        double total = Arrays.stream(counts).sum();
        double entropy = 0;
        for (int count : counts) {
            if (count > 0) {
                double p = count / total;
                entropy -= p * Math.log(p);
            }
        }
        return entropy;
    }
}
