package dev.sluice.api.tools;

/**
 * What is known so far of one call object, {@code {"name": "f", "arguments": {…}}}, in text that
 * may still be growing. The arguments may also be called {@code parameters} (Llama 3), and come
 * as an object or as a string of JSON; other keys ({@code id}, {@code type}) are skipped.
 *
 * @param end        the index after the object's {@code }}, or {@link JsonScan#INCOMPLETE} /
 *                   {@link JsonScan#INVALID}; for a committed call ({@link #committed}) whose
 *                   text stops being JSON, the index where it did: the call ends there
 * @param name       the function's name once its string is complete, else null
 * @param argsStart  where the arguments value starts, or -1 before it does
 * @param argsEnd    the index after the arguments value, or -1 while it is incomplete
 * @param argsString whether the arguments value is a string (its JSON is the decoded text)
 */
record CallScan(int end, String name, int argsStart, int argsEnd, boolean argsString) {

    /** Scans the object that starts at {@code start} (its {@code {}). */
    static CallScan scan(CharSequence s, int start) {
        String name = null;
        int argsStart = -1;
        int argsEnd = -1;
        int i = JsonScan.skipWhitespace(s, start + 1);
        if (i < s.length() && s.charAt(i) == '}') {
            return new CallScan(i + 1, null, -1, -1, false);
        }
        while (true) {
            if (i >= s.length()) {
                return new CallScan(JsonScan.INCOMPLETE, name, argsStart, argsEnd, isString(s, argsStart));
            }
            if (s.charAt(i) != '"') {
                return invalid(i, name, argsStart, argsEnd, s);
            }
            int keyEnd = JsonScan.string(s, i);
            if (keyEnd < 0) {
                return keyEnd == JsonScan.INCOMPLETE ? new CallScan(JsonScan.INCOMPLETE, name, argsStart, argsEnd, isString(s, argsStart))
                        : invalid(JsonScan.invalidAt(keyEnd), name, argsStart, argsEnd, s);
            }
            String key = JsonScan.decode(s, i, keyEnd);
            i = JsonScan.skipWhitespace(s, keyEnd);
            if (i >= s.length()) {
                return new CallScan(JsonScan.INCOMPLETE, name, argsStart, argsEnd, isString(s, argsStart));
            }
            if (s.charAt(i) != ':') {
                return invalid(i, name, argsStart, argsEnd, s);
            }
            i = JsonScan.skipWhitespace(s, i + 1);
            boolean isArgs = (key.equals("arguments") || key.equals("parameters")) && argsStart < 0;
            if (isArgs && i < s.length()) {
                argsStart = i;
            }
            int valueEnd = JsonScan.value(s, i);
            if (JsonScan.isInvalid(valueEnd)) {
                return invalid(JsonScan.invalidAt(valueEnd), name, argsStart, argsEnd, s);
            }
            if (valueEnd == JsonScan.INCOMPLETE) {
                return new CallScan(JsonScan.INCOMPLETE, name, argsStart, argsEnd, isString(s, argsStart));
            }
            if (isArgs) {
                argsEnd = valueEnd;
            } else if (key.equals("name") && name == null) {
                if (s.charAt(i) != '"') {
                    return invalid(i, null, argsStart, argsEnd, s);
                }
                name = JsonScan.decode(s, i, valueEnd);
            }
            i = JsonScan.skipWhitespace(s, valueEnd);
            if (i >= s.length()) {
                return new CallScan(JsonScan.INCOMPLETE, name, argsStart, argsEnd, isString(s, argsStart));
            }
            if (s.charAt(i) == '}') {
                return new CallScan(i + 1, name, argsStart, argsEnd, isString(s, argsStart));
            }
            if (s.charAt(i) != ',') {
                return invalid(i, name, argsStart, argsEnd, s);
            }
            i = JsonScan.skipWhitespace(s, i + 1);
        }
    }

    private static CallScan invalid(int at, String name, int argsStart, int argsEnd, CharSequence s) {
        if (name != null && argsStart >= 0) {
            // Announced already (a stream may have sent it): the call ends where the text stops being
            // JSON, its arguments too if they were not complete. Decided at that character, so a
            // stream and a whole body agree.
            return new CallScan(at, name, argsStart, argsEnd >= 0 ? argsEnd : at, isString(s, argsStart));
        }
        return new CallScan(JsonScan.INVALID, name, argsStart, argsEnd, isString(s, argsStart));
    }

    private static boolean isString(CharSequence s, int argsStart) {
        return argsStart >= 0 && argsStart < s.length() && s.charAt(argsStart) == '"';
    }

    boolean complete() {
        return end >= 0;
    }

    boolean invalid() {
        return JsonScan.isInvalid(end);
    }

    /** Enough is known to announce the call: its name, and its arguments have begun (or it has none). */
    boolean committed() {
        return name != null && (argsStart >= 0 || complete());
    }
}
