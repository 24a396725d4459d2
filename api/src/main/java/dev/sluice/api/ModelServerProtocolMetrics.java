package dev.sluice.api;

import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.metrics.EngineMetrics;

import java.util.List;

/**
 * The gauges of the Gateway API Inference Extension's model server protocol (its proposal 003),
 * under the vLLM names its endpoint picker reads by default, so that a picker in front of Sluice
 * runs with default flags and default {@code engineConfigs}:
 *
 * <ul>
 *   <li>{@code vllm:num_requests_waiting}: requests admitted and not running (waiting for their
 *       first step, preempted or swapped out, or submitted since the last step);</li>
 *   <li>{@code vllm:num_requests_running}: requests with a sequence in the running batch;</li>
 *   <li>{@code vllm:kv_cache_usage_perc}, and {@code vllm:gpu_cache_usage_perc} (the name pickers
 *       before GIE v1.2 read): KV blocks in use over blocks in the pool, a fraction from 0 to 1;</li>
 *   <li>{@code vllm:cache_config_info}: labels {@code block_size} and {@code num_gpu_blocks},
 *       which the picker's prefix-cache scorer sizes its index with;</li>
 *   <li>{@code vllm:lora_requests_info}: Sluice serves no adapters, so {@code max_lora="0"} and
 *       empty adapter lists (every pod scores the same in the picker's LoRA affinity), valued at
 *       the time that (empty) state was set, as vLLM's is; without this family the picker would
 *       log a missing-metric error at every scrape.</li>
 * </ul>
 *
 * <p>Each family has exactly one series for the whole server: the picker picks one pod, not one
 * model version, and when a family has several series it reads only one of them. So these sum
 * over every loaded version, where the {@code sluice:} families keep one series per version.
 */
final class ModelServerProtocolMetrics {

    private final long startedEpochSeconds = System.currentTimeMillis() / 1000;

    /** Appends the families, or nothing while no engine is loaded (as the {@code sluice:} gauges). */
    void write(StringBuilder out, List<EngineService> engines) {
        if (engines.isEmpty()) {
            return;
        }
        long running = 0;
        long pending = 0;
        long blocksUsed = 0;
        long blocksTotal = 0;
        for (EngineService service : engines) {
            EngineMetrics m = service.metrics();
            running += m.requestsRunning();
            // Live count (the gauges are published after each step; a step may take a while on a CPU).
            pending += service.pendingRequests();
            blocksUsed += m.kvBlocksUsed();
            blocksTotal += m.kvBlocksTotal();
        }
        double usage = blocksTotal == 0 ? 0 : (double) blocksUsed / blocksTotal;
        int blockSize = engines.getFirst().engine().options().blockSize();

        gauge(out, "vllm:num_requests_waiting", "Requests admitted and not running, over every model version "
                + "(the model server protocol's TotalQueuedRequests).", "", Math.max(0, pending - running));
        gauge(out, "vllm:num_requests_running", "Requests with a sequence in the running batch, over every model "
                + "version (TotalRunningRequests).", "", running);
        gauge(out, "vllm:kv_cache_usage_perc", "Fraction of KV cache blocks in use, 0 to 1, over every model "
                + "version (KVCacheUtilization).", "", usage);
        gauge(out, "vllm:gpu_cache_usage_perc", "Same as vllm:kv_cache_usage_perc (the name older endpoint "
                + "pickers read).", "", usage);
        gauge(out, "vllm:cache_config_info", "KV cache configuration in labels: tokens per block and blocks in "
                + "all pools.", "block_size=\"" + blockSize + "\",num_gpu_blocks=\"" + blocksTotal + "\"", 1);
        gauge(out, "vllm:lora_requests_info", "LoRA adapters: none (Sluice serves no adapters); the value is when "
                        + "this state was set, in Unix seconds.",
                "max_lora=\"0\",running_lora_adapters=\"\",waiting_lora_adapters=\"\"", startedEpochSeconds);
    }

    private static void gauge(StringBuilder out, String name, String help, String labels, double value) {
        out.append("# HELP ").append(name).append(' ').append(help).append('\n');
        out.append("# TYPE ").append(name).append(" gauge\n");
        out.append(name);
        if (!labels.isEmpty()) {
            out.append('{').append(labels).append('}');
        }
        out.append(' ').append(value == Math.rint(value) ? Long.toString((long) value) : Double.toString(value))
                .append('\n');
    }
}
