package dev.sluice.bench.load;

import com.fasterxml.jackson.databind.JsonNode;

/**
 * What every request of a run asks of the server, apart from its prompt and length.
 *
 * @param responseFormat sent as {@code response_format} (null: none); the constraint then ends
 *                       each output, so {@code ignore_eos} is not sent
 */
record Generation(Endpoint endpoint, String model, double temperature, JsonNode responseFormat) {

    Generation(Endpoint endpoint, String model, double temperature) {
        this(endpoint, model, temperature, null);
    }
}
