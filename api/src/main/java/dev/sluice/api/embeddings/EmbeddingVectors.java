package dev.sluice.api.embeddings;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Base64;

/**
 * What a pooled embedding becomes on the wire: cut to the {@code dimensions} asked for (the
 * leading values, as Matryoshka models are trained), then scaled to unit Euclidean length as
 * llama-server does by default ({@code embd_normalize} 2: the sum of squares in double, one
 * float factor), and written as floats or as base64 of little-endian float32 (OpenAI's form).
 */
public final class EmbeddingVectors {

    private EmbeddingVectors() {
    }

    /** The first {@code dimensions} values of {@code pooled}, L2-normalised. */
    public static float[] normalised(float[] pooled, int dimensions) {
        double sum = 0;
        for (int i = 0; i < dimensions; i++) {
            sum += pooled[i] * pooled[i];
        }
        double norm = Math.sqrt(sum);
        float scale = norm > 0 ? (float) (1.0 / norm) : 0f;
        float[] out = new float[dimensions];
        for (int i = 0; i < dimensions; i++) {
            out[i] = pooled[i] * scale;
        }
        return out;
    }

    /** Base64 of the values as little-endian float32. */
    public static String base64(float[] values) {
        ByteBuffer bytes = ByteBuffer.allocate(values.length * Float.BYTES).order(ByteOrder.LITTLE_ENDIAN);
        bytes.asFloatBuffer().put(values);
        return Base64.getEncoder().encodeToString(bytes.array());
    }
}
