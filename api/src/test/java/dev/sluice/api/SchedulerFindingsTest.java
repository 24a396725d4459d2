package dev.sluice.api;

import dev.sluice.engine.Engine;
import dev.sluice.engine.sampling.SamplingParams;
import dev.sluice.scheduler.EngineService;
import dev.sluice.scheduler.Request;
import dev.sluice.scheduler.RequestUpdate;
import dev.sluice.scheduler.SchedulerConfig;
import dev.sluice.scheduler.StopConditions;
import org.junit.jupiter.api.Disabled;
import org.junit.jupiter.api.Test;

import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.junit.jupiter.api.Assertions.assertEquals;

/**
 * Problems found below the API while testing it, each with a test that fails today. They are
 * disabled until the module that owns them is fixed; the API works around them where it can.
 */
class SchedulerFindingsTest {

    /**
     * {@code EngineService.pendingRequests()} (EngineLoop: inbox size + the running / waiting /
     * swapped gauges) does not count a request between the moment {@code admit()} takes it out
     * of the inbox and the {@code publishGauges()} after the step that first schedules it: for a
     * whole engine step, a just-submitted request is invisible. The API's 429 admission control
     * used it and let requests through a full queue (OpenAiService now counts its own requests);
     * {@code SluiceServer.shutdown} still uses it to wait for the drain.
     */
    @Test
    @Disabled("scheduler: EngineLoop.pendingRequests() misses requests admitted during the current step")
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
