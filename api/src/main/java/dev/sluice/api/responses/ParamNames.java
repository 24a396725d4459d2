package dev.sluice.api.responses;

import dev.sluice.api.http.ApiException;

import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Renames the fields chat completions' validation names in its errors to the Responses fields
 * they came from, so a client learns which of its own fields to fix.
 */
final class ParamNames {

    private static final Pattern TOOL_FUNCTION = Pattern.compile("^tools\\[(\\d+)]\\.function(\\.|$)");

    private ParamNames() {
    }

    static ApiException rename(ApiException e) {
        String param = e.param();
        if (param == null) {
            return e;
        }
        String renamed = responsesName(param);
        if (renamed.equals(param)) {
            return e;
        }
        return new ApiException(e.status(), e.type(), e.getMessage(), renamed, e.code());
    }

    static String responsesName(String param) {
        if (param.equals("messages") || param.startsWith("messages[")) {
            return "input";
        }
        if (param.equals("max_completion_tokens")) {
            return "max_output_tokens";
        }
        if (param.startsWith("response_format")) {
            return "text.format" + param.substring("response_format".length()).replaceFirst("^\\.json_schema", "");
        }
        if (param.startsWith("tool_choice.function")) {
            return "tool_choice" + param.substring("tool_choice.function".length());
        }
        Matcher m = TOOL_FUNCTION.matcher(param);
        if (m.find()) {
            return "tools[" + m.group(1) + "]" + (m.group(2).isEmpty() ? "" : ".") + param.substring(m.end());
        }
        return param;
    }
}
