package dev.sluice.bench.reliability;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.function.Supplier;

import static dev.sluice.bench.reliability.Bodies.CHAT;
import static dev.sluice.bench.reliability.Bodies.COMPLETIONS;
import static dev.sluice.bench.reliability.Bodies.DETOKENIZE;
import static dev.sluice.bench.reliability.Bodies.TOKENIZE;
import static dev.sluice.bench.reliability.Expect.ACCEPT_OR_REJECT;
import static dev.sluice.bench.reliability.Expect.CUT_OFF;
import static dev.sluice.bench.reliability.Expect.UNREADABLE;
import static dev.sluice.bench.reliability.Expect.REJECT;

/**
 * Makes the fuzz phase's requests, deterministically from a seed. First the systematic cases of
 * every category (every field with every wrong type, out-of-range and non-finite values, the
 * hardening issue's hostile requests, raw-socket cases...), taken round-robin across categories so
 * that even a short run covers all of them; then seeded random variations of each category until
 * the count is reached. Cases are distinct: a repeat of earlier bytes is skipped.
 */
public final class FuzzGenerator {

    static final List<String> JSON_ENDPOINTS = List.of(CHAT, COMPLETIONS, TOKENIZE, DETOKENIZE);
    static final List<String> GENERATION_ENDPOINTS = List.of(CHAT, COMPLETIONS);
    private static final int MB = 1024 * 1024;

    /** A case before it gets its id. */
    private record Draft(Category category, String summary, Expect expect, FuzzCase.Send send,
                         Supplier<byte[]> request, boolean big) {
    }

    private FuzzGenerator() {
    }

    public static List<FuzzCase> generate(long seed, int count) {
        Map<Category, ArrayDeque<Draft>> systematic = new EnumMap<>(Category.class);
        Map<Category, SplittableRandom> random = new EnumMap<>(Category.class);
        SplittableRandom root = new SplittableRandom(seed);
        for (Category category : Category.values()) {
            systematic.put(category, new ArrayDeque<>(systematic(category, new SplittableRandom(seed + category.ordinal()))));
            random.put(category, root.split());
        }
        List<FuzzCase> cases = new ArrayList<>(count);
        Set<String> keys = new HashSet<>();
        boolean any = true;
        while (cases.size() < count && any) {
            any = false;
            for (Category category : Category.values()) {
                Draft draft = systematic.get(category).poll();
                if (draft != null) {
                    any = true;
                    add(draft, cases, keys, count);
                }
            }
        }
        int misses = 0;
        while (cases.size() < count) {
            for (Category category : Category.values()) {
                if (!add(random(category, random.get(category)), cases, keys, count)) {
                    if (++misses > 100 * count) {
                        throw new IllegalStateException("cannot make " + count + " distinct cases");
                    }
                }
            }
        }
        return cases;
    }

    private static boolean add(Draft draft, List<FuzzCase> cases, Set<String> keys, int count) {
        if (cases.size() >= count) {
            return false;
        }
        String key = draft.big() ? "big:" + draft.summary() : draft.send() + ":" + sha256(draft.request().get());
        if (!keys.add(key)) {
            return false;
        }
        boolean heavy = draft.big() || draft.category() == Category.HOSTILE;
        cases.add(new FuzzCase(cases.size(), draft.category(), draft.summary(), draft.expect(), draft.send(),
                draft.request(), key, heavy && !draft.send().hold()));
        return true;
    }

    // ---- systematic cases ------------------------------------------------------------------

    static List<Draft> systematic(Category category, SplittableRandom r) {
        List<Draft> out = new ArrayList<>();
        switch (category) {
            case INVALID_JSON -> invalidJson(out);
            case INVALID_UTF8 -> invalidUtf8(out);
            case WRONG_TYPE -> wrongTypes(out, r.nextInt(2));
            case OUT_OF_RANGE -> outOfRange(out, r.nextInt(2));
            case NON_FINITE -> nonFinite(out, r.nextInt(2));
            case DEEP_NESTING -> deepNesting(out);
            case HUGE -> huge(out);
            case UNKNOWN_ROLE -> unknownRoles(out);
            case DUPLICATE_KEYS -> duplicateKeys(out);
            case FIELD_VALUES -> fieldValues(out, r.nextInt(2));
            case CONTENT_TYPE -> contentTypes(out);
            case METHOD -> methods(out);
            case HOSTILE -> hostile(out);
            case RAW_SOCKET -> rawSocket(out);
        }
        return out;
    }

    private static final List<String> INVALID_JSON = List.of(
            "", " ", "{", "}", "{\"prompt\"", "{\"prompt\":}", "{,}", "{\"prompt\":\"a\",}", "[1,]",
            "{'prompt':'a'}", "{/*c*/\"prompt\":\"a\"}", "// c\n{\"prompt\":\"a\"}", "{prompt:\"a\"}",
            "{\"prompt\":\"a\"} x", "{}{}", "null", "true", "5", "\"str\"", "[]", "[{}]", "{}",
            "{\"prompt\":\"a\nb\"}", "{\"prompt\":\"a\tb\"}", "{\"prompt\":\"\\x41\"}", "{\"prompt\":\"\\u12\"}",
            "{\"prompt\":\"a\u0000\"}", "\u0000", "{\"prompt\":tru}", "{\"prompt\":\"a\",\"max_tokens\":4",
            "{\"prompt\":\"a\"]", "{\"max_tokens\":04}", "{\"max_tokens\":.5}", "{\"max_tokens\":1.}",
            "{\"max_tokens\":0x10}", "{\"max_tokens\":+1}", "{\"max_tokens\":1e}", "{\"max_tokens\":--1}",
            "{\"prompt\":\"a\" \"max_tokens\":4}", "{\"prompt\"::\"a\"}", "{\"messages\":[{\"role\":\"user\",\"content\":\"a\"}}",
            "\"\\ud800\"", "{\"prompt\":undefined}", "{\"prompt\":None}");

    private static void invalidJson(List<Draft> out) {
        for (String body : INVALID_JSON) {
            for (String path : JSON_ENDPOINTS) {
                out.add(post(Category.INVALID_JSON, path, "body " + Bodies.show(body), REJECT, body));
            }
        }
        // A UTF-8 byte order mark before a valid body: RFC 8259 lets a parser ignore it.
        for (String path : JSON_ENDPOINTS) {
            byte[] body = HttpWire.concat(new byte[] {(byte) 0xef, (byte) 0xbb, (byte) 0xbf},
                    Bodies.utf8(Bodies.render(Bodies.base(path))));
            out.add(draft(Category.INVALID_JSON, "POST " + path + ": valid body after a UTF-8 BOM", ACCEPT_OR_REJECT,
                    () -> HttpWire.post(path, "application/json", body)));
        }
    }

    private static final byte[][] BAD_UTF8 = {
            {(byte) 0xff}, {(byte) 0xfe}, {(byte) 0xc0, (byte) 0xaf}, {(byte) 0xe0, (byte) 0x80, (byte) 0xaf},
            {(byte) 0xed, (byte) 0xa0, (byte) 0x80}, {(byte) 0xf4, (byte) 0x90, (byte) 0x80, (byte) 0x80},
            {(byte) 0xe2, (byte) 0x82}, {(byte) 0x80}, {(byte) 0xf8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80},
            {(byte) 0xe9}};

    /** Where invalid bytes go: a body template with one {@code @} to replace, and its endpoint. */
    private static final List<String[]> UTF8_SPOTS = List.of(
            new String[] {COMPLETIONS, "{\"prompt\":\"Hel@lo\",\"max_tokens\":4}"},
            new String[] {CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hel@lo\"}],\"max_tokens\":4}"},
            new String[] {CHAT, "{\"messages\":[{\"role\":\"us@er\",\"content\":\"Hello\"}],\"max_tokens\":4}"},
            new String[] {COMPLETIONS, "{\"prompt\":\"Hello\",\"model\":\"m@\",\"max_tokens\":4}"},
            new String[] {COMPLETIONS, "{\"prompt\":\"Hello\",\"stop\":[\"x@\"],\"max_tokens\":4}"},
            new String[] {CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":\"Hello\"}],\"user\":\"u@\",\"max_tokens\":4}"},
            new String[] {COMPLETIONS, "{\"pro@mpt\":\"Hello\",\"max_tokens\":4}"},
            new String[] {TOKENIZE, "{\"prompt\":\"Hel@lo\"}"},
            new String[] {CHAT, "{\"messages\":[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a@\"}]}],\"max_tokens\":4}"},
            new String[] {COMPLETIONS, "{\"prompt\":\"Hello\",\"max_tokens\":4,\"unknown\":\"x@\"}"});

