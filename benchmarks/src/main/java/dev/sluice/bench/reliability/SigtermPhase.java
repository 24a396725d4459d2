package dev.sluice.bench.reliability;

import java.io.IOException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.OptionalInt;
import java.util.SplittableRandom;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;

/**
 * SIGTERM while streams are in flight: they should finish within the drain period, new requests
 * get 503, the process exits 0, and its log says it drained and has an access-log line for each
 * drained request.
 */
final class SigtermPhase {

    static final String NAME = "sigterm";
    private static final Pattern DRAIN_LINE = Pattern.compile("(?i)drain");

    private final Suite suite;

    SigtermPhase(Suite suite) {
        this.suite = suite;
    }

    PhaseResult run() throws IOException, InterruptedException {
        SuiteOptions o = suite.options();
        int streams = o.integer("sigterm-streams");
        int drain = o.integer("drain-seconds");
        // Long enough to be in flight at SIGTERM, short enough to finish well within the drain.
        int tokens = o.quick() ? 48 : 96;
        List<String> args = new ArrayList<>(suite.threadArgs());
        args.addAll(List.of("--shutdown-drain-seconds", Integer.toString(drain)));
        ServerProcess server = suite.launcher().start(NAME, args);
        try {
            server.http().normalRequestProblem(Duration.ofSeconds(120)); // warm-up
            CountDownLatch started = new CountDownLatch(streams);
            List<StreamClient.Result> results = Collections.synchronizedList(new ArrayList<>());
            List<String> ids = new ArrayList<>();
            List<Thread> threads = new ArrayList<>();
            SplittableRandom r = new SplittableRandom(o.integer("seed"));
            for (int i = 0; i < streams; i++) {
                String id = "reliability-sigterm-" + i;
                ids.add(id);
                String body = Prompts.streaming(i % 2 == 0, Prompts.words(r, 20), tokens);
                boolean chat = i % 2 == 0;
                threads.add(Thread.ofVirtual().start(() -> results.add(StreamClient.stream(server.address(), Prompts.path(chat), body,
                        StreamClient.Plan.full(), Duration.ofSeconds(drain + 60L), id, new StreamClient.Listener() {
                            @Override
                            public void firstToken() {
                                started.countDown();
                            }
                        }))));
            }
            boolean allStarted = started.await(120, TimeUnit.SECONDS);
            int linesBefore = (int) server.logText().lines().count();
            long sigterm = System.nanoTime();
            server.sigterm();
            // The JVM handles the signal asynchronously (hundreds of ms on a busy host): the new
            // request must arrive once the drain has begun, which the log says.
            long logWait = System.nanoTime() + TimeUnit.SECONDS.toNanos(10);
            while (System.nanoTime() < logWait && server.logText().lines().noneMatch(line -> DRAIN_LINE.matcher(line).find())) {
                Thread.sleep(20);
            }
            HttpCheck.Reply during = server.http().post(Bodies.CHAT,
                    "{\"messages\":[{\"role\":\"user\",\"content\":\"Hi\"}],\"max_tokens\":2}", Duration.ofSeconds(10));
            for (Thread t : threads) {
                t.join(Duration.ofSeconds(drain + 70L));
            }
            double streamsDoneS = (System.nanoTime() - sigterm) / 1e9;
            OptionalInt exit = server.awaitExit(Duration.ofSeconds(drain + 60L));
            double exitS = (System.nanoTime() - sigterm) / 1e9;
            String log = server.logText();
            int linesAfter = (int) log.lines().count() - linesBefore;
            return report(server, streams, drain, tokens, allStarted, results, ids, during, streamsDoneS, exit, exitS, log, linesAfter);
        } finally {
            server.close();
        }
    }

    private PhaseResult report(ServerProcess server, int streams, int drain, int tokens, boolean allStarted,
                               List<StreamClient.Result> results, List<String> ids, HttpCheck.Reply during,
                               double streamsDoneS, OptionalInt exit, double exitS, String log, int linesAfter) {
        long complete = results.stream().filter(StreamClient.Result::complete).count();
        List<String> missingAccess = new ArrayList<>();
        for (String id : ids) {
            if (log.lines().noneMatch(line -> line.contains(id))) {
                missingAccess.add(id);
            }
        }
        String drainLine = log.lines().filter(line -> DRAIN_LINE.matcher(line).find()).findFirst().orElse(null);
        List<Criterion> criteria = new ArrayList<>();
        criteria.add(Criterion.check("in-flight streams complete within the drain period", complete == streams && streamsDoneS <= drain,
                complete + " of " + streams + " complete, " + String.format("%.1f s after SIGTERM", streamsDoneS)
                        + (allStarted ? "" : " (not all had started at SIGTERM)")));
        criteria.add(Criterion.check("exit code 0 after a clean drain", exit.isPresent() && exit.getAsInt() == 0,
                exit.isPresent() ? "exit " + exit.getAsInt() + String.format(", %.1f s after SIGTERM", exitS)
                        : "still running " + Math.round(exitS) + " s after SIGTERM"));
        criteria.add(Criterion.check("a new request during the drain gets 503", during.status() == 503,
                during.status() < 0 ? "no response (" + during.note() + ")" : "HTTP " + during.status()));
        criteria.add(Criterion.check("the log has a draining line", drainLine != null, drainLine == null ? "none" : "yes"));
        criteria.add(Criterion.check("the log has an access-log line for every drained request", missingAccess.isEmpty(),
                (ids.size() - missingAccess.size()) + " of " + ids.size()));
        StringBuilder md = new StringBuilder();
        md.append(String.format("%d streaming requests of %d tokens (with ignore_eos), X-Request-Id `reliability-sigterm-N`; SIGTERM "
                + "once every one had its first token; drain period %d s.%n%n", streams, tokens, drain));
        md.append("| figure | value |\n|---|---|\n");
        md.append("| streams complete | ").append(complete).append(" / ").append(streams).append(" |\n");
        md.append(String.format("| last stream ended | %.1f s after SIGTERM |%n", streamsDoneS));
        md.append("| exit code | ").append(exit.isPresent() ? exit.getAsInt() : "none (still running)").append(" |\n");
        md.append(String.format("| exited | %.1f s after SIGTERM |%n", exitS));
        md.append("| new request during the drain | ").append(during.status() < 0 ? "no response: " + ReportWriter.cell(during.note())
                : "HTTP " + during.status()).append(" |\n");
        md.append("| draining line | ").append(drainLine == null ? "missing" : ReportWriter.code(drainLine.strip(), 160)).append(" |\n");
        md.append("| access-log lines of the drained requests | ").append(ids.size() - missingAccess.size()).append(" / ")
                .append(ids.size()).append(missingAccess.isEmpty() ? "" : " (missing: " + String.join(", ", missingAccess) + ")")
                .append(" |\n");
        md.append("| log lines written after SIGTERM | ").append(linesAfter).append(" |\n\n");
        for (StreamClient.Result r : results) {
            if (!r.complete()) {
                md.append("- incomplete stream: ").append(r.error() == null ? "no [DONE] or finish reason" : ReportWriter.cell(r.error()))
                        .append(" after ").append(r.chunks()).append(" chunks\n");
            }
        }
        md.append("\nLast lines of the server's log:\n\n```\n").append(tail(log, 12)).append("\n```\n");
        String setup = "Server: `" + server.options() + "`.";
        return new PhaseResult(NAME, "SIGTERM during streaming", setup, criteria, md.toString());
    }

    private static String tail(String text, int lines) {
        List<String> all = text.lines().toList();
        return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size())).replace("```", "'''");
    }
}
