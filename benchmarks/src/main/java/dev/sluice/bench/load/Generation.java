package dev.sluice.bench.load;

/** What every request of a run asks of the server, apart from its prompt and length. */
record Generation(Endpoint endpoint, String model, double temperature) {
}
