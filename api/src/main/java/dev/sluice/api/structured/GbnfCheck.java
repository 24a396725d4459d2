package dev.sluice.api.structured;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Checks a client's raw GBNF grammar on the request thread the way llama.cpp's parser will on the
 * engine thread (syntax, undefined rules, a start rule, left recursion, repetition counts), so a
 * bad grammar is the client's 400 rather than a failed request on the engine; and bounds what the
 * parser would build from it. Token references ({@code <...>}) depend on the model's vocabulary
 * and are refused.
 */
final class GbnfCheck {

    /** A symbol in a sequence: a terminal (consumes a character) or a reference to a rule. */
    private record Sym(String ref) {
        static final Sym TERMINAL = new Sym(null);
    }

    private final String src;
    private int pos;
    private final Map<String, List<List<Sym>>> rules = new LinkedHashMap<>();
    private final Set<String> referenced = new HashSet<>();
    private static final int MAX_NESTING = 64;
    private static final int MAX_RULES = 4096;
    private int depth;
    private int generated;
    private long expansion;

    private GbnfCheck(String src) {
        this.src = src;
    }

    /** @throws IllegalArgumentException saying what is wrong and where */
    static void check(String grammar, String root) {
        GbnfCheck c = new GbnfCheck(grammar);
        c.parse();
        if (c.rules.size() > MAX_RULES) {
            throw new IllegalArgumentException("the grammar has more than " + MAX_RULES + " rules and groups");
        }
        if (!c.rules.containsKey(root)) {
            throw new IllegalArgumentException("the grammar has no rule '" + root + "'");
        }
        for (String ref : c.referenced) {
            if (!c.rules.containsKey(ref)) {
                throw new IllegalArgumentException("the grammar uses the undefined rule '" + ref + "'");
            }
        }
        c.checkLeftRecursion();
    }

    private void parse() {
        space(true);
        while (pos < src.length()) {
            String name = name();
            space(false);
            if (!src.startsWith("::=", pos)) {
                throw error("expecting ::=");
            }
            pos += 3;
            space(true);
            rules.computeIfAbsent(name, n -> new ArrayList<>()).clear();
            rules.get(name).addAll(alternates(false));
            if (pos < src.length() && src.charAt(pos) == '\r') {
                pos += pos + 1 < src.length() && src.charAt(pos + 1) == '\n' ? 2 : 1;
            } else if (pos < src.length() && src.charAt(pos) == '\n') {
                pos++;
            } else if (pos < src.length()) {
                throw error("expecting newline or end");
            }
            space(true);
        }
    }

    private List<List<Sym>> alternates(boolean nested) {
        List<List<Sym>> alts = new ArrayList<>();
        alts.add(sequence(nested));
        while (pos < src.length() && src.charAt(pos) == '|') {
            pos++;
            space(true);
            alts.add(sequence(nested));
        }
        return alts;
    }

