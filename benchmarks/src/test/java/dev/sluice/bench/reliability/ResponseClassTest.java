package dev.sluice.bench.reliability;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class ResponseClassTest {

    private static boolean shape(String body) {
        byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
        return ResponseClass.isOpenAiError(bytes, bytes.length);
    }

    @Test
    void acceptsExactlyOpenAisErrorShape() {
        assertTrue(shape("{\"error\":{\"message\":\"m\",\"type\":\"invalid_request_error\",\"param\":null,\"code\":null}}"));
        assertTrue(shape("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":\"max_tokens\",\"code\":\"context_length_exceeded\"}}"));
        assertTrue(shape("{\"error\":{\"code\":400,\"param\":null,\"type\":\"t\",\"message\":\"m\"}}"));
    }

    @Test
    void refusesAnythingElse() {
        assertFalse(shape("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null}}"), "code missing");
        assertFalse(shape("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":null,\"extra\":1}}"), "extra key");
        assertFalse(shape("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":null},\"x\":1}"), "extra top key");
        assertFalse(shape("{\"error\":\"m\"}"), "error is a string");
        assertFalse(shape("{\"error\":{\"message\":5,\"type\":\"t\",\"param\":null,\"code\":null}}"), "message not a string");
        assertFalse(shape("{\"error\":{\"message\":\"m\",\"type\":null,\"param\":null,\"code\":null}}"), "type null");
        assertFalse(shape("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":5,\"code\":null}}"), "param a number");
        assertFalse(shape("{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":{}}}"), "code an object");
        assertFalse(shape("Bad Request"), "plain text");
        assertFalse(shape(""), "empty");
        assertFalse(shape("[{\"error\":{}}]"), "array");
        byte[] cut = "{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":null}}".getBytes(StandardCharsets.UTF_8);
        assertFalse(ResponseClass.isOpenAiError(cut, cut.length + 10L), "body kept only in part");
    }

    @Test
    void classifiesByStatusShapeAndSize() {
        byte[] good = "{\"error\":{\"message\":\"m\",\"type\":\"t\",\"param\":null,\"code\":null}}".getBytes(StandardCharsets.UTF_8);
        byte[] plain = "nope".getBytes(StandardCharsets.UTF_8);
        assertEquals(ResponseClass.OK_2XX, ResponseClass.ofStatus(200, plain, plain.length));
        assertEquals(ResponseClass.OK_2XX, ResponseClass.ofStatus(204, new byte[0], 0));
        assertEquals(ResponseClass.ERROR_4XX_OPENAI, ResponseClass.ofStatus(400, good, good.length));
        assertEquals(ResponseClass.ERROR_4XX_OPENAI, ResponseClass.ofStatus(413, good, good.length));
        assertEquals(ResponseClass.ERROR_4XX_WRONG_SHAPE, ResponseClass.ofStatus(400, plain, plain.length));
        assertEquals(ResponseClass.ERROR_4XX_OVERSIZED, ResponseClass.ofStatus(404, good, 8_000_000));
        assertEquals(ResponseClass.ERROR_5XX, ResponseClass.ofStatus(500, good, good.length));
        assertEquals(ResponseClass.ERROR_5XX, ResponseClass.ofStatus(503, good, good.length));
        assertEquals(ResponseClass.OTHER_STATUS, ResponseClass.ofStatus(302, plain, plain.length));
    }

    @Test
    void classifiesExchangesThatEndedWithoutAResponse() {
        assertEquals(ResponseClass.CLOSED, ResponseClass.of(result(RawExchange.Ending.CLOSED, -1)));
        assertEquals(ResponseClass.NO_RESPONSE, ResponseClass.of(result(RawExchange.Ending.TIMEOUT, -1)));
        assertEquals(ResponseClass.BROKEN, ResponseClass.of(result(RawExchange.Ending.TIMEOUT, 200)));
        assertEquals(ResponseClass.BROKEN, ResponseClass.of(result(RawExchange.Ending.BROKEN_RESPONSE, -1)));
        assertEquals(ResponseClass.ERROR_5XX, ResponseClass.of(result(RawExchange.Ending.BROKEN_RESPONSE, 502)));
        assertEquals(ResponseClass.CONNECT_FAILED, ResponseClass.of(result(RawExchange.Ending.CONNECT_FAILED, -1)));
    }

    @Test
    void judgesAHeadRequestByItsStatusAlone() {
        RawExchange.Result head = new RawExchange.Result(RawExchange.Ending.RESPONSE, 405, null, new byte[0], 0, 0, 1, "", true);
        assertEquals(ResponseClass.ERROR_4XX_OPENAI, ResponseClass.of(head));
        RawExchange.Result get = new RawExchange.Result(RawExchange.Ending.RESPONSE, 405, null, new byte[0], 0, 0, 1, "", false);
        assertEquals(ResponseClass.ERROR_4XX_WRONG_SHAPE, ResponseClass.of(get));
    }

    @Test
    void properDependsOnTheExpectation() {
        assertTrue(ResponseClass.ERROR_4XX_OPENAI.proper(Expect.REJECT));
        assertFalse(ResponseClass.OK_2XX.proper(Expect.REJECT));
        assertFalse(ResponseClass.ERROR_4XX_WRONG_SHAPE.proper(Expect.REJECT));
        assertTrue(ResponseClass.OK_2XX.proper(Expect.ACCEPT_OR_REJECT));
        assertTrue(ResponseClass.ERROR_4XX_OPENAI.proper(Expect.ACCEPT_OR_REJECT));
        assertFalse(ResponseClass.ERROR_5XX.proper(Expect.ACCEPT_OR_REJECT));
        assertTrue(ResponseClass.CLOSED.proper(Expect.CUT_OFF));
        assertFalse(ResponseClass.CLOSED.proper(Expect.REJECT));
        assertFalse(ResponseClass.NO_RESPONSE.proper(Expect.CUT_OFF));
        assertFalse(ResponseClass.ERROR_4XX_OVERSIZED.proper(Expect.REJECT));
    }

    private static RawExchange.Result result(RawExchange.Ending ending, int status) {
        return new RawExchange.Result(ending, status, null, new byte[0], 0, 0, 1, "", false);
    }
}
