package dev.sluice.engine.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.LegacyOverrides;
import com.hubspot.jinjava.el.JinjavaInterpreterResolver;
import com.hubspot.jinjava.el.JinjavaProcessors;
import com.hubspot.jinjava.interpret.Context;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import com.hubspot.jinjava.interpret.RenderResult;
import com.hubspot.jinjava.interpret.TemplateError;
import com.hubspot.jinjava.lib.filter.Filter;
import com.hubspot.jinjava.lib.fn.ELFunctionDefinition;
import com.hubspot.jinjava.lib.tag.Tag;
import com.hubspot.jinjava.objects.date.StrftimeFormatter;
import com.hubspot.jinjava.tree.Node;
import com.hubspot.jinjava.tree.TagNode;
import jinjava.javax.el.CompositeELResolver;
import jinjava.javax.el.ELException;
import jinjava.javax.el.ExpressionFactory;

import java.io.IOException;
import java.io.Serial;
import java.time.Clock;
import java.time.ZonedDateTime;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.stream.Collectors;

/**
 * A Hugging Face chat template rendered by Jinjava the way {@code transformers} renders it with
 * Jinja2: {@code trim_blocks} and {@code lstrip_blocks} on ({@link TemplateSource}),
 * {@code raise_exception}, {@code strftime_now}, a Python-compatible {@code tojson}
 * ({@link PythonJson}), Python string and dict methods ({@link PythonMethods}), {@code loop.previtem}
 * and {@code loop.nextitem} ({@link LoopNeighbours}), Python's operator
 * precedence ({@link PythonExpressions}), and the {@code generation} and {@code filter} block tags.
 *
 * <p>Sandboxed: templates cannot include or import other templates or read any resource, call
 * arbitrary Java methods ({@link PythonMethods}), or run unbounded: each render has a deadline
 * checked before every node, and bounds on output, string, list and map sizes.
 *
 * <p>Thread-safe: renders share nothing but the parsed-expression cache.
 */
final class JinjaTemplate {

    /** Per-render state that Jinjava's static callbacks ({@code raise_exception}, the deadline check) reach. */
    private static final ScopedValue<RenderState> STATE = ScopedValue.newInstance();

    private final String source;
    private final ChatTemplate.Limits limits;
    private final Clock clock;
    private final Jinjava jinjava;

    JinjaTemplate(String source, ChatTemplate.Limits limits, Clock clock) {
        this.source = TemplateSource.adapt(source);
        this.limits = limits;
        this.clock = clock;
        this.jinjava = sandboxedJinjava(limits);
    }

    /**
     * Renders with the given variables (Python-typed: strings, numbers, booleans, lists, maps).
     *
     * @throws ChatTemplateException {@code REJECTED} when the template raised an exception,
     *         {@code LIMIT} past a render limit, {@code UNSUPPORTED} when Jinjava could not render it
     */
    String render(Map<String, Object> variables) {
        Map<String, Object> bindings = LoopNeighbours.wrap(new HashMap<>(variables));
        // Hugging Face exposes these as global functions, so templates test `strftime_now is defined`.
        bindings.put("raise_exception", new PythonFunction("raise_exception"));
        bindings.put("strftime_now", new PythonFunction("strftime_now"));
        RenderState state = new RenderState(System.nanoTime() + limits.renderTimeout().toNanos(), clock);
        RenderResult result = ScopedValue.where(STATE, state).call(() -> jinjava.renderForResult(source, bindings));
        if (state.raised != null) {
            throw new ChatTemplateException(ChatTemplateException.Reason.REJECTED, state.raised);
        }
        if (state.timedOut) {
            throw new ChatTemplateException(ChatTemplateException.Reason.LIMIT,
                    "chat template did not finish rendering within " + limits.renderTimeout().toMillis() + " ms");
        }
        List<TemplateError> fatal = result.getErrors().stream()
                .filter(e -> e.getSeverity() == TemplateError.ErrorType.FATAL)
                .toList();
        if (fatal.stream().anyMatch(JinjaTemplate::isLimit)) {
            throw new ChatTemplateException(ChatTemplateException.Reason.LIMIT,
                    "chat template output exceeds the limit of " + limits.maxOutputChars() + " characters: "
                            + describe(fatal));
        }
        if (!fatal.isEmpty()) {
            throw new ChatTemplateException(ChatTemplateException.Reason.UNSUPPORTED,
                    "Jinjava cannot render this chat template: " + describe(fatal));
        }
        return result.getOutput();
    }

