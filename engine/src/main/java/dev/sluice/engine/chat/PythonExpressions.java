package dev.sluice.engine.chat;

import com.hubspot.jinjava.el.ExtendedSyntaxBuilder;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import com.hubspot.jinjava.el.ext.AbsOperator;
import com.hubspot.jinjava.el.ext.AdditionOperator;
import com.hubspot.jinjava.el.ext.AstNamedParameter;
import com.hubspot.jinjava.el.ext.ExtendedParser;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.de.odysseus.el.tree.impl.Builder;
import jinjava.de.odysseus.el.tree.impl.Parser;
import jinjava.de.odysseus.el.tree.impl.Scanner;
import jinjava.de.odysseus.el.tree.impl.ast.AstBinary;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstParameters;
import jinjava.de.odysseus.el.tree.impl.ast.AstUnary;
import jinjava.javax.el.ExpressionFactory;

import java.io.Serial;
import java.util.ArrayList;
import java.util.List;
import java.util.Properties;

/**
 * Jinjava's expression parser, corrected where it reads Jinja expressions differently from Python.
 *
 * <ul>
 *   <li>{@code not} binds looser than comparisons and tighter than {@code and}. Jinjava parses it
 *       like Java's {@code !}, so {@code not message.tool_calls|length == 1} (Llama 3.x templates)
 *       compared a boolean with 1.
 *   <li>{@code name=value} in a call takes the whole expression after {@code =} as the keyword
 *       argument's value. Jinjava reads {@code =} at the level of {@code +}, so
 *       {@code namespace(last=messages|length - 1)} (Qwen3 templates) subtracted 1 from the argument.
 *   <li>{@code a+1} is an addition. Jinjava's scanner reads {@code +} before a digit as its unary
 *       absolute-value operator, so {@code messages[:i+1]} did not parse.
 * </ul>
 */
final class PythonExpressions {

    /** Thread-safe and shareable: parsed expression trees are cached and immutable. */
    static final ExpressionFactory EXPRESSIONS = new ExpressionFactoryImpl(new Properties(), new TruthyTypeConverter()) {
        @Override
        protected TreeBuilder createTreeBuilder(Properties properties, Builder.Feature... features) {
            return new SyntaxBuilder(features);
        }
    };

    private PythonExpressions() {
    }

    private static final class SyntaxBuilder extends ExtendedSyntaxBuilder {
        @Serial
        private static final long serialVersionUID = 1L;

        SyntaxBuilder(Feature... features) {
            super(features);
        }

        @Override
        protected Parser createParser(String expression) {
            return new PythonParser(this, expression);
        }
    }

    private static final class PythonParser extends ExtendedParser {

        PythonParser(Builder context, String input) {
            super(context, input);
        }

        /** {@code a_expr}: as Jinjava's, plus a {@code +} its scanner took for a unary operator. */
        @Override
        protected AstNode add(boolean required) throws Scanner.ScanException, ParseException {
            AstNode v = mul(required);
            if (v == null) {
                return null;
            }
            while (true) {
                Scanner.Token token = getToken();
                if (token.getSymbol() == Scanner.Symbol.PLUS || token == AbsOperator.TOKEN) {
                    consumeToken();
                    v = createAstBinary(v, mul(true), AdditionOperator.OP);
                } else if (token.getSymbol() == Scanner.Symbol.MINUS) {
                    consumeToken();
                    v = createAstBinary(v, mul(true), AstBinary.SUB);
                } else if (token.getSymbol() == Scanner.Symbol.EXTENSION
                        && getExtensionHandler(token).getExtensionPoint() == ExtensionPoint.ADD) {
                    v = getExtensionHandler(consumeToken()).createAstNode(v, mul(true));
                } else {
                    return v;
                }
            }
        }

        /** {@code and_test: not_test ('and' not_test)*}, as JUEL's {@code and} with {@code not_test} operands. */
        @Override
        protected AstNode and(boolean required) throws Scanner.ScanException, ParseException {
            AstNode v = notTest(required);
            if (v == null) {
                return null;
            }
            while (true) {
                if (getToken().getSymbol() == Scanner.Symbol.AND) {
                    consumeToken();
                    v = createAstBinary(v, notTest(true), AstBinary.AND);
                } else if (getToken().getSymbol() == Scanner.Symbol.EXTENSION
                        && getExtensionHandler(getToken()).getExtensionPoint() == ExtensionPoint.AND) {
                    v = getExtensionHandler(consumeToken()).createAstNode(v, notTest(true));
                } else {
                    return v;
                }
            }
        }

        /** Call arguments and list items: {@code name=expression} is a keyword argument, as in Python. */
        @Override
        protected AstParameters params(Scanner.Symbol left, Scanner.Symbol right) throws Scanner.ScanException, ParseException {
            consumeToken(left);
            List<AstNode> items = new ArrayList<>();
            AstNode item = argument(false);
            if (item != null) {
                items.add(item);
                while (getToken().getSymbol() == Scanner.Symbol.COMMA) {
                    consumeToken();
                    items.add(argument(true));
                }
            }
            consumeToken(right);
            return createAstParameters(items);
        }

        private AstNode argument(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Scanner.Symbol.IDENTIFIER && "=".equals(lookahead(0).getImage())) {
                String name = consumeToken().getImage();
                consumeToken(); // '='
                return new AstNamedParameter(identifier(name), expr(true));
            }
            return expr(required);
        }

        /** {@code not_test: 'not' not_test | comparison}. */
        private AstNode notTest(boolean required) throws Scanner.ScanException, ParseException {
            if (getToken().getSymbol() == Scanner.Symbol.NOT) {
                consumeToken();
                return createAstUnary(notTest(true), AstUnary.NOT);
            }
            return eq(required);
        }
    }
}
