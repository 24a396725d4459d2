package dev.sluice.bench.load;

import javax.imageio.ImageIO;
import java.awt.BasicStroke;
import java.awt.Color;
import java.awt.Font;
import java.awt.FontMetrics;
import java.awt.Graphics2D;
import java.awt.RenderingHints;
import java.awt.Stroke;
import java.awt.geom.AffineTransform;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.function.ToDoubleFunction;

/**
 * The run's chart ({@code --chart}): output tokens/s on the left axis and p50/p99 TTFT on the
 * right, one point per level, levels evenly spaced along x. Plain Java2D, written as PNG.
 */
final class ThroughputChart {

    static final int WIDTH = 1000;
    static final int HEIGHT = 600;

    private static final int LEFT = 100;
    private static final int RIGHT = 100;
    private static final int TOP = 70;
    private static final int BOTTOM = 80;
    private static final int TICKS = 5;
    private static final Color THROUGHPUT = new Color(0x1f77b4);
    private static final Color TTFT_P50 = new Color(0xff7f0e);
    private static final Color TTFT_P99 = new Color(0xd62728);
    /** A comparison chart's two runs, one colour each. */
    private static final Color RUN_A = THROUGHPUT;
    private static final Color RUN_B = TTFT_P50;
    private static final Color GRID = new Color(0xe0e0e0);
    private static final Stroke LINE = new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND);
    private static final Stroke DASHED = new BasicStroke(2.5f, BasicStroke.CAP_ROUND, BasicStroke.JOIN_ROUND,
            10, new float[] {9, 6}, 0);

    private ThroughputChart() {
    }

    static void write(String title, List<LevelSummary> levels, Path path) throws IOException {
        if (levels.isEmpty()) {
            throw new IllegalArgumentException("no levels to chart");
        }
        render(path, g -> {
            double tokensMax = niceCeiling(max(levels, LevelSummary::outputTokensPerS));
            double ttftMax = niceCeiling(Math.max(max(levels, s -> s.ttftMs().p99()), max(levels, s -> s.ttftMs().p50())));
            frame(g, title, levels, tokensMax, ttftMax, THROUGHPUT, TTFT_P99, "output tokens/s", "TTFT (ms)");
            series(g, levels, LevelSummary::outputTokensPerS, tokensMax, THROUGHPUT, LINE);
            series(g, levels, s -> s.ttftMs().p50(), ttftMax, TTFT_P50, LINE);
            series(g, levels, s -> s.ttftMs().p99(), ttftMax, TTFT_P99, DASHED);
            legend(g, new String[] {"output tokens/s (left)", "TTFT p50 (right)", "TTFT p99 (right)"},
                    new Color[] {THROUGHPUT, TTFT_P50, TTFT_P99}, new Stroke[] {LINE, LINE, DASHED});
        });
    }

    /**
     * Two runs on one chart, at the same levels: each run's output tokens/s (solid, left axis) and
     * TTFT p99 (dashed, right axis), in one colour per run.
     */
    static void writeComparison(String title, String labelA, List<LevelSummary> a, String labelB,
                                List<LevelSummary> b, Path path) throws IOException {
        if (a.isEmpty() || a.size() != b.size()) {
            throw new IllegalArgumentException("the runs must have the same levels to chart them together");
        }
        render(path, g -> {
            double tokensMax = niceCeiling(Math.max(max(a, LevelSummary::outputTokensPerS), max(b, LevelSummary::outputTokensPerS)));
            double ttftMax = niceCeiling(Math.max(max(a, s -> s.ttftMs().p99()), max(b, s -> s.ttftMs().p99())));
            frame(g, title, a, tokensMax, ttftMax, Color.DARK_GRAY, Color.DARK_GRAY,
                    "output tokens/s (solid)", "TTFT p99, ms (dashed)");
            series(g, a, LevelSummary::outputTokensPerS, tokensMax, RUN_A, LINE);
            series(g, b, LevelSummary::outputTokensPerS, tokensMax, RUN_B, LINE);
            series(g, a, s -> s.ttftMs().p99(), ttftMax, RUN_A, DASHED);
            series(g, b, s -> s.ttftMs().p99(), ttftMax, RUN_B, DASHED);
            legend(g, new String[] {labelA + " tokens/s", labelB + " tokens/s", labelA + " TTFT p99", labelB + " TTFT p99"},
                    new Color[] {RUN_A, RUN_B, RUN_A, RUN_B}, new Stroke[] {LINE, LINE, DASHED, DASHED});
        });
    }

    private static void render(Path path, java.util.function.Consumer<Graphics2D> painter) throws IOException {
        BufferedImage image = new BufferedImage(WIDTH, HEIGHT, BufferedImage.TYPE_INT_RGB);
        Graphics2D g = image.createGraphics();
        try {
            g.setRenderingHint(RenderingHints.KEY_ANTIALIASING, RenderingHints.VALUE_ANTIALIAS_ON);
            g.setRenderingHint(RenderingHints.KEY_TEXT_ANTIALIASING, RenderingHints.VALUE_TEXT_ANTIALIAS_ON);
            g.setColor(Color.WHITE);
            g.fillRect(0, 0, WIDTH, HEIGHT);
            painter.accept(g);
        } finally {
            g.dispose();
        }
        Path parent = path.toAbsolutePath().getParent();
        if (parent != null) {
            Files.createDirectories(parent);
        }
        if (!ImageIO.write(image, "png", path.toFile())) {
            throw new IOException("no PNG writer in this JDK");
        }
    }

    /** Title, grid, both axes with their ticks and titles, and the x axis's level labels. */
    private static void frame(Graphics2D g, String title, List<LevelSummary> levels, double leftMax, double rightMax,
                              Color leftColor, Color rightColor, String leftTitle, String rightTitle) {
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        g.setColor(Color.DARK_GRAY);
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 18));
        centered(g, title, WIDTH / 2, 32);

        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
        FontMetrics metrics = g.getFontMetrics();
        for (int i = 0; i <= TICKS; i++) {
            int y = TOP + plotHeight - plotHeight * i / TICKS;
            g.setColor(GRID);
            g.drawLine(LEFT, y, LEFT + plotWidth, y);
            g.setColor(leftColor);
            String left = tick(leftMax, i);
            g.drawString(left, LEFT - 8 - metrics.stringWidth(left), y + metrics.getAscent() / 2);
            g.setColor(rightColor);
            g.drawString(tick(rightMax, i), LEFT + plotWidth + 8, y + metrics.getAscent() / 2);
        }
        g.setColor(Color.DARK_GRAY);
        g.setStroke(new BasicStroke(1.5f));
        g.drawRect(LEFT, TOP, plotWidth, plotHeight);
        for (int i = 0; i < levels.size(); i++) {
            int x = xOf(i, levels.size(), plotWidth);
            g.drawLine(x, TOP + plotHeight, x, TOP + plotHeight + 5);
            centered(g, levels.get(i).load().axisValue(), x, TOP + plotHeight + 22);
        }
        g.setFont(new Font(Font.SANS_SERIF, Font.BOLD, 14));
        centered(g, levels.getFirst().load().axisTitle(), LEFT + plotWidth / 2, HEIGHT - 30);
        g.setColor(leftColor);
        vertical(g, leftTitle, 28, TOP + plotHeight / 2);
        g.setColor(rightColor);
        vertical(g, rightTitle, WIDTH - 22, TOP + plotHeight / 2);
        g.setFont(new Font(Font.SANS_SERIF, Font.PLAIN, 13));
    }

    private static void series(Graphics2D g, List<LevelSummary> levels, ToDoubleFunction<LevelSummary> value,
                               double max, Color color, Stroke stroke) {
        int plotWidth = WIDTH - LEFT - RIGHT;
        int plotHeight = HEIGHT - TOP - BOTTOM;
        g.setColor(color);
        int previousX = 0;
        int previousY = 0;
        for (int i = 0; i < levels.size(); i++) {
            int x = xOf(i, levels.size(), plotWidth);
            int y = TOP + plotHeight - (int) Math.round(value.applyAsDouble(levels.get(i)) / max * plotHeight);
            if (i > 0) {
                g.setStroke(stroke);
                g.drawLine(previousX, previousY, x, y);
            }
            g.fillOval(x - 4, y - 4, 9, 9);
            previousX = x;
            previousY = y;
        }
    }

    private static void legend(Graphics2D g, String[] names, Color[] colors, Stroke[] strokes) {
        int x = LEFT + 16;
        int y = TOP + 14;
        FontMetrics metrics = g.getFontMetrics();
        int width = 0;
        for (String name : names) {
            width = Math.max(width, metrics.stringWidth(name));
        }
        int rowHeight = metrics.getHeight() + 4;
        g.setColor(new Color(255, 255, 255, 230));
        g.fillRect(x, y, width + 56, rowHeight * names.length + 8);
        g.setColor(Color.GRAY);
        g.setStroke(new BasicStroke(1));
        g.drawRect(x, y, width + 56, rowHeight * names.length + 8);
        for (int i = 0; i < names.length; i++) {
            int rowY = y + 4 + rowHeight * i + rowHeight / 2;
            g.setColor(colors[i]);
            g.setStroke(strokes[i]);
            g.drawLine(x + 8, rowY, x + 40, rowY);
            g.setColor(Color.DARK_GRAY);
            g.drawString(names[i], x + 48, rowY + metrics.getAscent() / 2 - 1);
        }
    }

    /** The i-th tick of an axis from 0 to max, with as many decimals as its step needs. */
    private static String tick(double max, int i) {
        double step = max / TICKS;
        int decimals = (int) Math.min(3, Math.max(0, Math.ceil(-Math.log10(step))));
        return Markdown.number(step * i, decimals);
    }

    private static int xOf(int index, int count, int plotWidth) {
        return LEFT + (int) Math.round((index + 0.5) * plotWidth / count);
    }

    private static void centered(Graphics2D g, String text, int x, int y) {
        g.drawString(text, x - g.getFontMetrics().stringWidth(text) / 2, y);
    }

    private static void vertical(Graphics2D g, String text, int x, int y) {
        AffineTransform saved = g.getTransform();
        g.rotate(-Math.PI / 2, x, y);
        centered(g, text, x, y);
        g.setTransform(saved);
    }

    private static double max(List<LevelSummary> levels, ToDoubleFunction<LevelSummary> value) {
        return levels.stream().mapToDouble(value).max().orElse(0);
    }

    /** The smallest of 1, 2, 2.5 or 5 times a power of ten that is at least {@code value} (1 for 0). */
    static double niceCeiling(double value) {
        if (!(value > 0)) {
            return 1;
        }
        double power = Math.pow(10, Math.floor(Math.log10(value)));
        for (double step : new double[] {1, 2, 2.5, 5, 10}) {
            if (step * power >= value) {
                return step * power;
            }
        }
        return 10 * power;
    }
}
