package dev.sluice.api;

import dev.sluice.engine.Engine;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.Request;
import dev.sluice.scheduler.RequestUpdate;
import dev.sluice.scheduler.SchedulerConfig;
import dev.sluice.scheduler.StopConditions;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * {@code EngineService.pendingRequests()} must count a request from submission to completion:
 * {@code SluiceServer.shutdown} waits on it to drain. It once came from gauges published after
 * each step, so a request admitted during a step was invisible for that step.
 */
class PendingRequestsTest {

    @Test
    void pendingRequestsCountsASubmittedRequestUntilItCompletes() throws Exception {
        ServerConfig config = TestServer.config();
        Engine engine = Engine.load(Main.engineOptions(config));
        try (EngineService service = EngineService.start(engine,
                new SchedulerConfig(2048, 16, engine.maxModelLength(), true, 0))) {
            for (int attempt = 0; attempt < 5; attempt++) {
                Request request = new Request("r" + attempt, new int[] {9707, 11, 1879}, SamplingParams.builder()
                        .temperature(0).build(), new StopConditions(64, true, new int[0], List.of()), 1, 0, 0);
                service.submit(request);
                int invisible = 0;
                while (true) {
                    if (service.pendingRequests() == 0) {
                        RequestUpdate now = request.stream().next(0, TimeUnit.MILLISECONDS);
                        if (now != null && now.done()) {
                            break; // it had just completed
                        }
                        invisible++; // not complete, yet not counted
                    }
                    RequestUpdate update = request.stream().next(0, TimeUnit.MILLISECONDS);
                    if (update != null && update.done()) {
                        break;
                    }
                }
                assertEquals(0, invisible, "times pendingRequests() was 0 while request " + attempt + " was in flight");
            }
        }
    }
}
