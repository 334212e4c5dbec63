package io.interchange.connectors.rest;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * What a target's answers say about its rate limits, and the window every caller of the target waits for: once an
 * answer says nothing is left (or a 429 or 503 says when to come back), no request is sent before the window ends, so
 * the client waits instead of spending a 429. Read from any answer:
 * <ul>
 * <li>{@code Retry-After}: seconds or an HTTP date (RFC 9110 10.2.3), on a 429 or 503;</li>
 * <li>HubSpot: {@code X-HubSpot-RateLimit-Remaining} with {@code -Max} and {@code -Interval-Milliseconds} (the rolling
 * burst window), {@code -Secondly-Remaining}, {@code -Daily-Remaining};</li>
 * <li>Salesforce: {@code Sforce-Limit-Info: api-usage=n/m} (the org's rolling 24-hour allowance);</li>
 * <li>Voucherify: {@code X-Rate-Limit-Remaining} with {@code X-Rate-Limit-Retry}, the epoch second from which the
 * next request may be made (and {@code -Limit}, {@code -Type} for the reason);</li>
 * <li>generic: {@code X-RateLimit-Remaining} / {@code X-RateLimit-Reset} and the IETF draft's {@code RateLimit-Remaining}
 * / {@code RateLimit-Reset} (reset as seconds from now, or as epoch seconds when it is that large).</li>
 * </ul>
 * A window whose end is not given (HubSpot's daily allowance resets at midnight in the account's time zone, Salesforce's
 * is rolling) is probed again after {@link #UNKNOWN_END}: one request an interval, not one per caller.
 */
public final class RateLimits {

    static final Duration UNKNOWN_END = Duration.ofMinutes(15);
    private static final Pattern SFORCE_USAGE = Pattern.compile("api-usage=(\\d+)/(\\d+)");
    private static final long EPOCH_SECONDS_FROM = 1_000_000_000L;

    private final Object lock = new Object();
    /** System.nanoTime() before which no request is sent; 0 when open. */
    private long closedUntil;
    private String why = "";

    /** A window that is closed now, and until when, as read from one answer. */
    public record Window(Duration length, String why) {
    }

    /** Reads an answer's headers (names in any case) and closes the window if they say so; what they say, or null. */
    public Window observe(int status, Map<String, String> headers) {
        Window w = read(status, headers, System.currentTimeMillis());
        if (w == null) return null;
        long until = System.nanoTime() + w.length().toNanos();
        synchronized (lock) {
            if (closedUntil == 0 || until - closedUntil > 0) {
                closedUntil = until;
                why = w.why();
            }
        }
        return w;
    }

    /** How long from now the window stays closed (zero when open), and why. */
    public Window closed() {
        synchronized (lock) {
            long left = closedUntil == 0 ? 0 : closedUntil - System.nanoTime();
            if (left <= 0) {
                closedUntil = 0;
                return new Window(Duration.ZERO, "");
            }
            return new Window(Duration.ofNanos(left), why);
        }
    }

    /** The window an answer closes, or null when it leaves it open. */
    static Window read(int status, Map<String, String> raw, long nowMillis) {
        Map<String, String> h = new TreeMap<>(String.CASE_INSENSITIVE_ORDER);
        h.putAll(raw);
        Window w = null;
        if (status == 429 || status == 503) {
            Duration after = retryAfter(h.get("Retry-After"), nowMillis);
            if (after != null) w = longer(w, new Window(after, "Retry-After " + h.get("Retry-After").strip()));
        }
        if (zero(h.get("X-HubSpot-RateLimit-Remaining"))) {
            long interval = number(h.get("X-HubSpot-RateLimit-Interval-Milliseconds"), 10_000);
            w = longer(w, new Window(Duration.ofMillis(interval), "X-HubSpot-RateLimit-Remaining 0 of "
                    + h.getOrDefault("X-HubSpot-RateLimit-Max", "?") + " per " + interval + " ms"));
        }
        if (zero(h.get("X-HubSpot-RateLimit-Secondly-Remaining"))) {
            w = longer(w, new Window(Duration.ofSeconds(1), "X-HubSpot-RateLimit-Secondly-Remaining 0"));
        }
        if (zero(h.get("X-HubSpot-RateLimit-Daily-Remaining"))) {
            w = longer(w, new Window(UNKNOWN_END, "X-HubSpot-RateLimit-Daily-Remaining 0 of "
                    + h.getOrDefault("X-HubSpot-RateLimit-Daily", "?")));
        }
        String sforce = h.get("Sforce-Limit-Info");
        if (sforce != null) {
            Matcher m = SFORCE_USAGE.matcher(sforce);
            if (m.find() && Long.parseLong(m.group(1)) >= Long.parseLong(m.group(2))) {
                w = longer(w, new Window(UNKNOWN_END, "Sforce-Limit-Info " + m.group()));
            }
        }
        if (zero(h.get("X-Rate-Limit-Remaining"))) {
            // Voucherify: X-Rate-Limit-Retry is when the next request may be made, in epoch seconds
            long retry = number(h.get("X-Rate-Limit-Retry"), -1);
            Duration wait = retry < EPOCH_SECONDS_FROM ? Duration.ofSeconds(1)
                    : Duration.ofMillis(Math.max(0, retry * 1000 - nowMillis));
            w = longer(w, new Window(wait, "X-Rate-Limit-Remaining 0 of " + h.getOrDefault("X-Rate-Limit-Limit", "?")
                    + (h.containsKey("X-Rate-Limit-Type") ? " (" + h.get("X-Rate-Limit-Type").strip() + ")" : "")
                    + ", next request at " + h.getOrDefault("X-Rate-Limit-Retry", "not given")));
        }
        for (String prefix : new String[]{"X-RateLimit-", "RateLimit-"}) {
            if (zero(h.get(prefix + "Remaining"))) {
                long reset = number(h.get(prefix + "Reset"), -1);
                Duration wait = reset < 0 ? Duration.ofSeconds(1)
                        : reset >= EPOCH_SECONDS_FROM ? Duration.ofMillis(Math.max(0, reset * 1000 - nowMillis))
                        : Duration.ofSeconds(reset);
                w = longer(w, new Window(wait, prefix + "Remaining 0, reset " + h.getOrDefault(prefix + "Reset", "not given")));
            }
        }
        return w;
    }

    /** {@code Retry-After} as a wait from now: delay-seconds or an HTTP date; null when absent or unreadable. */
    public static Duration retryAfter(String value, long nowMillis) {
        if (value == null || value.isBlank()) return null;
        String v = value.strip();
        try {
            return Duration.ofSeconds(Math.max(0, Long.parseLong(v)));
        } catch (NumberFormatException notSeconds) {
            try {
                Instant at = ZonedDateTime.parse(v, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
                return Duration.ofMillis(Math.max(0, at.toEpochMilli() - nowMillis));
            } catch (DateTimeParseException notADate) {
                return null;
            }
        }
    }

    private static Window longer(Window a, Window b) {
        return a == null || b.length().compareTo(a.length()) > 0 ? b : a;
    }

    private static boolean zero(String v) {
        return v != null && number(v, -1) == 0;
    }

    private static long number(String v, long otherwise) {
        if (v == null) return otherwise;
        try {
            return Long.parseLong(v.strip());
        } catch (NumberFormatException e) {
            return otherwise;
        }
    }
}
