package dev.sluice.testing;

import dev.sluice.bindings.ggml.Backend;
import dev.sluice.bindings.llama.LlamaModel;

import java.util.Locale;

/**
 * Which device the parity tests compute on: the CPU, unless {@code -Dsluice.test.device=gpu}
 * (what {@code bin/gpu-check} passes on a CUDA build), in which case both Sluice and the
 * llama.cpp reference run on the GPU and a missing GPU fails the test instead of quietly
 * testing the CPU again.
 */
public final class TestDevice {

    public static final String PROPERTY = "sluice.test.device";

    private TestDevice() {
    }

    /** True when the tests are asked to run on a GPU. */
    public static boolean gpu() {
        return System.getProperty(PROPERTY, "cpu").toLowerCase(Locale.ROOT).equals("gpu");
    }

    /** The backend to compute on: the CPU with {@code threads} threads, or the GPU. */
    public static Backend backend(int threads) {
        if (!gpu()) {
            return Backend.cpu(threads);
        }
        Backend backend = Backend.best(threads);
        if (backend.isCpu()) {
            backend.close();
            throw new IllegalStateException("-D" + PROPERTY + "=gpu but no GPU backend is registered (a CUDA build of "
                    + "llama.cpp on a machine with a GPU is needed)");
        }
        return backend;
    }

    /** How the llama.cpp reference loads its model: on the CPU, or with every layer on the GPU. */
    public static LlamaModel.Options referenceModel() {
        return gpu() ? new LlamaModel.Options(false, -1) : LlamaModel.Options.CPU;
    }

    /** {@code --device} for a test server. */
    public static String serverDevice() {
        return gpu() ? "gpu" : "cpu";
    }
}
