package dev.sluice.engine.testmodel;

import java.util.Arrays;

/**
 * One tensor of a model: its GGUF name, its shape in ggml order (row length first: a matrix mapping
 * {@code k} inputs to {@code n} outputs is {@code {k, n}}) and its role, which decides how it is
 * initialized and whether it is stored in the model's weight type.
 */
public record TensorSpec(String name, Role role, long... shape) {

    public enum Role {
        /** Token embeddings or the output projection: one row per token. */
        VOCABULARY,
        /** An RMS norm weight. */
        NORM,
        /** A bias added to a projection's output. */
        BIAS,
        /** The query or key projection. */
        QUERY_KEY,
        /** The value, FFN gate or FFN up projection. */
        PROJECTION,
        /** The attention output projection, writing into the residual stream. */
        ATTENTION_OUTPUT,
        /** The FFN down projection, writing into the residual stream. */
        FFN_OUTPUT
    }

    public TensorSpec {
        shape = shape.clone();
    }

    @Override
    public long[] shape() {
        return shape.clone();
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof TensorSpec t && name.equals(t.name) && role == t.role && Arrays.equals(shape, t.shape);
    }

    @Override
    public int hashCode() {
        return name.hashCode() * 31 + Arrays.hashCode(shape);
    }

    @Override
    public String toString() {
        return name + " " + role + " " + Arrays.toString(shape);
    }

    public long rowLength() {
        return shape[0];
    }

    public long rows() {
        long rows = 1;
        for (int i = 1; i < shape.length; i++) {
            rows *= shape[i];
        }
        return rows;
    }

    public long elements() {
        return rowLength() * rows();
    }

    /** Matrices are stored in the model's weight type; vectors (norms, biases) stay F32, as llama.cpp's converters keep them. */
    public boolean isMatrix() {
        return shape.length == 2;
    }
}
