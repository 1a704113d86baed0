package io.jremus.vmm.config;

import java.util.Collection;
import java.util.Optional;

/**
 * Finds the known key a mistyped one was probably meant to be, so that an unknown-key error
 * can say "did you mean". Edit distance (insert, delete, substitute, swap adjacent) of at most
 * 2, and less than half the typed key, so short nonsense keys get no suggestion.
 */
final class KeySuggestion {
    private KeySuggestion() {
    }

    static Optional<String> nearest(String typed, Collection<String> known) {
        String best = null;
        int bestDistance = Integer.MAX_VALUE;
        for (String candidate : known) {
            int d = distance(typed.toLowerCase(java.util.Locale.ROOT), candidate);
            if (d < bestDistance) {
                best = candidate;
                bestDistance = d;
            }
        }
        boolean close = bestDistance <= 2 && bestDistance * 2 < Math.max(typed.length(), 2);
        return close ? Optional.of(best) : Optional.empty();
    }

    /** Optimal-string-alignment distance: Levenshtein plus transposition of neighbours ("memroy"). */
    static int distance(String a, String b) {
        int[][] d = new int[a.length() + 1][b.length() + 1];
        for (int i = 0; i <= a.length(); i++) {
            d[i][0] = i;
        }
        for (int j = 0; j <= b.length(); j++) {
            d[0][j] = j;
        }
        for (int i = 1; i <= a.length(); i++) {
            for (int j = 1; j <= b.length(); j++) {
                int cost = a.charAt(i - 1) == b.charAt(j - 1) ? 0 : 1;
                d[i][j] = Math.min(Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1), d[i - 1][j - 1] + cost);
                if (i > 1 && j > 1 && a.charAt(i - 1) == b.charAt(j - 2) && a.charAt(i - 2) == b.charAt(j - 1)) {
                    d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
                }
            }
        }
        return d[a.length()][b.length()];
    }
}
