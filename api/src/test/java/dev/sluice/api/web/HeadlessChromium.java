package dev.sluice.api.web;

import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.logging.LogEntry;
import org.openqa.selenium.logging.LogType;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.junit.jupiter.api.Assertions.fail;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

/**
 * The system's Chromium, headless, driven through its chromedriver with Selenium. Debian's
 * {@code chromium} and {@code chromium-driver} packages (bin/test installs them when it can);
 * {@code $SLUICE_CHROMIUM} and {@code $SLUICE_CHROMEDRIVER} point elsewhere. Browsers cannot be
 * downloaded here, so nothing is: without both binaries the calling test is skipped, saying so.
 */
final class HeadlessChromium implements AutoCloseable {

    static final int DESKTOP_WIDTH = 1280;
    static final int DESKTOP_HEIGHT = 860;

    private final ChromeDriver driver;

    private HeadlessChromium(ChromeDriver driver) {
        this.driver = driver;
    }

    private static Optional<Path> find(String env, String... candidates) {
        String given = System.getenv(env);
        Stream<String> paths = given != null && !given.isBlank() ? Stream.of(given) : Stream.of(candidates);
        return paths.map(Path::of).filter(Files::isExecutable).findFirst();
    }

    private static Optional<Path> browserBinary() {
        // The real binary rather than Debian's /usr/bin/chromium shell wrapper: fewer surprises in flags.
        return find("SLUICE_CHROMIUM", "/usr/lib/chromium/chromium", "/usr/bin/chromium", "/usr/bin/chromium-browser",
                "/usr/bin/google-chrome");
    }

    private static Optional<Path> driverBinary() {
        return find("SLUICE_CHROMEDRIVER", "/usr/bin/chromedriver", "/usr/lib/chromium/chromedriver");
    }

    /** Why there is no browser to test with, or empty when there is one. */
    static Optional<String> unavailable() {
        if (browserBinary().isPresent() && driverBinary().isPresent()) {
            return Optional.empty();
        }
        return Optional.of("skipped: no headless browser; install Debian's chromium and chromium-driver (bin/test does "
                + "when it can), or set SLUICE_CHROMIUM and SLUICE_CHROMEDRIVER (found browser " + browserBinary().orElse(null)
                + ", chromedriver " + driverBinary().orElse(null) + ")");
    }

    /** Starts a headless Chromium, or skips the calling test when there is none. */
    static HeadlessChromium start() {
        Optional<String> why = unavailable();
        assumeTrue(why.isEmpty(), why::get);
        Optional<Path> browser = browserBinary();
        Optional<Path> chromedriver = driverBinary();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(browser.get().toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                "--no-first-run", "--disable-extensions", "--hide-scrollbars", "--window-size=" + DESKTOP_WIDTH + "," + DESKTOP_HEIGHT,
                "--lang=en-US");
        options.setCapability("goog:loggingPrefs", Map.of(LogType.BROWSER, "ALL"));
        ChromeDriverService service = new ChromeDriverService.Builder()
                .usingDriverExecutable(chromedriver.get().toFile()).usingAnyFreePort().build();
        return new HeadlessChromium(new ChromeDriver(service, options));
    }

    ChromeDriver driver() {
        return driver;
    }

    void open(String url) {
        driver.get(url);
    }

    Object js(String script, Object... args) {
        return ((JavascriptExecutor) driver).executeScript(script, args);
    }

    /** Runs an async script: its last argument is the callback to call with the result. */
    Object jsAsync(String script, Object... args) {
        driver.manage().timeouts().scriptTimeout(Duration.ofSeconds(30));
        return ((JavascriptExecutor) driver).executeAsyncScript(script, args);
    }

    /** The console messages since the last call (Chromium drains them as they are read). */
    List<String> console() {
        return driver.manage().logs().get(LogType.BROWSER).getAll().stream().map(LogEntry::toString).toList();
    }

    /** Sets the viewport exactly (CSS pixels), as a phone ({@code mobile}) or a desktop window. */
    void viewport(int width, int height, boolean mobile) {
        driver.executeCdpCommand("Emulation.setDeviceMetricsOverride",
                Map.of("width", width, "height", height, "deviceScaleFactor", 1, "mobile", mobile));
    }

    void screenshot(Path file) {
        try {
            Files.createDirectories(file.getParent());
            Files.write(file, driver.getScreenshotAs(OutputType.BYTES));
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** Polls {@code condition} every 20 ms until it holds; fails with {@code what} after {@code timeout}. */
    static void await(Duration timeout, Supplier<String> what, Supplier<Boolean> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        while (!Boolean.TRUE.equals(condition.get())) {
            if (System.nanoTime() > deadline) {
                fail("timed out after " + timeout + " waiting for " + what.get());
            }
            try {
                Thread.sleep(20);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new IllegalStateException(e);
            }
        }
    }

    @Override
    public void close() {
        driver.quit();
    }
}
