package dev.sluice.api.web;

import com.fasterxml.jackson.databind.JsonNode;
import dev.sluice.api.PrometheusText;
import dev.sluice.api.ServerConfig;
import dev.sluice.api.TestServer;
import dev.sluice.engine.testmodel.Preset;
import dev.sluice.engine.testmodel.TestModelGenerator;
import dev.sluice.engine.testmodel.WeightType;
import dev.sluice.testing.TestDevice;
import dev.sluice.testing.TestModels;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.openqa.selenium.By;
import org.openqa.selenium.WebElement;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicBoolean;

import static dev.sluice.api.web.HeadlessChromium.await;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The chat page and the dashboard in a real headless Chromium against a real server on loopback:
 * streaming, Stop (the server cancels the request and frees its blocks), Markdown that cannot run
 * what a model writes, the key prompt, a phone-sized viewport, the CSP, and a dashboard whose
 * numbers move under load. The server serves the tiny random-weight Qwen2 as {@code tiny} in two
 * versions (80/20, with a guard), so the dashboard has a route and traffic per version.
 */
class BrowserTest {

    static final Duration WAIT = Duration.ofSeconds(60);
    static final Path SCREENSHOTS = Path.of("target", "screenshots");

    @TempDir
    static Path dir;
    static TestServer server;
    static HeadlessChromium browser;
    static Path stories;

    @BeforeAll
    static void start() throws Exception {
        if (HeadlessChromium.unavailable().isPresent()) {
            // Each test is reported skipped with the reason (an assumption here would hide it).
            System.err.println("BrowserTest " + HeadlessChromium.unavailable().get());
            return;
        }
        browser = HeadlessChromium.start();
        Path file = dir.resolve("models.yaml");
        String yaml = """
                models:
                  - {name: tiny, version: "1", path: "%s"}
                  - {name: tiny, version: "2", path: "%s"}
                routes:
                  tiny:
                    weights: {"1": 80, "2": 20}
                    guard: {max_error_rate: 0.5, max_ttft_p99_ratio: 0, min_requests: 20}
                """.formatted(TestServer.modelPath(),
                TestModelGenerator.ensure(Preset.TINY_QWEN2, WeightType.F16, TestServer.MODEL_SEED + 1));
        // With real (if tiny) weights, for screenshots that show prose rather than random tokens. Its
        // GGUF has no chat template: the story so far is the prompt.
        stories = TestModels.sharedModelsDir().map(d -> d.resolve("stories260K.gguf")).filter(Files::isRegularFile).orElse(null);
        if (stories != null) {
            yaml = yaml.replace("routes:", """
                      - name: stories
                        version: "1"
                        path: "%s"
                        max_model_len: 2048
                        chat_template: "{%% for m in messages %%}{{ m.content }}{%% endfor %%}"
                    routes:""".formatted(stories));
        }
        Files.writeString(file, yaml);
        server = TestServer.startModels(ServerConfig.load(new String[] {"--port", "0", "--models", file.toString(),
                "--device", TestDevice.serverDevice(), "--threads", "1", "--kv-cache-memory", "8MiB",
                "--max-model-len", "16384"}, Map.of()));
    }

    @BeforeEach
    void needsABrowser() {
        assumeTrue(browser != null, () -> HeadlessChromium.unavailable().orElse("skipped: the browser did not start"));
    }

    @AfterAll
    static void stop() throws Exception {
        if (browser != null) {
            browser.close();
        }
        if (server != null) {
            server.close();
        }
    }

    String url(String path) {
        return "http://127.0.0.1:" + server.port() + path;
    }

    WebElement id(String id) {
        return browser.driver().findElement(By.id(id));
    }

    /** Opens the chat page on a fresh conversation and waits for the model list. */
    void openChat(TestServer on) {
        browser.open("http://127.0.0.1:" + on.port() + "/");
        browser.js("localStorage.clear(); sessionStorage.clear();");
        browser.open("http://127.0.0.1:" + on.port() + "/");
    }

    void awaitModels(String expected) {
        await(WAIT, () -> "the model list to hold " + expected, () ->
                id("model").findElements(By.tagName("option")).stream().anyMatch(o -> expected.equals(o.getAttribute("value"))));
    }

