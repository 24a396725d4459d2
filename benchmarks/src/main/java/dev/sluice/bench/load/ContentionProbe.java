package dev.sluice.bench.load;

import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.concurrent.atomic.LongAdder;

/**
 * The Java half of {@code bin/contention}, which starts the servers and the loads (busy loops, a
 * compile) and calls this once per load ({@code measure}) and once at the end ({@code report}).
 * Every request is the same short streaming chat of {@code --max-tokens} tokens; the servers get
 * them in turn, one at a time, so each sees the same host at the same moments.
 */
public final class ContentionProbe {

    /** A short chat prompt; random-weight models ignore its meaning, but its length is fixed. */
    static final String PROMPT = "In one short sentence, what does a river carry to the sea?";

    private final PrintStream out;
    private final PrintStream err;

    ContentionProbe(PrintStream out, PrintStream err) {
        this.out = out;
        this.err = err;
    }

    public static void main(String[] args) throws InterruptedException {
        // See LoadGenerator.main: llama-server closes kept-alive connections after each stream.
        System.setProperty("jdk.httpclient.enableAllMethodRetry", "true");
        System.exit(new ContentionProbe(System.out, System.err).run(args));
    }

    int run(String[] args) throws InterruptedException {
        ContentionCommand command;
        try {
            command = ContentionCommand.parse(args);
        } catch (UsageException e) {
            err.println("error: " + e.getMessage());
            return 2;
        }
        try {
            return switch (command) {
                case ContentionCommand.Help help -> {
                    out.print(help.text());
                    yield 0;
                }
                case ContentionCommand.Measure m -> measure(m);
                case ContentionCommand.Report r -> report(r);
            };
        } catch (IOException e) {
            err.println("error: " + e.getMessage());
            return 1;
        }
    }

    private int measure(ContentionCommand.Measure m) throws IOException, InterruptedException {
        int n = m.targets().size();
        List<OpenAiClient> clients = new ArrayList<>();
        List<Generation> generations = new ArrayList<>();
        try {
            for (ContentionCommand.Target t : m.targets()) {
                OpenAiClient client = new OpenAiClient(t.baseUrl(), null, Duration.ofMinutes(10));
                clients.add(client);
                List<String> models = client.modelIds();
                if (models.isEmpty()) {
                    throw new IOException(t.name() + " lists no model at " + t.baseUrl() + "/v1/models");
                }
                generations.add(new Generation(Endpoint.CHAT, models.getFirst(), 0));
            }
            PlannedRequest request = new PlannedRequest(0, new Prompt.Text("", PROMPT, 16), m.maxTokens());
            LongAdder ignored = new LongAdder();
            long origin = System.nanoTime();
            for (int w = 0; w < m.warmup(); w++) {
                for (int i = 0; i < n; i++) {
                    RequestSample s = clients.get(i).stream(generations.get(i), request, origin, ignored);
                    if (!s.success()) {
                        err.println("[contention] warmup request to " + m.targets().get(i).name() + " failed: " + s.error());
                    }
                    Thread.sleep(m.gapMillis());
                }
            }

            List<List<RequestSample>> samples = new ArrayList<>();
            List<SchedStat> before = new ArrayList<>();
            for (ContentionCommand.Target t : m.targets()) {
                samples.add(new ArrayList<>());
                before.add(SchedStat.of(t.pid()));
            }
            Instant startedAt = Instant.now();
            long start = System.nanoTime();
            long deadline = start + (long) (m.maxSeconds() * 1e9);
            int round = 0;
            for (; round < m.requests(); round++) {
                if (round >= m.minRequests() && System.nanoTime() > deadline) {
                    err.printf(Locale.ROOT, "[contention] %s: stopping after %d rounds, past --max-seconds %.0f%n",
                            m.load(), round, m.maxSeconds());
                    break;
                }
                // Rotate who goes first, so neither server always follows the other's idle spin.
                for (int k = 0; k < n; k++) {
                    int i = (round + k) % n;
                    samples.get(i).add(clients.get(i).stream(generations.get(i), request, origin, ignored));
                    Thread.sleep(m.gapMillis());
                }
            }
            double seconds = (System.nanoTime() - start) / 1e9;

            List<ContentionPhase.Server> servers = new ArrayList<>();
            for (int i = 0; i < n; i++) {
                SchedStat used = SchedStat.of(m.targets().get(i).pid()).since(before.get(i));
                servers.add(server(m.targets().get(i).name(), samples.get(i), used));
            }
            ContentionPhase phase = new ContentionPhase(m.load(), m.description(),
                    startedAt.truncatedTo(ChronoUnit.SECONDS).toString(), seconds, m.hostBefore(), List.copyOf(servers));
            phase.write(m.out());
            for (ContentionPhase.Server s : servers) {
                ContentionReport.Latency l = ContentionReport.Latency.of(s.e2eMs());
                out.printf(Locale.ROOT, "[contention] %-8s %-14s median %s s  p90 %s s  (%d requests, %d errors)%n",
                        m.load(), s.name(), ContentionReport.seconds(l.medianMs()), ContentionReport.seconds(l.p90Ms()),
                        s.requests(), s.errors());
            }
            return servers.stream().allMatch(s -> s.requests() > 0) ? 0 : 1;
        } finally {
            clients.forEach(OpenAiClient::close);
        }
    }

    /** A server's phase: latencies of its successful requests, failures counted apart. */
    static ContentionPhase.Server server(String name, List<RequestSample> samples, SchedStat used) {
        List<RequestSample> ok = samples.stream().filter(RequestSample::success).toList();
        String firstError = samples.stream().filter(s -> !s.success()).map(RequestSample::error).findFirst().orElse(null);
        return new ContentionPhase.Server(name,
                ok.stream().mapToDouble(RequestSample::e2eMs).toArray(),
                ok.stream().mapToDouble(RequestSample::ttftMs).toArray(),
                samples.size() - ok.size(), firstError, used.cpuNanos() / 1e6, used.waitNanos() / 1e6);
    }

    private int report(ContentionCommand.Report r) throws IOException {
        List<ContentionPhase> phases = new ArrayList<>();
        for (String load : r.loads()) {
            Path file = r.rawDir().resolve(load + ".json");
            if (Files.exists(file)) {
                phases.add(ContentionPhase.read(file));
            } else {
                err.println("[contention] no results for load " + load + " (" + file + "): left out of the report");
            }
        }
        String context = r.context() == null ? "" : Files.readString(r.context());
        String markdown = ContentionReport.markdown(r, phases, context);
        Path parent = r.out().toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        Files.writeString(r.out(), markdown);
        out.print(markdown);
        return 0;
    }
}
