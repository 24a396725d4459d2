package dev.sluice.engine.chat;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** The Jinja2 and Python behaviour chat templates rely on, one construct at a time. */
class JinjaTemplateTest {

    private static final Map<String, Object> VARIABLES = Map.of(
            "messages", List.of(message("system", "sys"), message("user", " hi ")),
            "s", "  Hello World  ",
            "n", 2);

    /** Booleans print as Jinjava prints them ({@code true}); Jinja2 would print {@code True}. No template seen prints one. */
    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiterString = " => ", quoteCharacter = '`', textBlock = """
            {{ s.strip() }}                                  => Hello World
            {{ 'xxhixx'.strip('x') }}                        => hi
            [{{ s.lstrip() }}]                               => [Hello World  ]
            [{{ s.rstrip() }}]                               => [  Hello World]
            {{ '\\n\\nx\\n'.strip('\\n') }}                  => x
            {{ s.split() }}                                  => ['Hello', 'World']
            {{ 'a,b,,c'.split(',') }}                        => ['a', 'b', '', 'c']
            {{ 'a b  c'.split(None, 1) }}                    => ['a', 'b  c']
            {{ 'a</think>b</think>c'.split('</think>')[-1] }} => c
            {{ 'a,b,c'.split(',', 1) }}                      => ['a', 'b,c']
            {{ 'ab'.startswith('a') ~ 'ab'.startswith(['x', 'a']) ~ 'ab'.endswith('a') }} => truetruefalse
            {{ 'aXbX'.replace('X', '-') }} {{ 'aXbX'.replace('X', '-', 1) }} => a-b- a-bX
            {{ 'hello wORLD'.title() }} {{ 'hELLO'.capitalize() }} {{ 'Ab'.upper() }}{{ 'Ab'.lower() }} => Hello World Hello ABab
            {{ '{} and {0} and {name}'.format(1, name='x') }} => 1 and 1 and x
            {{ ', '.join(['a', 'b']) }} {{ 'banana'.count('an') }} {{ 'banana'.find('n') }} => a, b 2 2
            {{ 'abc'[0] }}{{ 'abc'[-1] }}{{ 'abcdef'[1:3] }}  => acbc
            {{ messages[0].get('role') }} {{ messages[0].get('missing', 'default') }} {{ messages[0].get('missing') is none }} => system default true
            {% for k, v in messages[0].items() %}{{ k }}={{ v }};{% endfor %} => role=system;content=sys;
            {% for k, v in messages[0]|items %}{{ k }}={{ v }};{% endfor %} => role=system;content=sys;
            {{ messages[1].keys()|list }} {{ messages[1].values()|list }} => ['role', 'content'] ['user', ' hi ']
            {{ messages[1:]|length }} {{ messages[::-1][0].role }} {% for m in messages[::-1] %}{{ m.role }}{% endfor %} {{ 'abc'[::-1] }} => 1 user usersystem cba
            {{ not n == 3 }} {{ not 'x' in ['x'] }} {{ not undefined_thing is defined }} {{ n == 2 and not n == 3 }} => true false true true
            {% set ns = namespace(last=messages|length - 1, found=false) %}{{ ns.last }} {{ ns.found }} => 1 false
            {{ n+1 }} {{ [1, 2, 3][:n+1] }} {{ n*+1 }}      => 3 [1, 2, 3] 2
            {{ messages[1].content|trim + '|' }}            => hi|
            {% if undefined_thing %}yes{% else %}no{% endif %}[{{ undefined_thing }}] => no[]
            {% for i in range(5) %}{% if i == 1 %}{% continue %}{% endif %}{% if i == 3 %}{% break %}{% endif %}{{ i }}{% endfor %} => 02
            {% generation %}{% set x = 1 %}in{% endgeneration %}[{{ x }}] => in[]
            {% filter upper|trim %}  shout  {% endfilter %} => SHOUT
            """)
    void rendersPythonAndJinja2Semantics(String template, String expected) {
        assertEquals(expected, render(template));
    }

    @Test
    void tojsonWritesWhatPythonsJsonDumpsWrites() {
        assertEquals("{\"a\": 1, \"b\": [true, null, \"é\\\"\\n\\u0001\"], \"c\": 1.5, \"d\": {}}",
                render("{{ {'a': 1, 'b': [true, none, 'é\"\\n\u0001'], 'c': 1.5, 'd': { } }|tojson }}"));
        assertEquals("[\n  1,\n  {\n    \"x\": []\n  }\n]", render("{{ [1, {'x': []}]|tojson(indent=2) }}"));
        assertEquals("{\"a\":1,\"b\":2}", render("{{ {'b': 2, 'a': 1}|tojson(separators=[',', ':'], sort_keys=true) }}"));
        assertEquals("\"\\u00e9\\ud83d\\ude42\"", render("{{ 'é🙂'|tojson(ensure_ascii=true) }}"));
        assertEquals("1e+20 0.0001 1e-05 10000000.0 -0.0 \"s\"",
                render("{{ 1e20|tojson }} {{ 0.0001|tojson }} {{ 0.00001|tojson }} {{ 1e7|tojson }} {{ -0.0|tojson }} {{ 's'|tojson }}"));
    }

    @Test
    void raiseExceptionRejectsWithTheTemplatesMessage() {
        ChatTemplateException e = assertThrows(ChatTemplateException.class,
                () -> render("before{% if messages[0].role == 'system' %}{{ raise_exception('System role not supported') }}{% endif %}"));
        assertEquals(ChatTemplateException.Reason.REJECTED, e.reason());
        assertEquals("System role not supported", e.getMessage());
    }

    @Test
    void strftimeNowReadsTheClock() {
        Clock clock = Clock.fixed(Instant.parse("2025-03-07T14:30:00Z"), ZoneOffset.UTC);
        JinjaTemplate template = new JinjaTemplate(
                "{% if strftime_now is defined %}{{ strftime_now('%d %b %Y, %H:%M') }} {{ strftime_now('plain') }}{% endif %}",
                ChatTemplate.Limits.DEFAULT, clock);
        assertEquals("07 Mar 2025, 14:30 plain", template.render(VARIABLES));
    }

    @Test
    void stripsBlockIndentsOnlyAtLineStartsLikeJinja2() {
        // Expected strings from Jinja2 3.1 with trim_blocks and lstrip_blocks.
        assertEquals("2 user system c", render("{{ n }} {% for m in messages[::-1] %}{{ m.role }} {% endfor %}{{ 'c' }}"));
        assertEquals("a\nx  \n  b y", render("a\n   {% if true %}x{% endif %}  \n  b {% if true %}y{% endif %}"));
        assertEquals("z", render("  {# c #}\nz"));
        assertEquals("  k", render("  {%+ if true %}k{% endif %}"));
        assertEquals("  {% if %}{{ x }}!", render("\t{% raw %}  {% if %}{{ x }}{% endraw %}!"));
        assertEquals("q\n  r\ns", render("q\n\t {% if true %}\n  r\n {% endif %}\ns"));
        assertEquals("%} t", render("{{ \"%}\" }} {% if true %}t{% endif %}"));
    }

    @Test
    void dropsOneTrailingNewlineOfTheSourceLikeJinja2() {
        assertEquals("x", render("x\n"));
        assertEquals("x\n", render("x\n\n"));
        // A newline the template prints at the end is output, not source: it stays.
        assertEquals("assistant\n", render("{{ 'assistant\\n' }}"));
    }

    @Test
    void stringsAndCollectionsOnlyAnswerPythonMethods() {
        // Jinjava would call any public Java method: 'x'.repeat(2147483647) would exhaust the heap.
        assertUnsupported("'str' object has no attribute 'repeat'", "{{ s.repeat(3) }}");
        assertUnsupported("'str' object has no attribute 'getClass'", "{{ s.getClass() }}");
        assertUnsupported("'list' object has no attribute 'append'", "{{ messages.append(1) }}");
        assertUnsupported("'dict' object has no attribute 'put'", "{{ messages[0].put('role', 'x') }}");
        assertEquals("[]", render("[{{ s.bytes }}{{ s.class }}]"));
    }

    @Test
    void cannotReadOtherTemplatesOrFiles() {
        for (String tag : List.of("{% include '/etc/passwd' %}", "{% import 'x.jinja' as x %}",
                "{% from 'x.jinja' import y %}", "{% extends 'base.jinja' %}")) {
            ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(tag), tag);
            assertEquals(ChatTemplateException.Reason.UNSUPPORTED, e.reason(), tag);
        }
    }

    @Test
    void stopsARenderThatRunsTooLong() {
        JinjaTemplate template = new JinjaTemplate(
                "{% for i in range(100000) %}{% for j in range(100000) %}{{ '' }}{% endfor %}{% endfor %}",
                new ChatTemplate.Limits(Duration.ofMillis(200), 1 << 20, 100_000, 32), Clock.systemUTC());
        long start = System.nanoTime();
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(VARIABLES));
        assertEquals(ChatTemplateException.Reason.LIMIT, e.reason());
        assertTrue(System.nanoTime() - start < Duration.ofSeconds(5).toNanos(), "took too long to stop");
    }

    @Test
    void stopsARenderThatOutputsTooMuch() {
        JinjaTemplate template = new JinjaTemplate("{% for i in range(1000) %}0123456789{% endfor %}",
                new ChatTemplate.Limits(Duration.ofSeconds(2), 5_000, 100_000, 32), Clock.systemUTC());
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> template.render(VARIABLES));
        assertEquals(ChatTemplateException.Reason.LIMIT, e.reason());
    }

    @Test
    void reportsWhatJinjavaCannotParse() {
        // A chained comparison: valid Jinja2, beyond Jinjava's parser.
        assertUnsupported("Jinjava cannot render this chat template", "{% if 0 < n < 3 %}x{% endif %}");
    }

    private static void assertUnsupported(String message, String template) {
        ChatTemplateException e = assertThrows(ChatTemplateException.class, () -> render(template));
        assertEquals(ChatTemplateException.Reason.UNSUPPORTED, e.reason());
        assertTrue(e.getMessage().contains(message), e.getMessage());
    }

    private static String render(String template) {
        return new JinjaTemplate(template, ChatTemplate.Limits.DEFAULT, Clock.systemUTC()).render(VARIABLES);
    }

    private static Map<String, Object> message(String role, String content) {
        Map<String, Object> message = new LinkedHashMap<>();
        message.put("role", role);
        message.put("content", content);
        return message;
    }
}
