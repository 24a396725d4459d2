package dev.sluice.api.structured;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/** Sets of code points as sorted, disjoint inclusive ranges {@code [lo0, hi0, lo1, hi1, ...]}. */
final class CharSets {

    private CharSets() {
    }

    static int[] union(List<int[]> sets) {
        List<int[]> ranges = new ArrayList<>();
        for (int[] set : sets) {
            for (int i = 0; i < set.length; i += 2) {
                ranges.add(new int[]{set[i], set[i + 1]});
            }
        }
        ranges.sort(Comparator.comparingInt(r -> r[0]));
        List<Integer> out = new ArrayList<>();
        for (int[] r : ranges) {
            int n = out.size();
            if (n > 0 && r[0] <= out.get(n - 1) + 1) {
                out.set(n - 1, Math.max(out.get(n - 1), r[1]));
            } else {
                out.add(r[0]);
                out.add(r[1]);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    /** {@code a} without the code points of {@code b}. */
    static int[] minus(int[] a, int[] b) {
        List<Integer> out = new ArrayList<>();
        for (int i = 0; i < a.length; i += 2) {
            int lo = a[i];
            int hi = a[i + 1];
            for (int j = 0; j < b.length && lo <= hi; j += 2) {
                if (b[j + 1] < lo || b[j] > hi) {
                    continue;
                }
                if (b[j] > lo) {
                    out.add(lo);
                    out.add(b[j] - 1);
                }
                lo = b[j + 1] + 1;
            }
            if (lo <= hi) {
                out.add(lo);
                out.add(hi);
            }
        }
        return out.stream().mapToInt(Integer::intValue).toArray();
    }

    static int[] intersect(int[] a, int[] b) {
        return minus(a, minus(a, b));
    }

    static boolean contains(int[] set, int c) {
        for (int i = 0; i < set.length; i += 2) {
            if (c >= set[i] && c <= set[i + 1]) {
                return true;
            }
        }
        return false;
    }

    static boolean isEmpty(int[] set) {
        return set.length == 0;
    }

    static String toString(int[] set) {
        return Arrays.toString(set);
    }
}