    /** Picks a model as a user would, firing the select's change event. */
    void pickModel(String model) {
        browser.js("const s = document.getElementById('model'); s.value = arguments[0];"
                + " s.dispatchEvent(new Event('change'));", model);
        assertEquals(model, id("model").getAttribute("value"));
    }

    /** The last answer's element. */
    WebElement lastAnswer() {
        List<WebElement> answers = browser.driver().findElements(By.cssSelector(".msg.assistant"));
        return answers.isEmpty() ? null : answers.getLast();
    }

    String answerState() {
        WebElement a = lastAnswer();
        return a == null ? null : a.getAttribute("data-state");
    }

    int answerLength() {
        return ((Number) browser.js("const a = [...document.querySelectorAll('.msg.assistant .body')].at(-1);"
                + " return a ? a.textContent.length : -1;")).intValue();
    }

    void send(String text, int maxTokens) {
        send(text, maxTokens, 0.7);
    }

    /** Types the settings into the page's settings panel and the message into its composer, then presses Send. */
    void send(String text, int maxTokens, double temperature) {
        id("settings").findElement(By.tagName("summary")).click();
        for (Map.Entry<String, String> field : Map.of("max-tokens", Integer.toString(maxTokens),
                "temperature", Double.toString(temperature)).entrySet()) {
            WebElement input = id(field.getKey());
            input.clear();
            input.sendKeys(field.getValue());
        }
        id("settings").findElement(By.tagName("summary")).click();
        id("prompt").sendKeys(text);
        id("send").click();
    }

    static double sum(PrometheusText metrics, String name, String key, String value) {
        return metrics.samples().stream().filter(s -> s.name().equals(name)
                && (key == null || value.equals(s.labels().get(key)))).mapToDouble(PrometheusText.Sample::value).sum();
    }

    /** No message about the Content-Security-Policy (nor any other error) in the console since the last look. */
    void assertCleanConsole() {
        assertCleanConsole(List.of());
    }

    /** The same, but errors containing one of {@code expected} are fine. */
    void assertCleanConsole(List<String> expected) {
        List<String> console = browser.console();
        assertTrue(console.stream().noneMatch(l -> l.contains("Content Security Policy") || l.contains("Refused to")
                || (l.contains("SEVERE") && expected.stream().noneMatch(l::contains))), () -> "console: " + console);
    }

    /** Waits until no request runs or waits on any version and no KV block is referenced. */
    static PrometheusText awaitIdle() {
        PrometheusText[] last = new PrometheusText[1];
        await(WAIT, () -> "the engines to go idle: " + last[0].samples().stream()
                .filter(x -> x.name().matches("sluice:(num_requests_running|num_requests_waiting|kv_cache_blocks_used)")).toList(),
                () -> {
                    last[0] = server.metrics();
                    return sum(last[0], "sluice:num_requests_running", null, null) == 0
                            && sum(last[0], "sluice:num_requests_waiting", null, null) == 0
                            && sum(last[0], "sluice:kv_cache_blocks_used", null, null) == 0;
                });
        return last[0];
    }

    @Test
    void answersStreamTokenByTokenAndStopCancelsTheRequestOnTheServer() throws Exception {
        openChat(server);
        awaitModels("tiny");
        pickModel("tiny");
        double abortsBefore = sum(server.metrics(), "sluice:request_success_total", "finished_reason", "abort");
        send("Tell me a long story.", 16000);

        // The answer grows while it streams: several distinct lengths, each longer than the last.
        List<Integer> lengths = new ArrayList<>();
        await(WAIT, () -> "the answer to grow while streaming; lengths seen " + lengths + ", state " + answerState(), () -> {
            int length = answerLength();
            if (length > 0 && (lengths.isEmpty() || length > lengths.getLast()) && "streaming".equals(answerState())) {
                lengths.add(length);
            }
            return lengths.size() >= 4;
        });
        assertEquals("streaming", answerState(), "16000 tokens take longer than seeing the answer grow");
        assertEquals(1, sum(server.metrics(), "sluice:num_requests_running", null, null), "the server is generating it");
        assertTrue(id("send").getAttribute("hidden") != null && id("stop").isDisplayed());

        id("stop").click();
        await(WAIT, () -> "the answer to be marked stopped, state " + answerState(), () -> "stopped".equals(answerState()));
        int stoppedAt = answerLength();
        // On the server: the request was cancelled (finished as an abort) and its KV blocks were freed.
        PrometheusText after = awaitIdle();
        assertEquals(0, sum(after, "sluice:num_requests_running", null, null));
        assertEquals(abortsBefore + 1, sum(after, "sluice:request_success_total", "finished_reason", "abort"), "one abort");
        assertEquals(0, sum(after, "sluice:kv_cache_blocks_used", null, null));
        assertTrue(lastAnswer().findElement(By.className("meta")).getText().contains("stopped"));
        assertEquals(stoppedAt, answerLength(), "nothing arrives after Stop");
        assertTrue(id("stop").getAttribute("hidden") != null && id("send").isDisplayed());
        assertCleanConsole();
    }

