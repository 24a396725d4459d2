package dev.sluice.engine.chat;

import dev.sluice.bindings.llama.LlamaChatTemplates;
import dev.sluice.engine.text.Tokenizer;

import java.lang.System.Logger;
import java.lang.System.Logger.Level;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * Turns a chat conversation into the prompt text a model was trained on.
 *
 * <p>The template comes from the GGUF's {@code tokenizer.chat_template}: a Hugging Face Jinja
 * template, rendered by {@link JinjaTemplate} as {@code transformers} would. When Jinjava cannot
 * render it, libllama's built-in format for it is used if libllama recognises one; when the model
 * has no template at all, ChatML. {@link #kind()} says which.
 *
 * <p>Like llama-server, it adapts conversations to what a template accepts: the OpenAI
 * {@code developer} role becomes {@code system} unless the template knows it, and a leading system
 * message is prepended to the next turn when the template has no system role (Gemma).
 *
 * <p>Thread-safe; renders share no mutable state.
 */
public final class ChatTemplate {

    private static final Logger LOG = System.getLogger(ChatTemplate.class.getName());

    /** The conversation that probes a Jinja template when it is loaded. */
    private static final List<ChatMessage> PROBE = List.of(
            ChatMessage.user("Hello"), ChatMessage.assistant("Hi there"), ChatMessage.user("How are you?"));
    private static final String SYSTEM_PROBE = "SYSTEM-PROBE-7f3a";

    /** How prompts are produced. */
    public enum Kind {
        /** The model's Jinja template, rendered by Jinjava. */
        JINJA,
        /** libllama's built-in format for the model's template (or for a built-in name like {@code chatml}). */
        LLAMA_BUILTIN,
        /** The model has no chat template: ChatML, the most common format. */
        CHATML_DEFAULT
    }

    /**
     * The special-token strings templates use, and whether the tokenizer adds BOS/EOS by itself: then
     * a rendered prompt's leading BOS text and trailing EOS text are removed, so that encoding it with
     * special tokens added does not double them (what llama-server does).
     */
    public record SpecialTokens(String bos, String eos, boolean tokenizerAddsBos, boolean tokenizerAddsEos) {

        public static final SpecialTokens NONE = new SpecialTokens("", "", false, false);

        public SpecialTokens {
            Objects.requireNonNull(bos, "bos");
            Objects.requireNonNull(eos, "eos");
        }

        public static SpecialTokens of(Tokenizer tokenizer) {
            return new SpecialTokens(
                    tokenizer.bos() == Tokenizer.NO_TOKEN ? "" : tokenizer.tokenText(tokenizer.bos()),
                    tokenizer.eos() == Tokenizer.NO_TOKEN ? "" : tokenizer.tokenText(tokenizer.eos()),
                    tokenizer.addsBos(), tokenizer.addsEos());
        }
    }

    /**
     * Bounds on one render of a Jinja template.
     *
     * @param maxCollectionSize  the largest list, dict or {@code range()} a template may build
     * @param maxRecursionDepth  how deep macros may call themselves
     */
    public record Limits(Duration renderTimeout, int maxOutputChars, int maxCollectionSize, int maxRecursionDepth) {
        /** Far above any real conversation: a 16M-character prompt is ~4M tokens. */
        public static final Limits DEFAULT = new Limits(Duration.ofSeconds(2), 16 << 20, 100_000, 32);

        public Limits {
            if (!renderTimeout.isPositive() || maxOutputChars <= 0 || maxCollectionSize <= 0 || maxRecursionDepth <= 0) {
                throw new IllegalArgumentException("chat template limits must be positive: " + renderTimeout + ", "
                        + maxOutputChars + ", " + maxCollectionSize + ", " + maxRecursionDepth);
            }
        }
    }

    private final Kind kind;
    private final String source;
    private final SpecialTokens tokens;
    private final JinjaTemplate jinja;
    private final boolean systemRole;
    private final boolean developerRole;
    private final AtomicBoolean warnedOfBuiltinRenders = new AtomicBoolean();
    private final ToolSupport toolSupport;

    private ChatTemplate(Kind kind, String source, SpecialTokens tokens, JinjaTemplate jinja, boolean systemRole) {
        this.kind = kind;
        this.source = source;
        this.tokens = tokens;
        this.jinja = jinja;
        this.systemRole = systemRole;
        this.developerRole = source != null && source.contains("developer");
        this.toolSupport = jinja == null ? ToolSupport.NONE
                : ToolSupport.probe(vars -> jinja.render(withSpecialTokens(vars, tokens)));
    }

    /** The template of a model's tokenizer, or ChatML when its GGUF has none. */
    public static ChatTemplate forTokenizer(Tokenizer tokenizer) {
        SpecialTokens tokens = SpecialTokens.of(tokenizer);
        Optional<String> source = tokenizer.chatTemplate();
        if (source.isEmpty()) {
            LOG.log(Level.INFO, "{0} has no tokenizer.chat_template; using ChatML", tokenizer.path().getFileName());
            return chatMl(tokens);
        }
        return of(source.get(), tokens);
    }

    /**
     * A template from its Jinja source or a libllama built-in name ({@code chatml}, {@code llama3}, …).
     *
     * @throws ChatTemplateException {@code UNSUPPORTED} when neither Jinjava nor libllama can render it
     */
    public static ChatTemplate of(String source, SpecialTokens tokens) {
        return of(source, tokens, Limits.DEFAULT, Clock.systemDefaultZone());
    }

    /** Like {@link #of(String, SpecialTokens)}, with render limits and the clock {@code strftime_now} reads. */
    public static ChatTemplate of(String source, SpecialTokens tokens, Limits limits, Clock clock) {
        Objects.requireNonNull(source, "source");
        Objects.requireNonNull(tokens, "tokens");
        if (LlamaChatTemplates.builtinNames().contains(source.strip())) {
            return new ChatTemplate(Kind.LLAMA_BUILTIN, source.strip(), tokens, null, true);
        }
        JinjaTemplate jinja = new JinjaTemplate(source, limits, clock);
        try {
            jinja.render(variables(PROBE, true, tokens, true));
            List<ChatMessage> withSystem = List.of(ChatMessage.system(SYSTEM_PROBE), ChatMessage.user("Hello"));
            boolean systemRole;
            try {
                systemRole = jinja.render(variables(withSystem, true, tokens, true)).contains(SYSTEM_PROBE);
            } catch (ChatTemplateException e) {
                if (e.reason() != ChatTemplateException.Reason.REJECTED) {
                    throw e;
                }
                systemRole = false;
            }
            return new ChatTemplate(Kind.JINJA, source, tokens, jinja, systemRole);
        } catch (ChatTemplateException jinjaFailure) {
            if (LlamaChatTemplates.apply(source, llamaMessages(PROBE), true).isPresent()) {
                LOG.log(Level.WARNING, "chat template: {0}; using libllama''s built-in format for it instead",
                        jinjaFailure.getMessage());
                return new ChatTemplate(Kind.LLAMA_BUILTIN, source, tokens, null, true);
            }
            throw new ChatTemplateException(ChatTemplateException.Reason.UNSUPPORTED,
                    "unusable chat template: " + jinjaFailure.getMessage()
                            + "; and libllama recognises none of its built-in formats in it");
        }
    }

    /** ChatML: {@code <|im_start|>role\ncontent<|im_end|>\n} per turn. */
    public static ChatTemplate chatMl(SpecialTokens tokens) {
        return new ChatTemplate(Kind.CHATML_DEFAULT, null, tokens, null, true);
    }

    /**
     * The prompt for {@code messages}. Encode it with special tokens added and parsed.
     *
     * @param addGenerationPrompt  end with the text that opens the assistant's reply
     * @throws ChatTemplateException {@code REJECTED} with the template's own message when it refuses
     *         the conversation (e.g. roles that do not alternate)
     */
    public String render(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return render(messages, List.of(), addGenerationPrompt);
    }

    /**
     * The prompt for {@code messages} with {@code tools} offered to the model: each a Python-typed
     * {@code {"type": "function", "function": {"name", "description", "parameters"}}}, passed to
     * the template as Hugging Face's {@code apply_chat_template(tools=…)} does. A template that does
     * not render tools, tool calls or tool results gets them written into the conversation instead
     * ({@link ToolSupport#polyfill}).
     */
    public String render(List<ChatMessage> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt) {
        if (messages.isEmpty()) {
            throw new IllegalArgumentException("a chat needs at least one message");
        }
        List<ChatMessage> adapted = adapt(toolSupport.polyfill(messages, tools));
        List<Map<String, Object>> templateTools = toolSupport.tools() ? tools : List.of();
        String prompt = switch (kind) {
            case JINJA -> renderJinja(adapted, templateTools, addGenerationPrompt);
            case LLAMA_BUILTIN -> renderBuiltin(adapted, addGenerationPrompt);
            case CHATML_DEFAULT -> renderChatMl(adapted, addGenerationPrompt);
        };
        if (tokens.tokenizerAddsBos() && !tokens.bos().isEmpty() && prompt.startsWith(tokens.bos())) {
            prompt = prompt.substring(tokens.bos().length());
        }
        if (tokens.tokenizerAddsEos() && !tokens.eos().isEmpty() && prompt.endsWith(tokens.eos())) {
            prompt = prompt.substring(0, prompt.length() - tokens.eos().length());
        }
        return prompt;
    }

    public Kind kind() {
        return kind;
    }

    /** The template's source (Jinja, or a libllama built-in name), or null for the ChatML default. */
    public String source() {
        return source;
    }

    /** What the template does with tools, tool calls and tool results. */
    public ToolSupport toolSupport() {
        return toolSupport;
    }

    /** True when the model has no template and ChatML stands in for it. */
    public boolean isFallback() {
        return kind == Kind.CHATML_DEFAULT;
    }

    /** False when the template has no system role, so a system message is folded into the first user turn. */
    public boolean supportsSystemRole() {
        return systemRole;
    }

    private List<ChatMessage> adapt(List<ChatMessage> messages) {
        List<ChatMessage> adapted = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            adapted.add(message.role().equals("developer") && !developerRole
                    ? new ChatMessage("system", message.content(), message.toolCalls(), message.toolCallId(), message.name())
                    : message);
        }
        if (!systemRole && adapted.getFirst().role().equals("system")) {
            ChatMessage system = adapted.removeFirst();
            if (adapted.isEmpty()) {
                LOG.log(Level.WARNING, "chat template has no system role; dropping a lone system message");
            } else {
                ChatMessage next = adapted.getFirst();
                adapted.set(0, next.withContent(system.content() + "\n" + next.content()));
            }
        }
        return adapted;
    }

    private String renderJinja(List<ChatMessage> messages, List<Map<String, Object>> tools, boolean addGenerationPrompt) {
        try {
            Map<String, Object> variables = variables(messages, addGenerationPrompt, tokens, toolSupport.objectArguments());
            if (!tools.isEmpty()) {
                variables.put("tools", tools);
            }
            return jinja.render(variables);
        } catch (ChatTemplateException e) {
            if (e.reason() != ChatTemplateException.Reason.UNSUPPORTED) {
                throw e;
            }
            // A construct Jinjava lacks on a path the load-time probe did not take.
            Optional<String> builtin = LlamaChatTemplates.apply(source, llamaMessages(messages), addGenerationPrompt);
            if (builtin.isEmpty()) {
                throw e;
            }
            if (!warnedOfBuiltinRenders.getAndSet(true)) {
                LOG.log(Level.WARNING, "chat template: {0}; using libllama''s built-in format for such conversations"
                        + " (logged once)", e.getMessage());
            }
            return builtin.get();
        }
    }

    private String renderBuiltin(List<ChatMessage> messages, boolean addGenerationPrompt) {
        return LlamaChatTemplates.apply(source, llamaMessages(messages), addGenerationPrompt)
                .orElseThrow(() -> new ChatTemplateException(ChatTemplateException.Reason.UNSUPPORTED,
                        "libllama no longer recognises the chat template"));
    }

    private static String renderChatMl(List<ChatMessage> messages, boolean addGenerationPrompt) {
        StringBuilder prompt = new StringBuilder();
        for (ChatMessage message : messages) {
            prompt.append("<|im_start|>").append(message.role()).append('\n')
                    .append(message.content()).append("<|im_end|>\n");
        }
        if (addGenerationPrompt) {
            prompt.append("<|im_start|>assistant\n");
        }
        return prompt.toString();
    }

    /** The variables Hugging Face's {@code apply_chat_template} gives a template. */
    private static Map<String, Object> variables(List<ChatMessage> messages, boolean addGenerationPrompt,
                                                 SpecialTokens tokens, boolean objectArguments) {
        List<Map<String, Object>> turns = new ArrayList<>(messages.size());
        for (ChatMessage message : messages) {
            turns.add(ToolSupport.turn(message, objectArguments));
        }
        Map<String, Object> variables = new LinkedHashMap<>();
        variables.put("messages", turns);
        variables.put("add_generation_prompt", addGenerationPrompt);
        return withSpecialTokens(variables, tokens);
    }

    private static Map<String, Object> withSpecialTokens(Map<String, Object> variables, SpecialTokens tokens) {
        Map<String, Object> all = new LinkedHashMap<>(variables);
        all.put("bos_token", tokens.bos());
        all.put("eos_token", tokens.eos());
        return all;
    }

    private static List<LlamaChatTemplates.Message> llamaMessages(List<ChatMessage> messages) {
        return messages.stream().map(m -> new LlamaChatTemplates.Message(m.role(), m.content())).toList();
    }

    @Override
    public String toString() {
        return "ChatTemplate[" + kind + (systemRole ? "" : ", no system role") + "]";
    }
}
