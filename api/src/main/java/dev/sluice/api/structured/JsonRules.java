package dev.sluice.api.structured;

/**
 * The GBNF rules for JSON's own syntax, defined once per grammar on first use. JSON is generated
 * as the RFC allows it but with bounded freedom: white space is nothing, one space, or a newline
 * and up to 20 spaces or tabs (enough to pretty-print, never an endless run); numbers have at
 * most 16 integral and 16 fractional digits and a two-digit exponent; a backslash-u escape is never
 * a surrogate (a lone one is not text, and a pair would count as two characters where a schema's
 * lengths count one).
 */
final class JsonRules {

    /**
     * A character of a string that needs no escape, by a positive class of Unicode scalar values: a
     * negated class would also match what llama.cpp decodes from invalid UTF-8 (surrogates, values
     * past U+10FFFF), which a client's decoder turns into replacement characters.
     */
    static final String PLAIN_CHAR = "[\\x20-\\x21\\x23-\\x5B\\x5D-\\uD7FF\\uE000-\\U0010FFFF]";

    /** The schema {@code true}: any value. */
    static final com.fasterxml.jackson.databind.JsonNode TRUE = com.fasterxml.jackson.databind.node.BooleanNode.TRUE;

    private JsonRules() {
    }

    static String ws(Gbnf g) {
        return g.shared("ws", "| \" \" | \"\\n\" [ \\t]{0,20}");
    }

    /** One character of a JSON string's content, raw or escaped. */
    static String character(Gbnf g) {
        return g.shared("char", PLAIN_CHAR + " | \"\\\\\" ( [\"\\\\/bfnrt] | \"u\" ( [0-9a-cA-CeEfF] [0-9a-fA-F]{3}"
                + " | [dD] [0-7] [0-9a-fA-F]{2} ) )");
    }

    static String string(Gbnf g) {
        return g.shared("string", "\"\\\"\" " + character(g) + "* \"\\\"\"");
    }

    static String integer(Gbnf g) {
        return g.shared("integer", "\"-\"? ( \"0\" | [1-9] [0-9]{0,15} )");
    }

    static String number(Gbnf g) {
        String fraction = g.shared("fraction", "\".\" [0-9]{1,16}");
        String exponent = g.shared("exponent", "[eE] [-+]? [0-9]{1,2}");
        return g.shared("number", integer(g) + " " + fraction + "? " + exponent + "?");
    }

    static String bool(Gbnf g) {
        return g.shared("boolean", "\"true\" | \"false\"");
    }

    static String nul(Gbnf g) {
        return g.shared("null", "\"null\"");
    }

    /** Any JSON value. */
    static String value(Gbnf g) {
        if (!g.has("value")) {
            String ws = ws(g);
            String value = g.start() + "-value";
            String member = g.shared("member", string(g) + " " + ws + " \":\" " + ws + " " + value + " " + ws);
            g.shared("object", "\"{\" " + ws + " ( " + member + " ( \",\" " + ws + " " + member + " )* )? \"}\"");
            String element = g.shared("element", value + " " + ws);
            g.shared("array", "\"[\" " + ws + " ( " + element + " ( \",\" " + ws + " " + element + " )* )? \"]\"");
            g.shared("value", g.start() + "-object | " + g.start() + "-array | " + string(g) + " | " + number(g)
                    + " | " + bool(g) + " | " + nul(g));
        }
        return g.start() + "-value";
    }

    /** Any JSON object. */
    static String object(Gbnf g) {
        value(g);
        return g.start() + "-object";
    }

    /** Any JSON array. */
    static String array(Gbnf g) {
        value(g);
        return g.start() + "-array";
    }
}
