package io.interchange.fault;

import java.time.LocalTime;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * How long the runtime spent on each posting, read from its log: from "Event ... posts KIND to ERP" to "Posting ...
 * confirmed by ERP", and the gaps between its redelivery attempts ("Route billing.ledger-posting: attempt N of M after
 * transient failure"), all lines of one exchange tied together by their {@code cid=}.
 */
final class PostingTimeline {

    private static final Pattern LINE = Pattern.compile("^(\\d{2}:\\d{2}:\\d{2}\\.\\d{3}) .*?\\[cid=([^\\]]*)] (.*)$");

    /** Processing time of one posting and the longest wait between two of its attempts, in ms. */
    record Posting(String cid, long processingMillis, long longestAttemptGapMillis, int attempts) {
    }

    private final List<Posting> postings = new ArrayList<>();

    PostingTimeline(RuntimeProcess runtime) {
        Map<String, Long> started = new HashMap<>();
        Map<String, Long> lastStep = new HashMap<>();
        Map<String, Long> longestGap = new HashMap<>();
        Map<String, Integer> attempts = new HashMap<>();
        runtime.forEachLogLine(line -> {
            Matcher m = LINE.matcher(line);
            if (!m.matches() || m.group(2).isEmpty()) return;
            long t;
            try {
                t = LocalTime.parse(m.group(1)).toNanoOfDay() / 1_000_000;
            } catch (DateTimeParseException e) {
                return;
            }
            String cid = m.group(2);
            String msg = m.group(3);
            if (msg.startsWith("Event ") && msg.contains(" posts ")) {
                started.put(cid, t);
                lastStep.put(cid, t);
                longestGap.put(cid, 0L);
                attempts.put(cid, 1);
            } else if (msg.contains("billing.ledger-posting: attempt ") && started.containsKey(cid)) {
                longestGap.merge(cid, gap(lastStep.get(cid), t), Math::max);
                lastStep.put(cid, t);
                attempts.merge(cid, 1, Integer::sum);
            } else if (msg.startsWith("Posting ") && msg.contains(" confirmed by ") && started.containsKey(cid)) {
                long gap = gap(lastStep.get(cid), t);
                postings.add(new Posting(cid, gap(started.remove(cid), t), Math.max(longestGap.remove(cid), gap),
                        attempts.remove(cid)));
                lastStep.remove(cid);
            }
        });
    }

    /** Milliseconds from a to b on the log's wall clock (across midnight too). */
    private static long gap(long a, long b) {
        long d = b - a;
        return d < 0 ? d + 86_400_000L : d;
    }

    List<Posting> postings() {
        return postings;
    }

    long maxProcessingMillis() {
        return postings.stream().mapToLong(Posting::processingMillis).max().orElse(0);
    }

    long maxAttemptGapMillis() {
        return postings.stream().filter(p -> p.attempts() > 1).mapToLong(Posting::longestAttemptGapMillis).max().orElse(0);
    }

    long retried() {
        return postings.stream().filter(p -> p.attempts() > 1).count();
    }

    int maxAttempts() {
        return postings.stream().mapToInt(Posting::attempts).max().orElse(0);
    }
}