    @Test
    void aFinishedAnswerShowsItsSpeedAndIsKeptInLocalStorage() {
        openChat(server);
        awaitModels("tiny:2");
        pickModel("tiny:2");
        id("settings").findElement(By.tagName("summary")).click();
        id("system").sendKeys("You are terse.");
        id("settings").findElement(By.tagName("summary")).click();
        send("Hello there", 24, 0);
        await(WAIT, () -> "the answer to finish, state " + answerState(), () -> "done".equals(answerState()));
        // Greedy, so the API gives the same answer to the same messages (the system prompt first): the page
        // sent them and assembled the streamed deltas exactly.
        JsonNode direct = server.postOk("/v1/chat/completions", Map.of("model", "tiny:2", "max_tokens", 24,
                "temperature", 0, "messages", List.of(Map.of("role", "system", "content", "You are terse."),
                        Map.of("role", "user", "content", "Hello there"))));
        String expected = direct.get("choices").get(0).get("message").get("content").textValue();
        String meta = lastAnswer().findElement(By.className("meta")).getText();
        assertTrue(meta.startsWith("tiny:2") && meta.matches("(?s).*\\d+(\\.\\d)? tok/s · TTFT \\d+ ms · 24 tokens.*"), meta);
        JsonNode stored = TestServer.parse((String) browser.js("return localStorage.getItem('sluice.conversations')"));
        JsonNode messages = stored.get(stored.size() - 1).get("messages");
        assertEquals("Hello there", messages.get(0).get("content").textValue());
        assertEquals(expected, messages.get(1).get("content").textValue());
        // A reload shows the conversation again.
        browser.open(url("/"));
        await(WAIT, () -> "the stored conversation", () -> lastAnswer() != null
                && lastAnswer().findElement(By.className("meta")).getText().equals(meta));
        assertCleanConsole();
    }

    static final String HOSTILE = """
            Here is <script>window.__pwned = 'script'</script> and <img src=x onerror="window.__pwned = 'img'">.

            ```html
            <script>window.__pwned = 'code'</script>
            ```

            - **bold** and `<b>code</b>`
            - [a link](javascript:window.__pwned='link') and [a real one](https://example.org/x)

            <iframe src="javascript:window.__pwned='iframe'"></iframe>
            """;

    @Test
    void modelOutputIsRenderedAsTextNeverAsMarkup() {
        // The renderer itself, imported as the page imports it.
        browser.open(url("/"));
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) browser.jsAsync("""
                const done = arguments[arguments.length - 1];
                import('/ui/markdown.js').then(m => {
                  const div = document.createElement('div');
                  div.append(m.renderMarkdown(arguments[0]));
                  document.body.append(div);
                  setTimeout(() => done({
                    text: div.textContent,
                    dangerous: div.querySelectorAll('script, img, iframe, [onerror], [src]').length,
                    links: [...div.querySelectorAll('a')].map(a => a.href),
                    code: div.querySelector('pre code').textContent,
                    strong: div.querySelector('li strong').textContent,
                    items: div.querySelectorAll('ul > li').length,
                    pwned: window.__pwned ?? null,
                  }), 300);
                }, e => done({error: String(e)}));
                """, HOSTILE);
        assertNull(r.get("error"), () -> String.valueOf(r));
        assertEquals(0L, r.get("dangerous"), () -> String.valueOf(r));
        assertNull(r.get("pwned"), () -> String.valueOf(r));
        String text = (String) r.get("text");
        assertTrue(text.contains("<script>window.__pwned = 'script'</script>") && text.contains("<img src=x onerror="), text);
        assertEquals("<script>window.__pwned = 'code'</script>", r.get("code"));
        assertEquals("bold", r.get("strong"));
        assertEquals(2L, r.get("items"));
        assertEquals(List.of("https://example.org/x"), r.get("links"), "the javascript: link is left as text");

