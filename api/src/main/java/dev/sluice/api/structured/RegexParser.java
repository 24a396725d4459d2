package dev.sluice.api.structured;

import java.util.ArrayList;
import java.util.List;

/**
 * Reads a regular expression's structure into a {@link Regex} tree: top-level alternatives with
 * their anchors, groups, alternation, sequences and quantifiers. What a single atom stands for
 * (a class, an escape, {@code .}) is {@link RegexCharClasses}'.
 */
final class RegexParser {

    private final RegexCursor in;
    private final int[] cps;
    private final RegexCharClasses classes;
    private int depth;

    RegexParser(RegexCursor in) {
        this.in = in;
        this.cps = in.cps;
        this.classes = new RegexCharClasses(in);
    }

    /** The whole regex: its top-level alternatives. */
    List<Regex.Branch> branches() {
        List<Regex.Branch> branches = new ArrayList<>();
        do {
            boolean start = in.eat('^');
            Regex.Node node = sequence();
            boolean end = in.eat('$');
            if (in.pos < cps.length && cps[in.pos] != '|') {
                if (cps[in.pos] == ')') {
                    throw in.invalid("an unbalanced ')'");
                }
                throw in.unsupported("anchors other than at the start or end");
            }
            branches.add(new Regex.Branch(node, start, end));
        } while (in.eat('|'));
        return branches;
    }

    private Regex.Node alternation() {
        List<Regex.Node> options = new ArrayList<>();
        options.add(sequence());
        while (in.eat('|')) {
            options.add(sequence());
        }
        return options.size() == 1 ? options.getFirst() : new Regex.Alt(options);
    }

    private Regex.Node sequence() {
        List<Regex.Node> items = new ArrayList<>();
        while (in.pos < cps.length) {
            int pos = in.pos;
            int c = cps[pos];
            if (c == '|' || c == ')' || c == '$' && (pos + 1 == cps.length || cps[pos + 1] == '|' || cps[pos + 1] == ')')) {
                if (c == '$' && depth > 0) {
                    throw in.unsupported("'$' inside a group");
                }
                break;
            }
            items.add(quantified(atom()));
        }
        return items.size() == 1 ? items.getFirst() : new Regex.Seq(items);
    }

    private Regex.Node quantified(Regex.Node atom) {
        while (in.pos < cps.length) {
            int c = cps[in.pos];
            int min;
            int max;
            if (c == '*' || c == '+' || c == '?') {
                in.pos++;
                min = c == '+' ? 1 : 0;
                max = c == '?' ? 1 : -1;
            } else if (c == '{' && countsFollow()) {
                in.pos++;
                min = number();
                max = min;
                if (in.eat(',')) {
                    max = in.pos < cps.length && cps[in.pos] == '}' ? -1 : number();
                }
                in.expect('}');
                if (max >= 0 && max < min) {
                    throw in.outOfOrder(min, max);
                }
            } else {
                return atom;
            }
            in.eat('?'); // lazy: the same language
            int pos = in.pos;
            if (pos < cps.length && (cps[pos] == '*' || cps[pos] == '+' || cps[pos] == '?'
                    || cps[pos] == '{' && countsFollow())) {
                throw in.invalid("nothing to repeat");
            }
            atom = new Regex.Repeat(atom, min, max);
        }
        return atom;
    }

    /** Whether the {@code '{'} at the position opens counts ({@code {n}}, {@code {n,}}, {@code {n,m}}): else it is a literal. */
    private boolean countsFollow() {
        int i = in.pos + 1;
        int digits = 0;
        while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') {
            i++;
            digits++;
        }
        if (digits == 0) {
            return false;
        }
        if (i < cps.length && cps[i] == ',') {
            i++;
            while (i < cps.length && cps[i] >= '0' && cps[i] <= '9') {
                i++;
            }
        }
        return i < cps.length && cps[i] == '}';
    }

    private int number() {
        long value = 0;
        int start = in.pos;
        while (in.pos < cps.length && cps[in.pos] >= '0' && cps[in.pos] <= '9') {
            value = Math.min(value * 10 + (cps[in.pos++] - '0'), Integer.MAX_VALUE);
        }
        if (in.pos == start) {
            throw in.invalid("a quantifier without a number");
        }
        return (int) value;
    }

    private Regex.Node atom() {
        int c = cps[in.pos++];
        switch (c) {
            case '(' -> {
                if (in.eat('?')) {
                    if (in.eat(':')) {
                        // a non-capturing group
                    } else if (in.pos < cps.length && cps[in.pos] == '<' && in.pos + 1 < cps.length
                            && cps[in.pos + 1] != '=' && cps[in.pos + 1] != '!') {
                        while (in.pos < cps.length && cps[in.pos] != '>') {
                            in.pos++;
                        }
                        in.expect('>');
                    } else {
                        throw in.unsupported("lookaround or inline flags '(?'");
                    }
                }
                if (++depth > 64) {
                    throw in.unsupported("groups nested deeper than 64");
                }
                Regex.Node inner = alternation();
                depth--;
                in.expect(')');
                return inner;
            }
            case '[' -> {
                return classes.charClass();
            }
            case '.' -> {
                return new Regex.Chars(classes.dot());
            }
            case '\\' -> {
                return new Regex.Chars(classes.escape(false));
            }
            case '*', '+', '?' -> throw in.invalid("nothing to repeat before '" + Character.toString(c) + "'");
            case '^' -> throw in.unsupported("'^' other than at the start");
            case '$' -> throw in.unsupported("'$' other than at the end");
            case ')' -> throw in.invalid("unbalanced ')'");
            default -> {
                return new Regex.Chars(new int[]{c, c});
            }
        }
    }
}
