package dev.sluice.bench.load;

import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;

class StopConditionTest {

    @Test
    void requestsScaleWithConcurrencyWhenAsked() {
        StopCondition c = new StopCondition(16, null, 2);
        assertEquals(16, c.forLevel(new LoadPattern.ClosedLoop(1)).maxRequests());
        assertEquals(128, c.forLevel(new LoadPattern.ClosedLoop(64)).maxRequests());
        StopCondition plain = new StopCondition(16, Duration.ofSeconds(5));
        assertSame(plain, plain.forLevel(new LoadPattern.ClosedLoop(64)));
    }
}
