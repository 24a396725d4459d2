package dev.sluice.bench.load;

import com.fasterxml.jackson.annotation.JsonSubTypes;
import com.fasterxml.jackson.annotation.JsonTypeInfo;

/** How requests are offered to the server during one level of a run. */
@JsonTypeInfo(use = JsonTypeInfo.Id.NAME, property = "mode")
@JsonSubTypes({
    @JsonSubTypes.Type(value = LoadPattern.ClosedLoop.class, name = "closed"),
    @JsonSubTypes.Type(value = LoadPattern.OpenLoop.class, name = "open")
})
sealed interface LoadPattern {

    /** A short name for tables and charts, e.g. {@code concurrency 8} or {@code rate 4/s}. */
    String label();

    /** The number on a chart's x axis. */
    String axisValue();

    /** The x axis title of a chart over levels of this kind. */
    String axisTitle();

    /** N workers, each sending its next request as soon as its previous one ends. */
    record ClosedLoop(int concurrency) implements LoadPattern {
        public ClosedLoop {
            if (concurrency < 1) {
                throw new IllegalArgumentException("concurrency must be at least 1");
            }
        }

        @Override
        public String label() {
            return "concurrency " + concurrency;
        }

        @Override
        public String axisValue() {
            return Integer.toString(concurrency);
        }

        @Override
        public String axisTitle() {
            return "concurrency";
        }
    }

    /**
     * Poisson arrivals at {@code requestRate} per second (infinite: all at once), whatever the
     * server's pace; at most {@code maxConcurrency} in flight when that is positive, later
     * arrivals waiting for a free slot.
     */
    record OpenLoop(double requestRate, int maxConcurrency) implements LoadPattern {
        public OpenLoop {
            if (!(requestRate > 0) || maxConcurrency < 0) {
                throw new IllegalArgumentException("bad open loop: rate " + requestRate + ", max concurrency " + maxConcurrency);
            }
        }

        @Override
        public String label() {
            String cap = maxConcurrency > 0 ? " (max " + maxConcurrency + " in flight)" : "";
            return "rate " + axisValue() + "/s" + cap;
        }

        @Override
        public String axisValue() {
            if (Double.isInfinite(requestRate)) {
                return "inf";
            }
            return requestRate == Math.rint(requestRate) ? Long.toString((long) requestRate) : Double.toString(requestRate);
        }

        @Override
        public String axisTitle() {
            return "request rate (req/s)";
        }
    }
}
