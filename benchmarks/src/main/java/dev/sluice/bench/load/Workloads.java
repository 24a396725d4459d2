package dev.sluice.bench.load;

import java.util.List;

/** The workloads {@code --workload} can name; a new one is a class added here. */
final class Workloads {

    static final List<Workload> ALL = List.of(
            new ChatLikeWorkload(), new SharedPrefixWorkload(), new MixedWorkload(), new SingleWorkload(),
            new MultiTurnWorkload(),
            new ShortWorkload());

    private Workloads() {
    }

    static Workload byName(String name) throws UsageException {
        for (Workload workload : ALL) {
            if (workload.name().equals(name)) {
                return workload;
            }
        }
        throw new UsageException("unknown --workload '" + name + "'; one of: " + names());
    }

    static String names() {
        return String.join(", ", ALL.stream().map(Workload::name).toList());
    }
}