    private static void invalidUtf8(List<Draft> out) {
        for (byte[] bad : BAD_UTF8) {
            for (String[] spot : UTF8_SPOTS) {
                out.add(utf8Draft(spot[0], spot[1], bad));
            }
        }
    }

    private static Draft utf8Draft(String path, String template, byte[] bad) {
        int at = template.indexOf('@');
        byte[] body = HttpWire.concat(Bodies.utf8(template.substring(0, at)), bad, Bodies.utf8(template.substring(at + 1)));
        String summary = "invalid UTF-8 " + HexFormat.ofDelimiter(" ").formatHex(bad) + " in " + Bodies.show(template);
        return draft(Category.INVALID_UTF8, "POST " + path + ": " + summary, REJECT,
                () -> HttpWire.post(path, "application/json", body));
    }

    /** Values of the wrong JSON type for each kind of field; all must be refused. */
    static List<String> wrongValues(Fields.Kind kind) {
        return switch (kind) {
            case INT, NUM -> List.of("\"4\"", "true", "[4]", "{\"value\":4}", "\"abc\"", "\"\"");
            case BOOL -> List.of("\"true\"", "1", "0", "[true]", "{}", "\"yes\"");
            case STRING -> List.of("1", "true", "[\"a\"]", "{}");
            case STOP -> List.of("5", "true", "{}", "[1]", "[null]", "[[\"a\"]]", "[\"\"]", "\"\"");
            case LOGIT_BIAS -> List.of("\"x\"", "5", "[]", "{\"a\":1}", "{\"1\":\"x\"}", "{\"1\":true}", "{\"1\":null}",
                    "{\"1\":[1]}", "{\"1.5\":1}", "{\"-1\":1}");
            case STREAM_OPTIONS -> List.of("\"x\"", "5", "[]", "true", "{\"include_usage\":\"yes\"}", "{\"include_usage\":1}");
            case TOKEN_IDS -> List.of("\"x\"", "5", "{}", "[\"a\"]", "[1.5]", "[-1]", "[true]", "[[1]]");
            case MESSAGES -> List.of("\"hi\"", "{}", "5", "[]", "[1]", "[\"hi\"]", "[null]", "[[]]", "null",
                    "[{\"content\":\"x\"}]", "[{\"role\":5,\"content\":\"x\"}]", "[{\"role\":\"user\",\"content\":5}]",
                    "[{\"role\":\"user\",\"content\":{}}]", "[{\"role\":\"user\",\"content\":[5]}]",
                    "[{\"role\":\"user\",\"content\":[{\"text\":\"x\"}]}]",
                    "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":5}]}]",
                    "[{\"role\":\"user\",\"content\":[{\"type\":\"image_url\",\"image_url\":{\"url\":\"http://x/y.png\"}}]}]",
                    "[{\"role\":\"user\",\"content\":[{\"type\":\"input_audio\",\"input_audio\":{\"data\":\"AAAA\",\"format\":\"wav\"}}]}]",
                    "[{\"role\":\"assistant\",\"content\":\"x\",\"tool_calls\":[{\"id\":\"a\",\"type\":\"function\"}]}]");
            case PROMPT -> List.of("5", "true", "{}", "[]", "[true]", "[[]]", "[1.5]", "[-1]", "[2147483648]", "[1,\"a\"]",
                    "[\"a\",1]", "[{}]", "null", "[null]", "[[1],\"a\"]", "[[-1]]");
            case RESPONSE_FORMAT -> List.of("\"text\"", "5", "{}", "{\"type\":5}", "{\"type\":\"json_object\"}",
                    "{\"type\":\"json_schema\",\"json_schema\":{\"name\":\"x\",\"schema\":{}}}");
            case TOOLS -> List.of("[{\"type\":\"function\",\"function\":{\"name\":\"a b\"}}]", "\"x\"", "5", "{}");
            case TOOL_CHOICE -> List.of("\"any\"", "\"required\"", "5", "{\"type\":\"function\",\"function\":{\"name\":\"f\"}}");
            case FUNCTIONS -> List.of("[{\"name\":\"a b\"}]", "\"x\"", "{}");
            case SUFFIX -> List.of("\"x\"", "5", "[\"x\"]");
        };
    }

    private static void wrongTypes(List<Draft> out, int offset) {
        List<List<Draft>> perField = new ArrayList<>();
        for (Fields.Field field : Fields.ALL) {
            List<Draft> drafts = new ArrayList<>();
            List<String> values = wrongValues(field.kind());
            for (int i = 0; i < values.size(); i++) {
                drafts.add(fieldDraft(Category.WRONG_TYPE, field, values.get(i), REJECT, i + offset));
            }
            perField.add(drafts);
        }
        out.addAll(interleave(perField));
        out.add(post(Category.WRONG_TYPE, CHAT, "function_call = \"auto\"", REJECT, Bodies.with(CHAT, "function_call", "\"auto\"")));
        out.add(post(Category.WRONG_TYPE, CHAT, "stream_options without stream", REJECT,
                Bodies.render(withField(Bodies.base(CHAT), "stream_options", "{\"include_usage\":true}"))));
        out.add(post(Category.WRONG_TYPE, CHAT, "top_logprobs without logprobs", REJECT,
                Bodies.render(withField(Bodies.base(CHAT), "top_logprobs", "2"))));
        for (String value : List.of("5", "[]", "{}", "true")) {
            out.add(post(Category.WRONG_TYPE, TOKENIZE, "prompt = " + value, REJECT, "{\"prompt\":" + value + "}"));
            out.add(post(Category.WRONG_TYPE, DETOKENIZE, "tokens = " + value, REJECT, "{\"tokens\":" + value + "}"));
            out.add(post(Category.WRONG_TYPE, TOKENIZE, "messages = " + value, REJECT, "{\"messages\":" + value + "}"));
        }
        for (String field : List.of("add_special_tokens", "add_generation_prompt", "return_token_strs")) {
            out.add(post(Category.WRONG_TYPE, TOKENIZE, field + " = \"x\"", REJECT,
                    "{\"messages\":" + Bodies.MESSAGES + ",\"" + field + "\":\"x\"}"));
        }
        for (String value : List.of("[\"a\"]", "[1.5]", "[-1]", "[2147483648]", "[true]", "[[1]]")) {
            out.add(post(Category.WRONG_TYPE, DETOKENIZE, "tokens = " + value, REJECT, "{\"tokens\":" + value + "}"));
        }
    }

    private static Map<String, String> withField(Map<String, String> fields, String name, String value) {
        fields.put(name, value);
        return fields;
    }

    /** Numbers around and far beyond each field's range; the expectation follows from the range. */
    static List<String> rangeProbes(Fields.Field field) {
        List<String> probes = new ArrayList<>();
        boolean integral = field.kind() == Fields.Kind.INT;
        BigDecimal step = integral ? BigDecimal.ONE : new BigDecimal("0.001");
        probes.add((field.minExclusive() ? field.min() : field.min().subtract(step)).toPlainString());
        probes.add((field.maxExclusive() ? field.max() : field.max().add(step)).toPlainString());
        probes.addAll(List.of("-0", "0", "-1", "1e400", "-1e400", "1e-400", "2147483648", "-2147483649",
                "9223372036854775808", "-9223372036854775809", "18446744073709551616", "1" + "0".repeat(400), "1e308"));
        if (integral) {
            probes.addAll(List.of("1.5", "4.0", "1e2", "0.999999"));
        } else {
            probes.addAll(List.of("0.5", "1.0000000000000002", "2.0000000001"));
        }
        return probes;
    }

    static Expect rangeExpect(Fields.Field field, String literal) {
        BigDecimal value = new BigDecimal(literal);
        double asDouble = value.doubleValue();
        boolean exact = field.accepts(value);
        // What a parser reading doubles sees: 1e-400 is 0, 1.0000000000000002 may round to 1.
        boolean rounded = Double.isFinite(asDouble) && field.accepts(new BigDecimal(asDouble));
        return exact || rounded ? ACCEPT_OR_REJECT : REJECT;
    }

    private static void outOfRange(List<Draft> out, int offset) {
        List<List<Draft>> perField = new ArrayList<>();
        for (Fields.Field field : Fields.numeric()) {
            List<Draft> drafts = new ArrayList<>();
            List<String> probes = rangeProbes(field);
            for (int i = 0; i < probes.size(); i++) {
                drafts.add(fieldDraft(Category.OUT_OF_RANGE, field, probes.get(i), rangeExpect(field, probes.get(i)), i + offset));
            }
            perField.add(drafts);
        }
        out.addAll(interleave(perField));
        for (String bias : List.of("101", "-100.5", "1e400", "-1e400")) {
            out.add(post(Category.OUT_OF_RANGE, COMPLETIONS, "logit_bias {\"1\": " + bias + "}", REJECT,
                    Bodies.with(COMPLETIONS, "logit_bias", "{\"1\":" + bias + "}")));
        }
        for (String id : List.of("99999999", "2147483648", "-1", "1e3")) {
            out.add(post(Category.OUT_OF_RANGE, CHAT, "logit_bias key " + id, REJECT,
                    Bodies.with(CHAT, "logit_bias", "{\"" + id + "\":1}")));
        }
    }

    static final List<String> NON_FINITE = List.of("NaN", "-NaN", "Infinity", "-Infinity", "+Infinity", "inf",
            "\"NaN\"", "\"Infinity\"", "\"-Infinity\"", "\"1e400\"");

    private static void nonFinite(List<Draft> out, int offset) {
        List<List<Draft>> perField = new ArrayList<>();
        for (Fields.Field field : Fields.numeric()) {
            List<Draft> drafts = new ArrayList<>();
            for (int i = 0; i < NON_FINITE.size(); i++) {
                drafts.add(fieldDraft(Category.NON_FINITE, field, NON_FINITE.get(i), REJECT, i + offset));
            }
            perField.add(drafts);
        }
        out.addAll(interleave(perField));
        for (String token : List.of("NaN", "Infinity", "-Infinity")) {
            out.add(post(Category.NON_FINITE, COMPLETIONS, "logit_bias {\"1\": " + token + "}", REJECT,
                    Bodies.with(COMPLETIONS, "logit_bias", "{\"1\":" + token + "}")));
            out.add(post(Category.NON_FINITE, COMPLETIONS, "prompt [" + token + "]", REJECT,
                    Bodies.with(COMPLETIONS, "prompt", "[" + token + "]")));
            out.add(post(Category.NON_FINITE, DETOKENIZE, "tokens [" + token + "]", REJECT, "{\"tokens\":[" + token + "]}"));
        }
    }

    private static void deepNesting(List<Draft> out) {
        for (String path : JSON_ENDPOINTS) {
            out.add(bigPost(Category.DEEP_NESTING, path, "body of 100000 '['", REJECT, () -> "[".repeat(100_000)));
            out.add(bigPost(Category.DEEP_NESTING, path, "body of 50000 '{\"a\":'", REJECT,
                    () -> Bodies.nest("{\"a\":", "1", null, 50_000)));
        }
        out.add(bigPost(Category.DEEP_NESTING, COMPLETIONS, "prompt of 100000 unclosed '['", REJECT,
                () -> "{\"prompt\":" + "[".repeat(100_000)));
        out.add(bigPost(Category.DEEP_NESTING, CHAT, "message content of 100000 unclosed '['", REJECT,
                () -> "{\"messages\":[{\"role\":\"user\",\"content\":" + "[".repeat(100_000)));
        for (int depth : new int[] {3, 100, 999, 1000, 1001, 5000, 100_000}) {
            out.add(bigPost(Category.DEEP_NESTING, COMPLETIONS, "unknown field nested " + depth + " deep (closed)",
                    ACCEPT_OR_REJECT, () -> "{\"prompt\":\"a\",\"max_tokens\":4,\"x\":" + Bodies.nest("[", "1", "]", depth) + "}"));
            out.add(bigPost(Category.DEEP_NESTING, COMPLETIONS, "prompt nested " + depth + " deep (closed)", REJECT,
                    () -> "{\"prompt\":" + Bodies.nest("[", "1", "]", depth) + ",\"max_tokens\":4}"));
            out.add(bigPost(Category.DEEP_NESTING, CHAT, "content nested " + depth + " deep (closed)", REJECT,
                    () -> "{\"messages\":[{\"role\":\"user\",\"content\":" + Bodies.nest("[", "\"a\"", "]", depth) + "}]}"));
            out.add(bigPost(Category.DEEP_NESTING, CHAT, "logit_bias nested " + depth + " deep (closed)", REJECT,
                    () -> Bodies.with(CHAT, "logit_bias", Bodies.nest("{\"1\":", "1", "}", depth))));
            out.add(bigPost(Category.DEEP_NESTING, COMPLETIONS, "stop nested " + depth + " deep (closed)", REJECT,
                    () -> Bodies.with(COMPLETIONS, "stop", Bodies.nest("[", "\"x\"", "]", depth))));
        }
    }

    private static void huge(List<Draft> out) {
        out.add(bigPost(Category.HUGE, COMPLETIONS, "prompt of 15 MB", REJECT,
                () -> Bodies.with(COMPLETIONS, "prompt", Bodies.bigString(15 * MB))));
        out.add(bigPost(Category.HUGE, CHAT, "message content of 15 MB", REJECT,
                () -> Bodies.with(CHAT, "messages", "[{\"role\":\"user\",\"content\":" + Bodies.bigString(15 * MB) + "}]")));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "body of 17 MB (over --max-request-bytes)", REJECT,
                () -> Bodies.with(COMPLETIONS, "prompt", Bodies.bigString(17 * MB))));
        out.add(bigPost(Category.HUGE, CHAT, "body of 32 MB", REJECT,
                () -> Bodies.with(CHAT, "user", Bodies.bigString(32 * MB))));
        out.add(bigPost(Category.HUGE, CHAT, "100000 messages", REJECT,
                () -> Bodies.with(CHAT, "messages", Bodies.repeatArray("{\"role\":\"user\",\"content\":\"hello again\"}", 100_000))));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "prompt of 1000000 token ids", REJECT,
                () -> Bodies.with(COMPLETIONS, "prompt", Bodies.repeatArray("1", 1_000_000))));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "prompt of 100000 strings", REJECT,
                () -> Bodies.with(COMPLETIONS, "prompt", Bodies.repeatArray("\"a\"", 100_000))));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "prompt of 10000 token-id arrays", REJECT,
                () -> Bodies.with(COMPLETIONS, "prompt", Bodies.repeatArray("[1,2]", 10_000))));
        out.add(bigPost(Category.HUGE, CHAT, "stop of 100000 strings", REJECT,
                () -> Bodies.with(CHAT, "stop", Bodies.repeatArray("\"x\"", 100_000))));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "stop_token_ids of 1000000 ids", ACCEPT_OR_REJECT,
                () -> Bodies.with(COMPLETIONS, "stop_token_ids", Bodies.repeatArray("1", 1_000_000))));
        out.add(bigPost(Category.HUGE, CHAT, "logit_bias of 100000 entries", ACCEPT_OR_REJECT, () -> {
            StringBuilder s = new StringBuilder("{");
            for (int i = 0; i < 100_000; i++) {
                s.append(i == 0 ? "" : ",").append('"').append(i).append("\":1");
            }
            return Bodies.with(CHAT, "logit_bias", s.append('}').toString());
        }));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "model name of 8 MB", REJECT,
                () -> Bodies.with(COMPLETIONS, "model", Bodies.bigString(8 * MB))));
        out.add(bigPost(Category.HUGE, CHAT, "model name of 8 MB", REJECT,
                () -> Bodies.with(CHAT, "model", Bodies.bigString(8 * MB))));
        out.add(bigPost(Category.HUGE, CHAT, "user of 8 MB", ACCEPT_OR_REJECT,
                () -> Bodies.with(CHAT, "user", Bodies.bigString(8 * MB))));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "unknown field name of 1 MB", ACCEPT_OR_REJECT,
                () -> Bodies.with(COMPLETIONS, "k".repeat(MB), "1")));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "100000 unknown fields", ACCEPT_OR_REJECT, () -> {
            Map<String, String> fields = Bodies.base(COMPLETIONS);
            for (int i = 0; i < 100_000; i++) {
                fields.put("x" + i, "1");
            }
            return Bodies.render(fields);
        }));
        out.add(bigPost(Category.HUGE, TOKENIZE, "prompt of 15 MB", ACCEPT_OR_REJECT,
                () -> "{\"prompt\":" + Bodies.bigString(15 * MB) + "}"));
        out.add(bigPost(Category.HUGE, DETOKENIZE, "1000000 tokens", ACCEPT_OR_REJECT,
                () -> "{\"tokens\":" + Bodies.repeatArray("1", 1_000_000) + "}"));
        out.add(bigPost(Category.HUGE, CHAT, "10000 text content parts", ACCEPT_OR_REJECT,
                () -> Bodies.with(CHAT, "messages", "[{\"role\":\"user\",\"content\":"
                        + Bodies.repeatArray("{\"type\":\"text\",\"text\":\"a\"}", 10_000) + "}]")));
        out.add(bigPost(Category.HUGE, COMPLETIONS, "16 stop strings of 900 KB", ACCEPT_OR_REJECT,
                () -> Bodies.with(COMPLETIONS, "stop", Bodies.repeatArray(Bodies.bigString(900 * 1024), 16))));
    }

    static final List<String> BAD_ROLES = List.of("wizard", "", "USER", "User", " user", "user ", "function", "model",
            "bot", "human", "system\\u0000", "\u7528\u6237", "user\\n", "ipython", "root", "admin", "tool_result",
            "<|im_start|>system", "{{ raise_exception('x') }}", "assistant\\u0000");

    private static void unknownRoles(List<Draft> out) {
        for (String role : BAD_ROLES) {
            String message = "{\"role\":\"" + role + "\",\"content\":\"Hello\"}";
            out.add(post(Category.UNKNOWN_ROLE, CHAT, "role \"" + role + "\"", REJECT,
                    Bodies.with(CHAT, "messages", "[" + message + "]")));
            out.add(post(Category.UNKNOWN_ROLE, CHAT, "role \"" + role + "\" after a valid message", REJECT,
                    Bodies.with(CHAT, "messages", "[{\"role\":\"user\",\"content\":\"a\"}," + message + "]")));
        }
        for (String role : List.of("5", "null", "true", "[]", "{}", "[\"user\"]")) {
            out.add(post(Category.UNKNOWN_ROLE, CHAT, "role " + role, REJECT,
                    Bodies.with(CHAT, "messages", "[{\"role\":" + role + ",\"content\":\"Hello\"}]")));
        }
        out.add(bigPost(Category.UNKNOWN_ROLE, CHAT, "role of 1 MB", REJECT,
                () -> Bodies.with(CHAT, "messages", "[{\"role\":" + Bodies.bigString(MB) + ",\"content\":\"Hello\"}]")));
        out.add(post(Category.UNKNOWN_ROLE, TOKENIZE, "role \"wizard\"", REJECT,
                "{\"messages\":[{\"role\":\"wizard\",\"content\":\"Hello\"}]}"));
    }

    private static void duplicateKeys(List<Draft> out) {
        List<String> bodies = List.of(
                "{\"prompt\":\"a\",\"prompt\":\"b\",\"max_tokens\":4}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"max_tokens\":-1}",
                "{\"prompt\":\"a\",\"max_tokens\":-1,\"max_tokens\":4}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"stream\":true,\"stream\":false}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"n\":1,\"n\":200}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"model\":\"nope\",\"model\":\"other\"}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"logit_bias\":{\"1\":1,\"1\":200}}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"temperature\":0.5,\"temperature\":\"hot\"}",
                "{\"prompt\":\"a\",\"max_tokens\":4,\"error\":{\"message\":\"x\"}}");
        for (String body : bodies) {
            out.add(post(Category.DUPLICATE_KEYS, COMPLETIONS, Bodies.show(body), ACCEPT_OR_REJECT, body));
        }
        List<String> chatBodies = List.of(
                "{\"messages\":" + Bodies.MESSAGES + ",\"messages\":[],\"max_tokens\":4}",
                "{\"messages\":[{\"role\":\"user\",\"role\":\"wizard\",\"content\":\"a\"}],\"max_tokens\":4}",
                "{\"messages\":[{\"role\":\"user\",\"content\":\"a\",\"content\":5}],\"max_tokens\":4}",
                "{\"messages\":" + Bodies.MESSAGES + ",\"max_tokens\":4,\"stream\":true,\"stream_options\":{\"include_usage\":true,\"include_usage\":\"x\"}}");
        for (String body : chatBodies) {
            out.add(post(Category.DUPLICATE_KEYS, CHAT, Bodies.show(body), ACCEPT_OR_REJECT, body));
        }
        out.add(post(Category.DUPLICATE_KEYS, TOKENIZE, "prompt twice", ACCEPT_OR_REJECT, "{\"prompt\":\"a\",\"prompt\":5}"));
        out.add(post(Category.DUPLICATE_KEYS, DETOKENIZE, "tokens twice", ACCEPT_OR_REJECT, "{\"tokens\":[1],\"tokens\":[-1]}"));
    }

    /** In-range and edge values of every documented field: each may be accepted. */
    static List<String> validValues(Fields.Field field) {
        return switch (field.kind()) {
            case INT, NUM -> {
                List<String> values = new ArrayList<>(List.of("null"));
                if (!field.minExclusive()) {
                    values.add(field.min().toPlainString());
                }
                values.add(field.max().toPlainString());
                if (field.name().equals("max_tokens") || field.name().equals("max_completion_tokens")) {
                    values.set(values.size() - 1, "8");
                    values.add(String.valueOf(Integer.MAX_VALUE));
                }
                yield values;
            }
            case BOOL -> List.of("true", "false", "null");
            case STRING -> List.of("\"\"", "\"u\"", "null");
            case STOP -> List.of("\"x\"", "[\"a\",\"b\"]", "[]", "null", Bodies.repeatArray("\"s\"", 16), "\"\\n\"");
            case LOGIT_BIAS -> List.of("{\"1\":100}", "{\"1\":-100}", "{}", "null", "{\"2\":0.5,\"3\":-0.5}");
            case STREAM_OPTIONS -> List.of("{\"include_usage\":true}", "{\"include_usage\":false}", "{}", "null");
            case TOKEN_IDS -> List.of("[]", "[0]", "[1,2,3]", "null");
            case MESSAGES -> List.of(
                    "[{\"role\":\"user\"}]",
                    "[{\"role\":\"system\",\"content\":\"s\"},{\"role\":\"user\",\"content\":\"u\"}]",
                    "[{\"role\":\"developer\",\"content\":\"d\"},{\"role\":\"user\",\"content\":\"u\"}]",
                    "[{\"role\":\"user\",\"content\":\"u\"},{\"role\":\"assistant\",\"content\":\"a\"},{\"role\":\"user\",\"content\":\"u\"}]",
                    "[{\"role\":\"assistant\",\"content\":\"a\"}]",
                    "[{\"role\":\"tool\",\"content\":\"t\",\"tool_call_id\":\"x\"}]",
                    "[{\"role\":\"user\",\"content\":[{\"type\":\"text\",\"text\":\"a\"},{\"type\":\"text\",\"text\":\"b\"}]}]",
                    "[{\"role\":\"user\",\"content\":\"\"}]",
                    "[{\"role\":\"user\",\"content\":null}]",
                    "[{\"role\":\"user\",\"content\":\"x\",\"name\":\"bob\"}]");
            case PROMPT -> List.of("\"\"", "\"a\"", "[\"a\",\"b\"]", "[1,2,3]", "[[1,2],[3]]", "[\"\"]");
            case RESPONSE_FORMAT -> List.of("{\"type\":\"text\"}", "null");
            case TOOLS -> List.of("[]", "null", "[{\"type\":\"function\",\"function\":{\"name\":\"f\"}}]");
            case TOOL_CHOICE -> List.of("\"none\"", "\"auto\"");
            case FUNCTIONS -> List.of("null", "[{\"name\":\"f\"}]");
            case SUFFIX -> List.of("null", "\"\"");
        };
    }

    private static void fieldValues(List<Draft> out, int offset) {
        List<List<Draft>> perField = new ArrayList<>();
        for (Fields.Field field : Fields.ALL) {
            List<Draft> drafts = new ArrayList<>();
            List<String> values = validValues(field);
            for (int i = 0; i < values.size(); i++) {
                drafts.add(fieldDraft(Category.FIELD_VALUES, field, values.get(i), ACCEPT_OR_REJECT, i + offset));
            }
            perField.add(drafts);
        }
        out.addAll(interleave(perField));
        out.add(post(Category.FIELD_VALUES, COMPLETIONS, "no max_tokens", ACCEPT_OR_REJECT, "{\"prompt\":\"a\"}"));
        out.add(post(Category.FIELD_VALUES, COMPLETIONS, "echo with stream", ACCEPT_OR_REJECT,
                "{\"prompt\":\"a\",\"max_tokens\":2,\"echo\":true,\"stream\":true}"));
        out.add(post(Category.FIELD_VALUES, COMPLETIONS, "echo with logprobs", REJECT,
                "{\"prompt\":\"a\",\"max_tokens\":2,\"echo\":true,\"logprobs\":2}"));
        out.add(post(Category.FIELD_VALUES, TOKENIZE, "messages", ACCEPT_OR_REJECT, "{\"messages\":" + Bodies.MESSAGES + "}"));
        out.add(post(Category.FIELD_VALUES, TOKENIZE, "every option", ACCEPT_OR_REJECT, "{\"messages\":" + Bodies.MESSAGES
                + ",\"add_special_tokens\":false,\"add_generation_prompt\":false,\"return_token_strs\":true}"));
        out.add(post(Category.FIELD_VALUES, TOKENIZE, "empty prompt", ACCEPT_OR_REJECT, "{\"prompt\":\"\"}"));
        out.add(post(Category.FIELD_VALUES, DETOKENIZE, "no tokens", ACCEPT_OR_REJECT, "{\"tokens\":[]}"));
        out.add(post(Category.FIELD_VALUES, CHAT, "every sampling field", ACCEPT_OR_REJECT, "{\"messages\":" + Bodies.MESSAGES
                + ",\"max_tokens\":4,\"temperature\":0.7,\"top_p\":0.9,\"top_k\":20,\"min_p\":0.05,\"presence_penalty\":0.5,"
                + "\"frequency_penalty\":0.5,\"repetition_penalty\":1.1,\"seed\":7,\"n\":2,\"stop\":[\"x\"],"
                + "\"logit_bias\":{\"1\":-1},\"logprobs\":true,\"top_logprobs\":3,\"user\":\"u\",\"ignore_eos\":true,"
                + "\"stop_token_ids\":[2],\"priority\":-1,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"));
    }

    static final List<String> CONTENT_TYPES = List.of("text/plain", "application/x-www-form-urlencoded",
            "multipart/form-data; boundary=xyz", "application/json; charset=utf-16", "application/json; charset=latin1",
            "*/*", "", "application/json, text/plain", "application/xml", "application/jsonx", "APPLICATION/JSON",
            "application/json;;;", "text/event-stream", "application/octet-stream");

    private static void contentTypes(List<Draft> out) {
        for (String type : CONTENT_TYPES) {
            for (String path : JSON_ENDPOINTS) {
                byte[] body = Bodies.utf8(Bodies.render(Bodies.base(path)));
                out.add(draft(Category.CONTENT_TYPE, "POST " + path + ": valid body as Content-Type '" + type + "'",
                        ACCEPT_OR_REJECT, () -> HttpWire.post(path, type, body)));
            }
        }
        for (String path : JSON_ENDPOINTS) {
            byte[] body = Bodies.utf8(Bodies.render(Bodies.base(path)));
            out.add(draft(Category.CONTENT_TYPE, "POST " + path + ": valid body, no Content-Type", ACCEPT_OR_REJECT,
                    () -> HttpWire.post(path, null, body)));
            out.add(draft(Category.CONTENT_TYPE, "POST " + path + ": form-encoded body", REJECT,
                    () -> HttpWire.post(path, "application/x-www-form-urlencoded", Bodies.utf8("prompt=a&max_tokens=4"))));
            out.add(draft(Category.CONTENT_TYPE, "POST " + path + ": XML body", REJECT,
                    () -> HttpWire.post(path, "application/xml", Bodies.utf8("<prompt>a</prompt>"))));
            // JSON in UTF-16, declared: RFC 8259 asks for UTF-8, but a parser may detect UTF-16.
            out.add(draft(Category.CONTENT_TYPE, "POST " + path + ": UTF-16 body", ACCEPT_OR_REJECT,
                    () -> HttpWire.post(path, "application/json; charset=utf-16",
                            Bodies.render(Bodies.base(path)).getBytes(StandardCharsets.UTF_16LE))));
        }
    }

    private static void methods(List<Draft> out) {
        List<String> postPaths = JSON_ENDPOINTS;
        for (String method : List.of("GET", "PUT", "DELETE", "PATCH", "TRACE", "FOO", "CONNECT")) {
            for (String path : postPaths) {
                byte[] body = method.equals("GET") || method.equals("TRACE") ? null : Bodies.utf8(Bodies.render(Bodies.base(path)));
                out.add(draft(Category.METHOD, method + " " + path, REJECT,
                        () -> HttpWire.request(method, path, body == null ? null : "application/json", body)));
            }
        }
        for (String method : List.of("POST", "PUT", "DELETE")) {
            for (String path : List.of("/health", "/metrics", "/v1/models")) {
                out.add(draft(Category.METHOD, method + " " + path, REJECT,
                        () -> HttpWire.request(method, path, "application/json", Bodies.utf8("{}"))));
            }
        }
        for (String method : List.of("HEAD", "OPTIONS")) {
            for (String path : List.of(CHAT, COMPLETIONS, TOKENIZE, DETOKENIZE, "/health", "/metrics", "/v1/models")) {
                out.add(draft(Category.METHOD, method + " " + path, ACCEPT_OR_REJECT,
                        () -> HttpWire.request(method, path, null, null)));
            }
        }
        for (String path : List.of("/v1/chat", "/v2/completions", "/v1/completions/x", "/v1/models/%00", "/%ff",
                "/v1/embeddings", "/v1/responses", "/admin", "/../../etc/passwd", "/v1/models/nope",
                "/v1/models/" + "m".repeat(8192), "/" + "a".repeat(100_000), "/v1/models/%2e%2e%2f%2e%2e",
                "/v1/\u00e9", "*")) {
            // A request line past the server's 16 KiB limit cannot be read as a request at all.
            Expect expect = path.length() > 16 * 1024 ? UNREADABLE : REJECT;
            out.add(draft(Category.METHOD, "GET " + Bodies.show(path), expect, () -> HttpWire.request("GET", path, null, null)));
        }
        for (String path : List.of(COMPLETIONS + "?x=%ZZ", COMPLETIONS + "?stream=true", "/" + COMPLETIONS,
                COMPLETIONS + "/", COMPLETIONS + "#frag", COMPLETIONS + "?" + "q".repeat(8192))) {
            byte[] body = Bodies.utf8(Bodies.render(Bodies.base(COMPLETIONS)));
            out.add(draft(Category.METHOD, "POST " + Bodies.show(path) + ": valid body", ACCEPT_OR_REJECT,
                    () -> HttpWire.post(path, "application/json", body)));
        }
    }

    private static void hostile(List<Draft> out) {
        out.add(bigPost(Category.HOSTILE, COMPLETIONS, "n 128, max_tokens 4, 16 stop strings of ~900 KB (14 MB body)",
                ACCEPT_OR_REJECT, () -> "{\"prompt\":\"Hello\",\"n\":128,\"max_tokens\":4,\"stop\":"
                        + Bodies.repeatArray(Bodies.bigString(900_000), 16) + "}"));
        out.add(post(Category.HOSTILE, COMPLETIONS, "n 128, logprobs 20, max_tokens 200", ACCEPT_OR_REJECT,
                "{\"prompt\":\"Hello\",\"n\":128,\"logprobs\":20,\"max_tokens\":200}"));
        out.add(post(Category.HOSTILE, CHAT, "n 128, top_logprobs 20, max_tokens 200", ACCEPT_OR_REJECT,
                Bodies.render(withField(withField(withField(withField(Bodies.base(CHAT), "n", "128"), "logprobs", "true"),
                        "top_logprobs", "20"), "max_tokens", "200"))));
        out.add(post(Category.HOSTILE, COMPLETIONS, "n 128, logprobs 20, max_tokens 200, stream", ACCEPT_OR_REJECT,
                "{\"prompt\":\"Hello\",\"n\":128,\"logprobs\":20,\"max_tokens\":200,\"stream\":true}"));
        out.add(post(Category.HOSTILE, TOKENIZE, "unknown model", REJECT, "{\"prompt\":\"Hello\",\"model\":\"no-such-model\"}"));
        out.add(post(Category.HOSTILE, DETOKENIZE, "unknown model", REJECT, "{\"tokens\":[1,2],\"model\":\"no-such-model\"}"));
        out.add(post(Category.HOSTILE, CHAT, "unknown model", REJECT, Bodies.with(CHAT, "model", "\"no-such-model\"")));
        out.add(bigPost(Category.HOSTILE, COMPLETIONS, "8 MB unknown model name (must not be echoed back)", REJECT,
                () -> Bodies.with(COMPLETIONS, "model", Bodies.bigString(8_000_000))));
        out.add(bigPost(Category.HOSTILE, TOKENIZE, "8 MB unknown model name", REJECT,
                () -> "{\"prompt\":\"a\",\"model\":" + Bodies.bigString(8_000_000) + "}"));
        // OpenAI's range for top_p includes 0 (greedy): served, no longer refused.
        out.add(post(Category.HOSTILE, COMPLETIONS, "top_p 0", ACCEPT_OR_REJECT, Bodies.with(COMPLETIONS, "top_p", "0")));
        out.add(post(Category.HOSTILE, CHAT, "top_p 0.0", ACCEPT_OR_REJECT, Bodies.with(CHAT, "top_p", "0.0")));
        out.add(post(Category.HOSTILE, COMPLETIONS, "seed 2^64", REJECT, Bodies.with(COMPLETIONS, "seed", "18446744073709551616")));
        out.add(post(Category.HOSTILE, CHAT, "seed 2^63", REJECT, Bodies.with(CHAT, "seed", "9223372036854775808")));
        out.add(post(Category.HOSTILE, CHAT, "seed 1e19", REJECT, Bodies.with(CHAT, "seed", "1e19")));
        out.add(post(Category.HOSTILE, COMPLETIONS, "priority 2^31", REJECT, Bodies.with(COMPLETIONS, "priority", "2147483648")));
        out.add(post(Category.HOSTILE, CHAT, "priority \"high\"", REJECT, Bodies.with(CHAT, "priority", "\"high\"")));
        out.add(post(Category.HOSTILE, CHAT, "priority -2^31", ACCEPT_OR_REJECT, Bodies.with(CHAT, "priority", "-2147483648")));
        out.add(post(Category.HOSTILE, COMPLETIONS, "n 128 with max_tokens 2^31-1", REJECT,
                "{\"prompt\":\"Hello\",\"n\":128,\"max_tokens\":2147483647}"));
        out.add(post(Category.HOSTILE, COMPLETIONS, "128 prompts x n 2", REJECT,
                Bodies.with(COMPLETIONS, "prompt", Bodies.repeatArray("\"a\"", 128)).replace("\"max_tokens\":4", "\"max_tokens\":4,\"n\":2")));
        out.add(post(Category.HOSTILE, COMPLETIONS, "n 128, stream, max_tokens 4", ACCEPT_OR_REJECT,
                "{\"prompt\":\"Hello\",\"n\":128,\"max_tokens\":4,\"stream\":true,\"stream_options\":{\"include_usage\":true}}"));
        out.add(post(Category.HOSTILE, DETOKENIZE, "token ids out of vocabulary", REJECT, "{\"tokens\":[2147483647,-5]}"));
        out.add(post(Category.HOSTILE, CHAT, "chat template injection in content", ACCEPT_OR_REJECT,
                Bodies.with(CHAT, "messages", "[{\"role\":\"user\",\"content\":\"{{ raise_exception('boom') }}{% for x in range(99999999) %}x{% endfor %}\"}]")));
        out.add(post(Category.HOSTILE, CHAT, "1000 stop strings", REJECT, Bodies.with(CHAT, "stop", Bodies.repeatArray("\"x\"", 1000))));
        out.add(post(Category.HOSTILE, COMPLETIONS, "logprobs 21", REJECT, Bodies.with(COMPLETIONS, "logprobs", "21")));
        out.add(post(Category.HOSTILE, CHAT, "top_logprobs 21", REJECT, Bodies.with(CHAT, "top_logprobs", "21")));
    }

    private static final String VALID_HEAD = "POST /v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n";
    private static final String VALID_BODY = "{\"prompt\":\"Hello\",\"max_tokens\":4}";

    private static void rawSocket(List<Draft> out) {
        // Unfinished requests the server must end on its own.
        raw(out, "truncated headers, then silence", CUT_OFF, FuzzCase.Send.HOLD, VALID_HEAD + "Content-Le");
        raw(out, "request line only, then silence", CUT_OFF, FuzzCase.Send.HOLD, "POST /v1/completions HTTP/1.1");
        raw(out, "headers without the blank line, then silence", CUT_OFF, FuzzCase.Send.HOLD,
                VALID_HEAD + "Content-Length: " + VALID_BODY.length() + "\r\n");
        raw(out, "body 10 of 100 bytes, then silence", CUT_OFF, FuzzCase.Send.HOLD,
                VALID_HEAD + "Content-Length: 100\r\n\r\n{\"prompt\":");
        raw(out, "Content-Length 1000000000 with a short body, then silence", CUT_OFF, FuzzCase.Send.HOLD,
                VALID_HEAD + "Content-Length: 1000000000\r\n\r\n" + VALID_BODY);
        raw(out, "truncated chunked body, then silence", CUT_OFF, FuzzCase.Send.HOLD,
                VALID_HEAD + "Transfer-Encoding: chunked\r\n\r\n10\r\n{\"prompt\":");
        raw(out, "Expect: 100-continue, no body", CUT_OFF, FuzzCase.Send.HOLD,
                VALID_HEAD + "Content-Length: " + VALID_BODY.length() + "\r\nExpect: 100-continue\r\n\r\n");
        raw(out, "connect and send nothing", CUT_OFF, FuzzCase.Send.HOLD, "");
        raw(out, "slowloris: endless header lines, 1 byte per 200 ms", CUT_OFF, FuzzCase.Send.slow(1, 200),
                VALID_HEAD + "X-Slow: a\r\n".repeat(1000));
        raw(out, "slowloris: body at 1 byte per 500 ms", CUT_OFF, FuzzCase.Send.slow(1, 500),
                VALID_HEAD + "Content-Length: 2000\r\n\r\n" + " ".repeat(2000));
        raw(out, "slow headers: 10 bytes per second", CUT_OFF, FuzzCase.Send.slow(10, 1000),
                VALID_HEAD + "X-Slow: " + "b".repeat(4000) + "\r\n\r\n");
        // Truncated, then the client half-closes: the server sees the end of the stream.
        raw(out, "body 10 of 100 bytes, then half-close", CUT_OFF, FuzzCase.Send.HALF_CLOSE,
                VALID_HEAD + "Content-Length: 100\r\n\r\n{\"prompt\":");
        raw(out, "truncated headers, then half-close", CUT_OFF, FuzzCase.Send.HALF_CLOSE, VALID_HEAD + "Content-Le");
        // Complete but bogus framing.
        for (String length : List.of("abc", "-5", "1e3", "99999999999999999999", "34, 35", "0x22", " ", "+34")) {
            raw(out, "Content-Length '" + length + "'", REJECT, FuzzCase.Send.NORMAL,
                    VALID_HEAD + "Content-Length: " + length + "\r\n\r\n" + VALID_BODY);
        }
        raw(out, "two different Content-Length headers", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Content-Length: " + VALID_BODY.length() + "\r\nContent-Length: 10\r\n\r\n" + VALID_BODY);
        raw(out, "Content-Length and Transfer-Encoding: chunked", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Content-Length: " + VALID_BODY.length() + "\r\nTransfer-Encoding: chunked\r\n\r\n" + VALID_BODY);
        raw(out, "Content-Length 5, longer body", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Content-Length: 5\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "invalid chunk size", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Transfer-Encoding: chunked\r\n\r\nzz\r\n" + VALID_BODY + "\r\n0\r\n\r\n");
        raw(out, "valid chunked body", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n" + Integer.toHexString(VALID_BODY.length())
                        + "\r\n" + VALID_BODY + "\r\n0\r\n\r\n");
        raw(out, "Transfer-Encoding: gzip", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Transfer-Encoding: gzip\r\n\r\n" + VALID_BODY);
        raw(out, "HTTP/1.1 without Host", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                "POST /v1/completions HTTP/1.1\r\nContent-Type: application/json\r\nContent-Length: " + VALID_BODY.length() + "\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "HTTP/1.0", UNREADABLE, FuzzCase.Send.NORMAL,
                "POST /v1/completions HTTP/1.0\r\nContent-Type: application/json\r\nContent-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "HTTP/9.9", UNREADABLE, FuzzCase.Send.NORMAL, VALID_HEAD.replace("HTTP/1.1", "HTTP/9.9") + "Content-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "HTTP/2 preface on HTTP/1", UNREADABLE, FuzzCase.Send.NORMAL, "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
        raw(out, "garbage request line", UNREADABLE, FuzzCase.Send.NORMAL, "\u0001\u0002\u0003 hello\r\n\r\n");
        raw(out, "request line without a version", UNREADABLE, FuzzCase.Send.NORMAL, "GET /health\r\n\r\n");
        raw(out, "request line 'GET'", UNREADABLE, FuzzCase.Send.NORMAL, "GET\r\n\r\n");
        raw(out, "header without colon", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "NoColonHere\r\nContent-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "space before a header's colon", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Content-Length : 34\r\n\r\n" + VALID_BODY);
        raw(out, "NUL in a header", REJECT, FuzzCase.Send.NORMAL, VALID_HEAD + "X-A: a\u0000b\r\nContent-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "header value of 64 KB", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "X-Big: " + "v".repeat(64 * 1024) + "\r\nContent-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "header value of 1 MB", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "X-Big: " + "v".repeat(MB) + "\r\nContent-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "10000 headers", REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "X-H: v\r\n".repeat(10_000) + "Content-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY);
        raw(out, "LF-only line ends", UNREADABLE, FuzzCase.Send.NORMAL,
                "POST /v1/completions HTTP/1.1\nHost: x\nContent-Type: application/json\nContent-Length: 34\nConnection: close\n\n" + VALID_BODY);
        raw(out, "obsolete header folding", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "X-Fold: a\r\n b\r\nContent-Length: " + VALID_BODY.length() + "\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "X-Request-Id of 100 KB", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "X-Request-Id: " + "r".repeat(100 * 1024) + "\r\nContent-Length: " + VALID_BODY.length() + "\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "Authorization with 64 KB token", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Authorization: Bearer " + "t".repeat(60_000) + "\r\nContent-Length: " + VALID_BODY.length() + "\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "two pipelined requests", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                VALID_HEAD + "Content-Length: " + VALID_BODY.length() + "\r\n\r\n" + VALID_BODY + VALID_HEAD + "Content-Length: " + VALID_BODY.length() + "\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "absolute-form request target", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                "POST http://127.0.0.1/v1/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: " + VALID_BODY.length() + "\r\nConnection: close\r\n\r\n" + VALID_BODY);
        raw(out, "Upgrade: websocket", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                "GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n");
        raw(out, "Upgrade: h2c", ACCEPT_OR_REJECT, FuzzCase.Send.NORMAL,
                "GET /health HTTP/1.1\r\nHost: x\r\nUpgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQAAP__\r\nConnection: Upgrade, HTTP2-Settings, close\r\n\r\n");
    }

    // ---- random variations ---------------------------------------------------------------

    static Draft random(Category category, SplittableRandom r) {
        return switch (category) {
            case INVALID_JSON -> {
                String path = pick(r, JSON_ENDPOINTS);
                String valid = Bodies.render(Bodies.base(path));
                int cut = 1 + r.nextInt(valid.length() - 1);
                String body = valid.substring(0, cut);
                yield post(category, path, "valid body cut to " + cut + " bytes" + (r.nextBoolean() ? "" : " + junk"), REJECT,
                        body.length() % 2 == 0 ? body : body + randomAscii(r, 1 + r.nextInt(8), "!#%&*+-;<=>?@^|~"));
            }
            case INVALID_UTF8 -> {
                String[] spot = UTF8_SPOTS.get(r.nextInt(UTF8_SPOTS.size()));
                byte[] bad = new byte[1 + r.nextInt(4)];
                for (int i = 0; i < bad.length; i++) {
                    bad[i] = (byte) (i == 0 ? 0xf8 + r.nextInt(8) : 0x80 + r.nextInt(64)); // never a valid lead byte
                }
                yield utf8Draft(spot[0], spot[1], bad);
            }
            case WRONG_TYPE -> {
                Fields.Field field = pick(r, Fields.ALL);
                String value = switch (field.kind()) {
                    case INT, NUM -> "\"" + r.nextInt(1000) + "\"";
                    case BOOL -> String.valueOf(r.nextInt(2, 1000));
                    case STRING -> String.valueOf(r.nextInt());
                    default -> pick(r, wrongValues(field.kind()));
                };
                yield fieldDraft(category, field, value, REJECT, r.nextInt(2));
            }
            case OUT_OF_RANGE -> {
                Fields.Field field = pick(r, Fields.numeric());
                BigDecimal magnitude = BigDecimal.TEN.pow(r.nextInt(1, 40)).multiply(BigDecimal.valueOf(r.nextInt(1, 10)));
                BigDecimal value = r.nextBoolean() ? field.max().add(magnitude) : field.min().subtract(magnitude);
                String literal = value.toPlainString();
                yield fieldDraft(category, field, literal, rangeExpect(field, literal), r.nextInt(2));
            }
            case NON_FINITE -> {
                Fields.Field field = pick(r, Fields.numeric());
                String token = pick(r, List.of("NaN", "Infinity", "-Infinity", "nan", "Inf", "-inf", "infinity", "\"nan\"",
                        "\"inf\"", "\"-Infinity\"", "1e" + r.nextInt(309, 100_000), "-1e" + r.nextInt(309, 100_000)));
                yield fieldDraft(category, field, token, token.startsWith("1e") || token.startsWith("-1e")
                        ? rangeExpect(field, token) : REJECT, r.nextInt(2));
            }
            case DEEP_NESTING -> {
                int depth = r.nextInt(1001, 200_000);
                String open = pick(r, List.of("[", "{\"a\":", "[{\"b\":"));
                String field = pick(r, List.of("prompt", "messages", "stop", "logit_bias", "max_tokens"));
                String path = field.equals("messages") ? CHAT : COMPLETIONS;
                yield bigPost(category, path, field + " = " + depth + " unclosed '" + open + "'", REJECT,
                        () -> "{\"" + field + "\":" + open.repeat(depth));
            }
            case HUGE -> {
                int size = r.nextInt(100_000, 2 * MB);
                String field = pick(r, List.of("user", "prompt", "stop", "model", "content"));
                String path = field.equals("content") || field.equals("user") ? CHAT : COMPLETIONS;
                Expect expect = field.equals("user") ? ACCEPT_OR_REJECT : field.equals("model") ? REJECT : ACCEPT_OR_REJECT;
                yield bigPost(category, path, field + " of " + size + " bytes", expect, () -> field.equals("content")
                        ? Bodies.with(CHAT, "messages", "[{\"role\":\"user\",\"content\":" + Bodies.bigString(size) + "}]")
                        : Bodies.with(path, field, Bodies.bigString(size)));
            }
            case UNKNOWN_ROLE -> {
                String role = randomAscii(r, 1 + r.nextInt(12), "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ_-");
                Expect expect = List.of("system", "developer", "user", "assistant", "tool").contains(role) ? ACCEPT_OR_REJECT : REJECT;
                yield post(category, CHAT, "role \"" + role + "\"", expect,
                        Bodies.with(CHAT, "messages", "[{\"role\":\"" + role + "\",\"content\":\"Hello\"}]"));
            }
            case DUPLICATE_KEYS -> {
                Fields.Field field = pick(r, Fields.numeric());
                String path = field.onChat() && (!field.onCompletions() || r.nextBoolean()) ? CHAT : COMPLETIONS;
                Map<String, String> fields = Bodies.base(path);
                String body = Bodies.render(fields).replace("}", ",\"" + field.name() + "\":" + r.nextInt(-5, 300)
                        + ",\"" + field.name() + "\":" + r.nextInt(-5, 300) + "}");
                yield post(category, path, Bodies.show(body), ACCEPT_OR_REJECT, body);
            }
            case FIELD_VALUES -> {
                String path = pick(r, GENERATION_ENDPOINTS);
                Map<String, String> fields = Bodies.base(path);
                fields.put("max_tokens", String.valueOf(r.nextInt(1, 6)));
                fields.put("temperature", String.format("%.3f", r.nextDouble(0, 2)));
                fields.put("top_p", String.format("%.3f", r.nextDouble(0.01, 1)));
                fields.put("top_k", String.valueOf(r.nextInt(-1, 100)));
                fields.put("seed", String.valueOf(r.nextLong()));
                fields.put("n", String.valueOf(r.nextInt(1, 5)));
                fields.put("presence_penalty", String.format("%.3f", r.nextDouble(-2, 2)));
                fields.put("stream", String.valueOf(r.nextBoolean()));
                yield post(category, path, Bodies.show(Bodies.render(fields)), ACCEPT_OR_REJECT, Bodies.render(fields));
            }
            case CONTENT_TYPE -> {
                String path = pick(r, JSON_ENDPOINTS);
                String type = randomAscii(r, 1 + r.nextInt(30), "abcdefghijklmnopqrstuvwxyz/;=-+. ");
                byte[] body = Bodies.utf8(Bodies.render(Bodies.base(path)));
                yield draft(category, "POST " + path + ": valid body as Content-Type '" + type + "'", ACCEPT_OR_REJECT,
                        () -> HttpWire.post(path, type, body));
            }
            case METHOD -> {
                String method;
                do {
                    method = randomAscii(r, 3 + r.nextInt(5), "ABCDEFGHIJKLMNOPQRSTUVWXYZ");
                } while (List.of("GET", "POST", "HEAD", "OPTIONS").contains(method));
                String path = pick(r, JSON_ENDPOINTS);
                String m = method;
                yield draft(category, m + " " + path, REJECT, () -> HttpWire.request(m, path, null, null));
            }
            case HOSTILE -> {
                int n = r.nextInt(16, 129);
                int stops = r.nextInt(1, 17);
                int stopBytes = r.nextInt(10_000, 100_000);
                yield bigPost(category, COMPLETIONS, "n " + n + ", " + stops + " stop strings of " + stopBytes + " bytes",
                        ACCEPT_OR_REJECT, () -> "{\"prompt\":\"Hello\",\"n\":" + n + ",\"max_tokens\":2,\"stop\":"
                                + Bodies.repeatArray(Bodies.bigString(stopBytes), stops) + "}");
            }
            case RAW_SOCKET -> {
                if (r.nextBoolean()) {
                    String junk = randomAscii(r, 1 + r.nextInt(40), "\u0001\u0002\u0003\u0004\u0005\u0006\u0007\u0008\u000b\u000e\u007f");
                    yield draft(category, "raw: control-character request line (" + junk.length() + " bytes)", UNREADABLE,
                            FuzzCase.Send.NORMAL, () -> HttpWire.raw(junk + "\r\n\r\n"), false);
                }
                String length = randomAscii(r, 1 + r.nextInt(12), "xyz-+.,;abc ");
                String text = VALID_HEAD + "Content-Length: " + length + "\r\n\r\n" + VALID_BODY;
                yield draft(category, "raw: Content-Length '" + length + "'", REJECT, FuzzCase.Send.NORMAL,
                        () -> HttpWire.raw(text), false);
            }
        };
    }

    // ---- helpers ---------------------------------------------------------------------------

    /** The first of every list, then the second of every list...: a short run still reaches every field. */
    static <T> List<T> interleave(List<List<T>> lists) {
        List<T> out = new ArrayList<>();
        int longest = lists.stream().mapToInt(List::size).max().orElse(0);
        for (int i = 0; i < longest; i++) {
            for (List<T> list : lists) {
                if (i < list.size()) {
                    out.add(list.get(i));
                }
            }
        }
        return out;
    }

    /** One field of a chat or completions body set to a raw value; fields on both alternate endpoints by {@code i}. */
    private static Draft fieldDraft(Category category, Fields.Field field, String value, Expect expect, int i) {
        String path = !field.onCompletions() ? CHAT : !field.onChat() ? COMPLETIONS : i % 2 == 0 ? CHAT : COMPLETIONS;
        return post(category, path, field.name() + " = " + Bodies.show(value), expect, Bodies.with(path, field.name(), value));
    }

    private static Draft post(Category category, String path, String what, Expect expect, String body) {
        byte[] bytes = Bodies.utf8(body);
        return draft(category, "POST " + path + ": " + what, expect, () -> HttpWire.post(path, "application/json", bytes));
    }

    /** A body built only when sent (megabytes): not kept in the case list. */
    private static Draft bigPost(Category category, String path, String what, Expect expect, Supplier<String> body) {
        return new Draft(category, "POST " + path + ": " + what, expect, FuzzCase.Send.NORMAL,
                () -> HttpWire.post(path, "application/json", Bodies.utf8(body.get())), true);
    }

    private static Draft draft(Category category, String summary, Expect expect, Supplier<byte[]> request) {
        return draft(category, summary, expect, FuzzCase.Send.NORMAL, request, false);
    }

    private static Draft draft(Category category, String summary, Expect expect, FuzzCase.Send send,
                               Supplier<byte[]> request, boolean big) {
        return new Draft(category, summary, expect, send, request, big);
    }

    private static void raw(List<Draft> out, String what, Expect expect, FuzzCase.Send send, String text) {
        out.add(draft(Category.RAW_SOCKET, "raw: " + what, expect, send, () -> HttpWire.raw(text), text.length() > 100_000));
    }

    private static <T> T pick(SplittableRandom r, List<T> items) {
        return items.get(r.nextInt(items.size()));
    }

    private static String randomAscii(SplittableRandom r, int length, String alphabet) {
        StringBuilder s = new StringBuilder(length);
        for (int i = 0; i < length; i++) {
            s.append(alphabet.charAt(r.nextInt(alphabet.length())));
        }
        return s.toString();
    }

    static String sha256(byte[] bytes) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException(e);
        }
    }
}
