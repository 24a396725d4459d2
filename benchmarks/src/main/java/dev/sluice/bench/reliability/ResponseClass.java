package dev.sluice.bench.reliability;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;

import java.io.IOException;
import java.util.Iterator;
import java.util.Set;
import java.util.TreeSet;

/** The classes the fuzz phase counts responses by, and the checks that sort them. */
public enum ResponseClass {
    OK_2XX("2xx"),
    ERROR_4XX_OPENAI("4xx, exact OpenAI error shape"),
    ERROR_4XX_WRONG_SHAPE("4xx, wrong shape"),
    ERROR_4XX_OVERSIZED("4xx, error body over 64 KiB (echoes the input)"),
    ERROR_5XX("5xx"),
    OTHER_STATUS("1xx/3xx"),
    CLOSED("closed without a response"),
    BROKEN("broken or cut-off response"),
    NO_RESPONSE("no response before the deadline (hang, socket left open)"),
    CONNECT_FAILED("connection refused");

    /** Error bodies larger than this echo the request back (an 8 MB model name, say). */
    public static final int MAX_ERROR_BODY = 64 * 1024;

    private static final ObjectMapper JSON = new ObjectMapper();
    private static final Set<String> ERROR_KEYS = Set.of("message", "type", "param", "code");

    private final String label;

    ResponseClass(String label) {
        this.label = label;
    }

    public String label() {
        return label;
    }

    public static ResponseClass of(RawExchange.Result result) {
        return switch (result.ending()) {
            case CONNECT_FAILED -> CONNECT_FAILED;
            case CLOSED -> CLOSED;
            case TIMEOUT -> result.status() < 0 ? NO_RESPONSE : BROKEN;
            case BROKEN_RESPONSE -> result.status() >= 500 ? ERROR_5XX : BROKEN;
            case RESPONSE -> result.headRequest() && result.status() >= 400 && result.status() < 500
                    ? ERROR_4XX_OPENAI // a HEAD's response has no body: its status is all there is to judge
                    : ofStatus(result.status(), result.body(), result.bodyBytes());
        };
    }

    static ResponseClass ofStatus(int status, byte[] body, long bodyBytes) {
        if (status >= 200 && status < 300) {
            return OK_2XX;
        }
        if (status >= 400 && status < 500) {
            if (bodyBytes > MAX_ERROR_BODY) {
                return ERROR_4XX_OVERSIZED;
            }
            return isOpenAiError(body, bodyBytes) ? ERROR_4XX_OPENAI : ERROR_4XX_WRONG_SHAPE;
        }
        if (status >= 500) {
            return ERROR_5XX;
        }
        return OTHER_STATUS;
    }

    /** Whether this class is a proper answer to a case with this expectation. */
    public boolean proper(Expect expect) {
        return switch (expect) {
            case REJECT -> this == ERROR_4XX_OPENAI;
            case ACCEPT_OR_REJECT -> this == OK_2XX || this == ERROR_4XX_OPENAI;
            case CUT_OFF, UNREADABLE -> this == ERROR_4XX_OPENAI || this == CLOSED;
        };
    }

    /**
     * Exactly OpenAI's error shape: {@code {"error": {"message", "type", "param", "code"}}}, no
     * other key at either level; message and type strings, param a string or null, code a string,
     * a number or null. A body cut short by {@link RawExchange#MAX_KEPT} does not parse.
     */
    public static boolean isOpenAiError(byte[] body, long bodyBytes) {
        if (bodyBytes > body.length) {
            return false;
        }
        JsonNode root;
        try {
            root = JSON.readTree(body);
        } catch (IOException e) {
            return false;
        }
        return isOpenAiError(root);
    }

    static boolean isOpenAiError(JsonNode root) {
        if (root == null || !root.isObject() || root.size() != 1 || !root.has("error")) {
            return false;
        }
        JsonNode error = root.get("error");
        if (!error.isObject() || !keys(error).equals(ERROR_KEYS)) {
            return false;
        }
        JsonNode param = error.get("param");
        JsonNode code = error.get("code");
        return error.get("message").isTextual() && error.get("type").isTextual()
                && (param.isNull() || param.isTextual())
                && (code.isNull() || code.isTextual() || code.isIntegralNumber());
    }

    private static Set<String> keys(JsonNode object) {
        Set<String> keys = new TreeSet<>();
        for (Iterator<String> it = object.fieldNames(); it.hasNext(); ) {
            keys.add(it.next());
        }
        return keys;
    }
}