    private List<Sym> sequence(boolean nested) {
        List<Sym> seq = new ArrayList<>();
        long prevRules = 1;
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == '"') {
                pos++;
                boolean empty = true;
                while (true) {
                    if (pos >= src.length()) {
                        throw error("unexpected end of input");
                    }
                    if (src.charAt(pos) == '"') {
                        break;
                    }
                    character();
                    empty = false;
                }
                pos++;
                if (!empty) {
                    seq.add(Sym.TERMINAL);
                }
                prevRules = 1;
            } else if (c == '[') {
                pos++;
                if (pos < src.length() && src.charAt(pos) == '^') {
                    pos++;
                }
                while (true) {
                    if (pos >= src.length()) {
                        throw error("unexpected end of input");
                    }
                    if (src.charAt(pos) == ']') {
                        break;
                    }
                    character();
                    if (pos + 1 < src.length() && src.charAt(pos) == '-' && src.charAt(pos + 1) != ']') {
                        pos++;
                        character();
                    }
                }
                pos++;
                seq.add(Sym.TERMINAL);
                prevRules = 1;
            } else if (c == '<' || c == '!') {
                throw error("token references (<...>) are not supported");
            } else if (isWordChar(c)) {
                String ref = name();
                referenced.add(ref);
                seq.add(new Sym(ref));
                prevRules = 1;
            } else if (c == '(') {
                if (++depth > MAX_NESTING) {
                    throw error("groups nested deeper than " + MAX_NESTING);
                }
                pos++;
                space(true);
                int before = generated;
                String sub = "(group " + (generated++) + ")";
                rules.put(sub, alternates(true));
                if (pos >= src.length() || src.charAt(pos) != ')') {
                    throw error("expecting ')'");
                }
                pos++;
                depth--;
                seq.add(new Sym(sub));
                prevRules = Math.max(1, generated - before);
            } else if (c == '.') {
                pos++;
                seq.add(Sym.TERMINAL);
                prevRules = 1;
            } else if (c == '*' || c == '+' || c == '?' || c == '{') {
                pos++;
                long min;
                long max;
                if (c == '{') {
                    space(nested);
                    min = integer();
                    space(nested);
                    max = min;
                    if (pos < src.length() && src.charAt(pos) == ',') {
                        pos++;
                        space(nested);
                        max = pos < src.length() && Character.isDigit(src.charAt(pos)) ? integer() : -1;
                        space(nested);
                    }
                    if (pos >= src.length() || src.charAt(pos) != '}') {
                        throw error("expecting '}'");
                    }
                    pos++;
                    if (min > Gbnf.MAX_COUNT || max > Gbnf.MAX_COUNT) {
                        throw error("a repetition count above " + Gbnf.MAX_COUNT);
                    }
                } else {
                    min = c == '+' ? 1 : 0;
                    max = c == '?' ? 1 : -1;
                }
                if (seq.isEmpty()) {
                    throw error("expecting an item before a repetition");
                }
                long total = max > 0 ? max : Math.max(1, min);
                if (prevRules * total > Gbnf.MAX_COUNT) {
                    throw error("nested repetitions above " + Gbnf.MAX_COUNT + " rules");
                }
                prevRules *= total;
                expansion += total;
                if (expansion > Gbnf.MAX_EXPANSION) {
                    throw error("more than " + Gbnf.MAX_EXPANSION + " repetitions in all");
                }
                Sym item = seq.removeLast();
                generated += (int) (max < 0 ? 1 : Math.max(0, max - min));
                String rest = "(repeat " + (generated++) + ")";
                List<List<Sym>> optional = new ArrayList<>();
                optional.add(List.of(item));
                optional.add(List.of());
                rules.put(rest, optional); // nullable: what follows the mandatory copies
                if (min > 0) {
                    seq.add(item);
                }
                seq.add(new Sym(rest));
            } else {
                break;
            }
            space(nested);
        }
        return seq;
    }

    private void character() {
        if (src.charAt(pos) == '\\') {
            if (pos + 1 >= src.length()) {
                throw error("unexpected end of input");
            }
            char e = src.charAt(pos + 1);
            pos += 2;
            switch (e) {
                case 'x' -> hex(2);
                case 'u' -> hex(4);
                case 'U' -> hex(8);
                case 't', 'r', 'n', '\\', '"', '[', ']', '-' -> {
                }
                default -> throw error("unknown escape '\\" + e + "'");
            }
        } else {
            pos += Character.charCount(src.codePointAt(pos));
        }
    }

    private void hex(int n) {
        for (int i = 0; i < n; i++) {
            if (pos >= src.length() || Character.digit(src.charAt(pos), 16) < 0) {
                throw error("expecting " + n + " hex digits");
            }
            pos++;
        }
    }

    private long integer() {
        int start = pos;
        while (pos < src.length() && Character.isDigit(src.charAt(pos)) && pos - start < 9) {
            pos++;
        }
        if (pos == start) {
            throw error("expecting an integer");
        }
        return Long.parseLong(src.substring(start, pos));
    }

    private String name() {
        int start = pos;
        while (pos < src.length() && isWordChar(src.charAt(pos))) {
            pos++;
        }
        if (pos == start) {
            throw error("expecting a rule name");
        }
        return src.substring(start, pos);
    }

    private static boolean isWordChar(char c) {
        return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-';
    }

    /** Blanks and comments; newlines too inside a rule's nested groups and between rules. */
    private void space(boolean newlines) {
        while (pos < src.length()) {
            char c = src.charAt(pos);
            if (c == ' ' || c == '\t' || newlines && (c == '\r' || c == '\n')) {
                pos++;
            } else if (c == '#') {
                while (pos < src.length() && src.charAt(pos) != '\r' && src.charAt(pos) != '\n') {
                    pos++;
                }
            } else {
                return;
            }
        }
    }

    /** A rule that can reach itself without consuming a character loops forever in llama.cpp. */
    private void checkLeftRecursion() {
        Map<String, Boolean> nullable = new HashMap<>();
        boolean changed = true;
        while (changed) {
            changed = false;
            for (Map.Entry<String, List<List<Sym>>> rule : rules.entrySet()) {
                if (!nullable.getOrDefault(rule.getKey(), false)
                        && rule.getValue().stream().anyMatch(seq -> seq.stream().allMatch(s -> s.ref() != null
                        && nullable.getOrDefault(s.ref(), false)))) {
                    nullable.put(rule.getKey(), true);
                    changed = true;
                }
            }
        }
        Map<String, Set<String>> left = new HashMap<>();
        for (Map.Entry<String, List<List<Sym>>> rule : rules.entrySet()) {
            Set<String> firsts = new HashSet<>();
            for (List<Sym> seq : rule.getValue()) {
                for (Sym s : seq) {
                    if (s.ref() == null) {
                        break;
                    }
                    firsts.add(s.ref());
                    if (!nullable.getOrDefault(s.ref(), false)) {
                        break;
                    }
                }
            }
            left.put(rule.getKey(), firsts);
        }
        Map<String, Integer> state = new HashMap<>(); // 1 in progress, 2 done
        for (String rule : rules.keySet()) {
            visit(rule, left, state);
        }
    }

    private void visit(String rule, Map<String, Set<String>> left, Map<String, Integer> state) {
        Integer s = state.get(rule);
        if (s != null) {
            if (s == 1) {
                throw new IllegalArgumentException("the grammar is left-recursive (rule '" + rule.replaceAll("^\\(.*", "(a group)")
                        + "' can reach itself before any character)");
            }
            return;
        }
        state.put(rule, 1);
        for (String next : left.getOrDefault(rule, Set.of())) {
            visit(next, left, state);
        }
        state.put(rule, 2);
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("GBNF syntax error: " + what + " at offset " + pos);
    }
}