    private static boolean isLimit(TemplateError error) {
        return switch (error.getReason()) {
            case OUTPUT_TOO_BIG, COLLECTION_TOO_BIG, OVER_LIMIT -> true;
            default -> false;
        };
    }

    private static String describe(List<TemplateError> errors) {
        return errors.stream()
                .map(e -> e.getMessage() + (e.getLineno() > 0 ? " (line " + e.getLineno() + ")" : ""))
                .distinct()
                .limit(3)
                .collect(Collectors.joining("; "));
    }

    private static Jinjava sandboxedJinjava(ChatTemplate.Limits limits) {
        CompositeELResolver resolver = new CompositeELResolver();
        resolver.add(new PythonMethods());
        resolver.add(JinjavaInterpreterResolver.DEFAULT_RESOLVER_READ_ONLY);
        JinjavaConfig config = JinjavaConfig.newBuilder()
                .withTrimBlocks(true)
                .withLstripBlocks(false)     // TemplateSource does it as Jinja2 does
                .withKeepTrailingNewline(true) // TemplateSource drops the source's, as Jinja2 does
                .withLegacyOverrides(LegacyOverrides.newBuilder()
                        .withUseNaturalOperatorPrecedence(true)       // filters bind tighter than operators
                        .withUseTrimmingForNotesAndExpressions(true)  // {{- … -}} and {#- … -#} trim whitespace
                        .withParseWhitespaceControlStrictly(true)
                        .withEvaluateMapKeys(true)                    // {k: v} uses the variable k
                        .withIterateOverMapKeys(true)                 // for k in dict: keys, as in Python
                        .withUsePyishObjectMapper(true)
                        .withKeepNullableLoopValues(true)
                        .withHandleBackslashInQuotesOnly(true)
                        .build())
                .withElResolver(resolver)
                .withFailOnUnknownTokens(false) // undefined variables are falsy and render as ""
                .withNestedInterpretationEnabled(false)
                .withEnableRecursiveMacroCalls(true)
                .withMaxMacroRecursionDepth(limits.maxRecursionDepth())
                .withMaxRenderDepth(limits.maxRecursionDepth())
                .withMaxOutputSize(limits.maxOutputChars())
                .withMaxStringLength(limits.maxOutputChars())
                .withMaxListSize(limits.maxCollectionSize())
                .withMaxMapSize(limits.maxCollectionSize())
                .withRangeLimit(limits.maxCollectionSize())
                .withDisabled(Map.of(Context.Library.TAG, Set.of("include", "import", "from", "extends")))
                .withProcessors(JinjavaProcessors.newBuilder().withNodePreProcessor(JinjaTemplate::checkDeadline).build())
                .withLocale(Locale.ENGLISH)
                .build();
        Jinjava jinjava = new Jinjava(config) {
            @Override
            public ExpressionFactory getExpressionFactory() {
                return PythonExpressions.EXPRESSIONS;
            }
        };
        jinjava.setResourceLocator((name, encoding, interpreter) -> {
            throw new IOException("chat templates cannot load other templates (" + name + ")");
        });
        jinjava.registerFunction(new ELFunctionDefinition("", "raise_exception", JinjaTemplate.class, "raiseException", String.class));
        jinjava.registerFunction(new ELFunctionDefinition("", "strftime_now", JinjaTemplate.class, "strftimeNow", String.class));
        jinjava.registerFilter(new PythonJson.ToJsonFilter());
        jinjava.registerFilter(new ItemsFilter());
        jinjava.registerFilter(new PythonJson.StringFilter());
        jinjava.registerFilter(new PythonJson.TrimFilter());
        jinjava.registerTag(new GenerationTag());
        jinjava.registerTag(new FilterTag());
        return jinjava;
    }

