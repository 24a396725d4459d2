package dev.sluice.bindings.ggml;

import java.lang.foreign.Arena;
import java.lang.foreign.ValueLayout;

/**
 * Test inputs of a small graph: a weight {@code w} [64, 48] and an activation {@code x} [64, 5],
 * F32, with fixed smooth values. Written before every compute: the allocator may reuse an input's
 * memory once it is read.
 */
record MatMulInputs(Tensor w, Tensor x, float[] wData, float[] xData) {

    static MatMulInputs in(GgmlContext ctx) {
        float[] wData = new float[64 * 48];
        float[] xData = new float[64 * 5];
        for (int i = 0; i < wData.length; i++) {
            wData[i] = (float) Math.sin(i * 0.37);
        }
        for (int i = 0; i < xData.length; i++) {
            xData[i] = (float) Math.cos(i * 0.11);
        }
        return new MatMulInputs(ctx.newTensor(GgmlType.F32, 64, 48).asInput(), ctx.newTensor(GgmlType.F32, 64, 5).asInput(),
                wData, xData);
    }

    void write(Arena arena) {
        w.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, wData), 0);
        x.write(arena.allocateFrom(ValueLayout.JAVA_FLOAT, xData), 0);
    }
}
