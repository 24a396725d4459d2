package dev.sluice.engine.sampling;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

/** The UTF-8 check a grammar's output goes through: what Java's strict decoder accepts, split anywhere. */
class Utf8StateTest {

    private static int feed(int... bytes) {
        int state = Utf8State.START;
        for (int b : bytes) {
            state = Utf8State.after(state, new byte[]{(byte) b});
            if (state == Utf8State.INVALID) {
                return state;
            }
        }
        return state;
    }

    @Test
    void validTextIsAcceptedWhereverItIsSplit() {
        byte[] text = "aé中😀\u007f".getBytes(StandardCharsets.UTF_8);
        for (int split = 0; split <= text.length; split++) {
            byte[] a = java.util.Arrays.copyOfRange(text, 0, split);
            byte[] b = java.util.Arrays.copyOfRange(text, split, text.length);
            int state = Utf8State.after(Utf8State.after(Utf8State.START, a), b);
            assertEquals(Utf8State.START, state, "split at " + split);
        }
    }

    @Test
    void overlongSurrogatesAndOutOfRangeAreRefused() {
        int[][] invalid = {{0xC0, 0x80}, {0xC1, 0xBF}, {0xE0, 0x80, 0x80}, {0xED, 0xA0, 0x80}, {0xF0, 0x80, 0x80, 0x80},
                {0xF4, 0x90, 0x80, 0x80}, {0xF5}, {0xFF}, {0x80}, {0xE4, 0x41}, {0xC3, 0xC3}};
        for (int[] bytes : invalid) {
            assertEquals(Utf8State.INVALID, feed(bytes), java.util.Arrays.toString(bytes));
        }
        assertNotEquals(Utf8State.INVALID, feed(0xE4, 0xB8)); // incomplete, not invalid
        assertNotEquals(Utf8State.START, feed(0xE4, 0xB8));
    }
}