    private static void checkDeadline(Node node, JinjavaInterpreter interpreter) {
        RenderState state = STATE.get();
        if (System.nanoTime() - state.deadlineNanos > 0) {
            state.timedOut = true;
            throw new IllegalStateException("chat template render deadline passed");
        }
    }

    /** {@code raise_exception(message)}: the template rejects its input; the message is for the client. */
    private static String raiseException(String message) {
        RenderState state = STATE.get();
        if (state.raised == null) {
            state.raised = message;
        }
        throw new ELException(message);
    }

    /** {@code strftime_now(format)}: the current local time in a Python strftime format. */
    private static String strftimeNow(String format) {
        ZonedDateTime now = ZonedDateTime.now(STATE.get().clock);
        // Jinjava reads a format without '%' as a Java pattern; Python prints it literally.
        return format.indexOf('%') < 0 ? format : StrftimeFormatter.format(now, format, Locale.ENGLISH);
    }

    private static final class RenderState {
        final long deadlineNanos;
        final Clock clock;
        String raised;
        boolean timedOut;

        RenderState(long deadlineNanos, Clock clock) {
            this.deadlineNanos = deadlineNanos;
            this.clock = clock;
        }
    }

    /** How a Hugging Face global function reads as a value, so that {@code is defined} holds for it. */
    private record PythonFunction(String name) {
        @Override
        public String toString() {
            return "<function " + name + ">";
        }
    }

    /** A block tag's rendered body; the tags render it in a scope of its own, as Jinja2 does. */
    private static String renderBody(TagNode tagNode, JinjavaInterpreter interpreter) {
        StringBuilder body = new StringBuilder();
        for (Node child : tagNode.getChildren()) {
            body.append(child.render(interpreter));
        }
        return body.toString();
    }

    /**
     * {@code {% generation %}…{% endgeneration %}}: Hugging Face marks the assistant's part of a
     * training example with it ({@code return_assistant_tokens_mask}); for a prompt it renders its body.
     */
    private static final class GenerationTag implements Tag {
        @Serial
        private static final long serialVersionUID = 1L;

        @Override
        public String getName() {
            return "generation";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            try (var _ = interpreter.enterScope()) {
                return renderBody(tagNode, interpreter);
            }
        }
    }

    /** {@code {% filter trim %}…{% endfilter %}}: applies filters (with arguments, chained) to the body. */
    private static final class FilterTag implements Tag {
        @Serial
        private static final long serialVersionUID = 1L;
        private static final String BODY = "__sluice_filter_body__";

        @Override
        public String getName() {
            return "filter";
        }

        @Override
        public String interpret(TagNode tagNode, JinjavaInterpreter interpreter) {
            try (var _ = interpreter.enterScope()) {
                interpreter.getContext().put(BODY, renderBody(tagNode, interpreter));
                Object filtered = interpreter.resolveELExpression(
                        BODY + "|" + tagNode.getHelpers().strip(), tagNode.getLineNumber());
                return PythonJson.str(filtered);
            }
        }
    }

    /** Jinja2's {@code items} filter: a dict's (key, value) pairs. */
    private static final class ItemsFilter implements Filter {
        @Override
        public String getName() {
            return "items";
        }

        @Override
        public Object filter(Object var, JinjavaInterpreter interpreter, String... args) {
            List<Object> items = new ArrayList<>();
            if (var instanceof Map<?, ?> map) {
                map.forEach((k, v) -> items.add(PythonMethods.pair(k, v)));
            }
            return items;
        }
    }
}
