package io.interchange.bench.e2e;

import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.sandbox.StripeEventFactory;
import io.interchange.sandbox.StripeSigner;

import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.List;

/**
 * The benchmark's billing events: Stripe {@code invoice.finalized} events of about 1 KB, as the simulated billing
 * platform sends them, for 64 customers of the legal entities DE01 and US01. Events are stamped from those templates
 * with a fresh event id per sequence number (a byte copy, so that generating load does not compete with the system
 * under test for the CPU).
 */
final class Events {

    static final String SECRET = "whsec_bench_e2e_0123456789abcdef";
    private static final int TEMPLATES = 64;
    private static final int ID_CHARS = 24; // Stripe ids: prefix and 24 alphanumerics

    private final byte[][] templates = new byte[TEMPLATES][];
    private final int[] idOffsets = new int[TEMPLATES];
    private final String prefix;

    /** @param prefix four letters that keep the ids of this run apart from other runs' */
    Events(long seed, String prefix) {
        if (prefix.length() != 4) throw new IllegalArgumentException("prefix must have 4 characters");
        this.prefix = prefix;
        StripeEventFactory factory = new StripeEventFactory(seed);
        long now = System.currentTimeMillis() / 1000;
        for (int i = 0; i < TEMPLATES; i++) {
            String customer = factory.newCustomerId();
            boolean de = i % 2 == 0;
            var invoice = factory.issue(new StripeEventFactory.InvoiceSpec(customer, "gc-" + customer,
                    de ? "DE01" : "US01", de ? "EUR" : "USD", List.of(
                            new StripeEventFactory.InvoiceSpec.Line("Platform subscription, monthly", 30, 29_700)),
                    de ? new BigDecimal("19") : new BigDecimal("7.25"), now));
            ObjectNode event = factory.invoiceFinalized(invoice, now);
            String id = event.path("id").asText();
            byte[] body = event.toString().getBytes(StandardCharsets.UTF_8);
            String text = new String(body, StandardCharsets.UTF_8);
            int at = text.indexOf("\"id\":\"" + id + "\"");
            if (at < 0 || id.length() != 4 + ID_CHARS) throw new IllegalStateException("unexpected event id " + id);
            templates[i] = body;
            idOffsets[i] = at + 6 + 4; // after "id":"evt_
        }
    }

    /** The event id of a sequence number. */
    String id(long seq) {
        return "evt_" + prefix + String.format("%020d", seq);
    }

    /** The body of the event with this sequence number. */
    byte[] body(long seq) {
        int t = (int) (seq % TEMPLATES);
        byte[] body = Arrays.copyOf(templates[t], templates[t].length);
        byte[] id = (prefix + String.format("%020d", seq)).getBytes(StandardCharsets.US_ASCII);
        System.arraycopy(id, 0, body, idOffsets[t], ID_CHARS);
        return body;
    }

    int averageSize() {
        return Arrays.stream(templates).mapToInt(b -> b.length).sum() / TEMPLATES;
    }

    static String signature(byte[] body) {
        return StripeSigner.header(SECRET, System.currentTimeMillis() / 1000, body);
    }
}