        // The page's own path: a stored answer holding markup, shown after a reload.
        String conversation = TestServer.json(List.of(Map.of("id", "x1", "title", "t", "messages", List.of(
                Map.of("role", "user", "content", "<img src=x onerror=\"window.__pwned='user'\">"),
                Map.of("role", "assistant", "content", HOSTILE, "model", "tiny")))));
        browser.js("localStorage.setItem('sluice.conversations', arguments[0]);"
                + " localStorage.setItem('sluice.settings', JSON.stringify({current: 'x1'}));", conversation);
        browser.open(url("/"));
        await(WAIT, () -> "the stored answer", () -> lastAnswer() != null);
        awaitModels("tiny");
        WebElement messages = id("messages");
        assertTrue(messages.findElements(By.cssSelector("script, img, iframe")).isEmpty(), messages.getAttribute("innerHTML"));
        assertTrue(lastAnswer().getText().contains("<script>window.__pwned = 'script'</script>"), lastAnswer().getText());
        assertNull(browser.js("return window.__pwned ?? null"));
        assertCleanConsole();
    }

    @Test
    void thePagesParsersFollowTheFormats() {
        browser.open(url("/"));
        @SuppressWarnings("unchecked")
        Map<String, Object> r = (Map<String, Object>) browser.jsAsync("""
                const done = arguments[arguments.length - 1];
                Promise.all([import('/ui/prometheus.js'), import('/ui/sse.js')]).then(async ([p, sse]) => {
                  const text = [
                    '# HELP x_seconds A histogram.', '# TYPE x_seconds histogram',
                    'x_seconds_bucket{model_name="a",version="1",le="0.1"} 2',
                    'x_seconds_bucket{model_name="a",version="1",le="0.5"} 6',
                    'x_seconds_bucket{model_name="a",version="1",le="1"} 8',
                    'x_seconds_bucket{model_name="a",version="1",le="+Inf"} 10',
                    'x_seconds_bucket{model_name="b",version="2",le="0.1"} 10',
                    'x_seconds_bucket{model_name="b",version="2",le="0.5"} 10',
                    'x_seconds_bucket{model_name="b",version="2",le="1"} 10',
                    'x_seconds_bucket{model_name="b",version="2",le="+Inf"} 10',
                    'g{model_name="a \\\\"q\\\\"",version="1"} 3', 'g{model_name="b",version="2"} 4.5', ''].join('\\n');
                  const samples = p.parse(text);
                  const a = p.buckets(samples, 'x_seconds', p.seriesFilter('a:1'));
                  const earlier = p.buckets(p.parse(text.replaceAll('} 10', '} 9')), 'x_seconds', p.seriesFilter('a:1'));
                  // SSE split at awkward places: inside a line, between \\r and \\n, a comment, a two-line event.
                  const parts = ['data: {"a"', ':1}\\r', '\\n\\r\\n: keep-alive\\n\\ndata: x\\ndata', ': y\\n\\ndata: [DONE]\\n\\n'];
                  const body = new ReadableStream({ start(c) { parts.forEach(x => c.enqueue(new TextEncoder().encode(x))); c.close(); } });
                  const events = [];
                  for await (const d of sse.sseData(new Response(body))) events.push(d);
                  done({
                    labels: samples.find(s => s.name === 'g').labels.model_name,
                    sumAll: p.sum(samples, 'g'), sumB: p.sum(samples, 'g', p.seriesFilter('b:2')),
                    p10: p.quantile(0.1, a), p50: p.quantile(0.5, a), p99: p.quantile(0.99, a),
                    merged: p.quantile(0.5, p.buckets(samples, 'x_seconds')),
                    window: p.bucketDelta(a, earlier).map(([le, c]) => c), none: p.quantile(0.5, p.bucketDelta(a, a)),
                    events,
                  });
                }).catch(e => done({ error: String(e) }));
                """);
        assertNull(r.get("error"), () -> String.valueOf(r));
        assertEquals("a \"q\"", r.get("labels"));
        assertEquals(7.5, ((Number) r.get("sumAll")).doubleValue());
        assertEquals(4.5, ((Number) r.get("sumB")).doubleValue());
        // As PromQL's histogram_quantile: rank q * count, linear inside its bucket, the +Inf bucket
        // answers the highest finite bound.
        assertEquals(0.05, ((Number) r.get("p10")).doubleValue(), 1e-12);
        assertEquals(0.4, ((Number) r.get("p50")).doubleValue(), 1e-12);
        assertEquals(1.0, ((Number) r.get("p99")).doubleValue(), 1e-12);
        assertEquals(0.1 * 10 / 12, ((Number) r.get("merged")).doubleValue(), 1e-12, "both series' buckets summed");
        assertEquals(List.of(0L, 0L, 0L, 1L), r.get("window"), "what the last scrape added");
        assertNull(r.get("none"), "no observations, no percentile");
        assertEquals(List.of("{\"a\":1}", "x\ny", "[DONE]"), r.get("events"));
    }

    @Test
    void theCspForbidsInlineScriptAndTheConsoleReportsIt() {
        browser.open(url("/dashboard"));
        browser.console(); // drain
        Object ran = browser.js("const s = document.createElement('script'); s.textContent = 'window.__inline = 1';"
                + " document.head.append(s); return window.__inline === 1;");
        assertEquals(Boolean.FALSE, ran, "an inline script ran despite the CSP");
        List<String> console = browser.console();
        assertTrue(console.stream().anyMatch(l -> l.contains("Content Security Policy")), () -> "console: " + console);
    }

    @Test
    void theChatPageFitsAPhoneAndScreenshotsAreWritten() {
        openChat(server);
        String model = stories != null ? "stories" : "tiny";
        awaitModels(model);
        pickModel(model);
        send("Once upon a time, there was a little dog.", 60, 0);
        await(WAIT, () -> "the answer to finish", () -> "done".equals(answerState()));
        browser.screenshot(SCREENSHOTS.resolve("chat-desktop.png"));
        browser.viewport(390, 844, true);
        try {
            assertNoHorizontalOverflow("/");
            browser.screenshot(SCREENSHOTS.resolve("chat-phone.png"));
            // A long unbroken line and a wide code block must not widen the page either.
            browser.js("const a = document.querySelector('.msg.assistant .body');"
                    + " a.append(Object.assign(document.createElement('p'), {textContent: 'x'.repeat(300)}));"
                    + " const pre = document.createElement('pre'); pre.textContent = 'y'.repeat(300); a.append(pre);");
            assertNoHorizontalOverflow("/");
        } finally {
            browser.viewport(HeadlessChromium.DESKTOP_WIDTH, HeadlessChromium.DESKTOP_HEIGHT, false);
        }
        assertCleanConsole();
    }

    void assertNoHorizontalOverflow(String page) {
        @SuppressWarnings("unchecked")
        Map<String, Object> size = (Map<String, Object>) browser.js(
                "return {inner: window.innerWidth, scroll: document.documentElement.scrollWidth,"
                        + " body: document.body.scrollWidth};");
        assertEquals(390L, size.get("inner"), page);
        assertTrue((Long) size.get("scroll") <= 390 && (Long) size.get("body") <= 390, page + ": " + size);
    }

    void awaitPolls(int polls) {
        await(WAIT, () -> "the dashboard to poll " + polls + " times", () -> polls() >= polls);
    }

    String stat(String name) {
        return ((String) browser.js("const t = document.querySelector('[data-stat=\"' + arguments[0] + '\"] .v');"
                + " return t ? t.textContent : null;", name));
    }

    static final String PREFIX = "The river ran past the old mill and under the stone bridge, ".repeat(5).strip();

    int polls() {
        return ((Number) browser.js("return Number(document.body.dataset.polls || 0)")).intValue();
    }

    @Test
    void theDashboardShowsNumbersThatMoveUnderLoad() throws Exception {
        browser.open(url("/dashboard"));
        awaitPolls(2);
        int pollsBefore = polls();
        String generatedBefore = stat("generated");
        assertNotEquals(null, generatedBefore);
        assertEquals("0", stat("running"));

        AtomicBoolean stop = new AtomicBoolean();
        List<Thread> clients = new ArrayList<>();
        for (String model : List.of("tiny", "tiny:2")) {
            clients.add(Thread.ofVirtual().start(() -> {
                while (!stop.get()) {
                    // A shared 60-word prefix: whole KV blocks the prefix cache serves again.
                    server.post("/v1/completions", Map.of("model", model, "prompt", PREFIX + " " + System.nanoTime(),
                            "max_tokens", 200, "ignore_eos", true));
                }
            }));
        }
        List<String> running = new ArrayList<>();
        try {
            await(WAIT, () -> "the dashboard to show requests running and tokens generated; running seen " + running, () -> {
                String r = stat("running");
                if (!"0".equals(r) && !"–".equals(r)) {
                    running.add(r);
                }
                return !running.isEmpty() && !generatedBefore.equals(stat("generated"))
                        && !"–".equals(stat("tokens-per-second")) && !"0".equals(stat("tokens-per-second"));
            });
            await(WAIT, () -> "a TTFT percentile", () -> !"–".equals(stat("ttft-p50")));
            await(WAIT, () -> "prefix-cache hits", () -> !"–".equals(stat("hit-rate")) && !"0".equals(stat("hit-rate")));
            awaitPolls(pollsBefore + 10); // a few seconds of lines for the screenshot
            browser.screenshot(SCREENSHOTS.resolve("dashboard-desktop.png"));
            browser.viewport(390, 844, true);
            try {
                assertNoHorizontalOverflow("/dashboard");
                browser.screenshot(SCREENSHOTS.resolve("dashboard-phone.png"));
            } finally {
                browser.viewport(HeadlessChromium.DESKTOP_WIDTH, HeadlessChromium.DESKTOP_HEIGHT, false);
            }
        } finally {
            stop.set(true);
            for (Thread t : clients) {
                t.join();
            }
        }
        // Both versions' traffic is drawn, and the route shows its weights and guard.
        await(WAIT, () -> "both versions in the traffic chart", () -> {
            String legend = id("chart-versions").getText();
            return legend.contains("tiny:1") && legend.contains("tiny:2");
        });
        WebElement route = browser.driver().findElement(By.cssSelector("[data-route=\"tiny\"]"));
        String text = route.getText();
        assertTrue(text.contains("stable 1") && text.contains("guard: error rate ≤ 0.5") && text.contains("80 %")
                && text.contains("20 %") && text.contains("(canary)"), text);
        assertFalse(browser.driver().findElements(By.cssSelector("#chart-tokens path.line")).stream()
                .allMatch(p -> p.getAttribute("d").isEmpty()), "the tokens/s line is drawn");
        assertCleanConsole();
    }

    @Test
    void thePagesAskForTheKeysAndKeepThemInSessionStorageOnly() throws Exception {
        try (TestServer keyed = TestServer.start("--api-key", "client-key", "--admin-api-key", "admin-key")) {
            String base = "http://127.0.0.1:" + keyed.port();
            openChat(keyed);
            await(WAIT, () -> "the key form", () -> id("key-form").isDisplayed());
            assertTrue(id("key-message").getText().contains("API key"), id("key-message").getText());
            id("key").sendKeys("wrong");
            id("key-form").findElement(By.tagName("button")).click();
            await(WAIT, () -> "the refusal", () -> id("key-form").isDisplayed()
                    && id("key-message").getText().startsWith("That key was refused."));
            id("key").sendKeys("client-key");
            id("key-form").findElement(By.tagName("button")).click();
            awaitModels(TestServer.MODEL);
            assertFalse(id("key-form").isDisplayed());
            assertEquals("client-key", browser.js("return sessionStorage.getItem('sluice.apiKey')"));
            assertFalse(((String) browser.js("return JSON.stringify(localStorage)")).contains("client-key"));
            send("Hi", 4);
            await(WAIT, () -> "an answer with the key", () -> "done".equals(answerState()));

            // The dashboard wants the admin key: the API key is refused.
            browser.open(base + "/dashboard");
            await(WAIT, () -> "the dashboard's key form", () -> id("key-form").isDisplayed());
            assertTrue(id("key-message").getText().contains("admin"), id("key-message").getText());
            id("key").sendKeys("client-key");
            id("key-form").findElement(By.tagName("button")).click();
            await(WAIT, () -> "the refusal", () -> id("key-message").getText().startsWith("That key was refused."));
            id("key").sendKeys("admin-key");
            id("key-form").findElement(By.tagName("button")).click();
            awaitPolls(1);
            assertEquals("1", stat("requests"), "the one answer above");
            assertCleanConsole(List.of("status of 401"));
        }
    }
}
