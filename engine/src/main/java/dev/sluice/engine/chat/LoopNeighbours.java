package dev.sluice.engine.chat;

import com.hubspot.jinjava.util.ForLoop;

import java.lang.reflect.Field;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Iterator;
import java.util.List;
import java.util.Map;

/**
 * Jinja2's {@code loop.previtem} and {@code loop.nextitem}, which Jinjava's {@link ForLoop} lacks
 * and Hermes 2 Pro's, Hermes 3's and Qwen3.5's templates use to group tool results.
 *
 * <p>A loop knows only its iterator. So the lists a chat template gets ({@code messages},
 * {@code tools}) are {@link Items}, whose iterators ({@link Cursor}) remember where they are; the
 * resolver reads a loop's iterator (a private field of Jinjava's {@code ForLoop}, read by
 * reflection, since Jinjava offers no hook) and, when it is a cursor, answers with its
 * neighbours. Loops over other lists (a slice, a filter's output) answer none: falsy, like
 * Jinja2's undefined at the ends of a loop.
 */
final class LoopNeighbours {

    private static final Field ITERATOR = iteratorField();

    private LoopNeighbours() {
    }

    private static Field iteratorField() {
        try {
            Field f = ForLoop.class.getDeclaredField("it");
            f.setAccessible(true);
            return f;
        } catch (ReflectiveOperationException | RuntimeException e) {
            return null; // another Jinjava: previtem and nextitem stay undefined
        }
    }

    /** Whether {@code property} of a loop is one this class answers. */
    static boolean handles(Object base, Object property) {
        return base instanceof ForLoop && ("previtem".equals(property) || "nextitem".equals(property));
    }

    /** The loop's previous or next item, or null. */
    static Object neighbour(ForLoop loop, String property) {
        if (ITERATOR == null) {
            return null;
        }
        Object it;
        try {
            it = ITERATOR.get(loop);
        } catch (IllegalAccessException e) {
            return null;
        }
        if (!(it instanceof Cursor cursor)) {
            return null;
        }
        int current = cursor.next - 1;
        int index = property.equals("previtem") ? current - 1 : current + 1;
        return index >= 0 && index < cursor.items.size() ? cursor.items.get(index) : null;
    }

    /** The top-level lists of a template's variables as {@link Items}. */
    static Map<String, Object> wrap(Map<String, Object> variables) {
        variables.replaceAll((k, v) -> v instanceof List<?> list && !(v instanceof Items) ? new Items(list) : v);
        return variables;
    }

    /** A list whose iterators are {@link Cursor}s. */
    static final class Items extends ArrayList<Object> {
        Items(Collection<?> items) {
            super(items);
        }

        @Override
        public Iterator<Object> iterator() {
            return new Cursor(this);
        }
    }

    /** An iterator that knows its list and position. */
    static final class Cursor implements Iterator<Object> {
        final List<Object> items;
        int next;

        Cursor(List<Object> items) {
            this.items = items;
        }

        @Override
        public boolean hasNext() {
            return next < items.size();
        }

        @Override
        public Object next() {
            if (!hasNext()) {
                throw new java.util.NoSuchElementException();
            }
            return items.get(next++);
        }
    }
}
