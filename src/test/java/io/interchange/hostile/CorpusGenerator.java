package io.interchange.hostile;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.StreamReadConstraints;
import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.json.JsonMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.BigIntegerNode;
import com.fasterxml.jackson.databind.node.BooleanNode;
import com.fasterxml.jackson.databind.node.DecimalNode;
import com.fasterxml.jackson.databind.node.DoubleNode;
import com.fasterxml.jackson.databind.node.IntNode;
import com.fasterxml.jackson.databind.node.LongNode;
import com.fasterxml.jackson.databind.node.NullNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import com.fasterxml.jackson.databind.node.TextNode;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.function.Consumer;
import java.util.zip.GZIPOutputStream;

/**
 * Generates the hostile-input corpora kept as test data, deterministically (fixed seed): the same generator writes
 * the same files byte for byte, and {@link CorpusFilesTest} fails when the files and the generator drift apart.
 *
 * <p>Run from the project root after changing it:
 * <pre>
 * mvn -o -q -Dbuild.dir=/tmp/build-x test-compile dependency:build-classpath -Dmdep.outputFile=/tmp/build-x/cp.txt -Dmdep.includeScope=test
 * java -cp "$(cat /tmp/build-x/cp.txt):/tmp/build-x/classes:/tmp/build-x/test-classes" io.interchange.hostile.CorpusGenerator
 * </pre>
 *
 * <p><b>{@code billing-webhook.jsonl}</b>: one webhook per line, sent in file order by {@link HostileWebhookCorpusTest}.
 * The events are raw Stripe events of API 2024-06-20 as Stripe sends them (the bases are
 * {@code mappings/stripe/normalise-2024.fixtures/invoice-paid}, {@code invoice-payment-failed},
 * {@code invoice-finalized} and {@code refund-created}, the refund with {@code metadata.legal_entity}; the ignored
 * {@code charge.refunded} is {@code src/test/resources/stripe/2024-06-20/charge-refunded.json}), each with ids of its
 * own. What each one must get follows the billing edge's rule that a genuine, correctly signed Stripe event is never
 * refused: what the sender got wrong (no Stripe event at all, a field of another type than
 * {@code mappings/stripe/field-types.csv} declares, a value the canonical checks refuse) is a 4xx; a type without
 * effect is ignored; a genuine event that cannot be processed is parked.
 * Fields: {@code name} (unique), {@code category}, {@code expect}, optional {@code expectStatus},
 * {@code expectReason}, {@code expectOutcome}, {@code eventId} (the event id the body carries, if any, to check what
 * was stored for it), {@code sign} (how to sign at send time, see below),
 * optional {@code method}, {@code path}, {@code headers} (name to value; a JSON null removes the default
 * {@code Content-Type}; a recipe object builds a long value), {@code chunked}, {@code httpLayer} (refused by the HTTP
 * server itself before any route runs: sent byte for byte on a connection of its own, its JSON answer must arrive in
 * full and the connection close only with {@code Connection: close}), and the body: {@code bodyBase64},
 * {@code bodyRecipe}, or {@code replayOf} (the body of an earlier entry).
 *
 * <p>{@code expect} is one of:
 * <ul>
 * <li>{@code 4xx}: refused, nothing stored (no idempotency key, Kafka record or dead letter); {@code expectStatus} the
 * exact status where it matters, {@code expectReason} a substring of the JSON {@code reason};</li>
 * <li>{@code ignored}: 200 {@code {"status":"ignored"}}, a type listed without effect in
 * {@code mappings/stripe/events.csv}; nothing stored;</li>
 * <li>{@code parked}: 200 {@code {"status":"parked"}} with a reason containing {@code expectReason} (required), and
 * exactly one OPEN dead letter of route {@code billing.stripe-event} for the event (idempotency key
 * {@code billing:stripe:<eventId>}, the raw body, the reason; a redelivery adds none); no Kafka record, no idempotency
 * key;</li>
 * <li>{@code accepted}: 200 with {@code expectOutcome} ({@code accepted}, or {@code duplicate} for a redelivery), one
 * Kafka record, the idempotency key DONE, and (except payment failures, which post nothing) a ledger posting;</li>
 * <li>{@code accepted-then-dead-letter}: 200 {@code accepted}, then one dead letter of the ledger posting whose error
 * contains {@code expectReason} (a well-formed but unknown legal entity).</li>
 * </ul>
 *
 * <p>Sign modes (signatures are computed at send time so timestamps are fresh): {@code valid} (t = now, or
 * {@code tOffset} seconds from now, or {@code tAbsolute}), {@code stale} (t = now + {@code tOffset}, default -600),
 * {@code future} (t = now + {@code tOffset}, default +600), {@code wrong-secret}, {@code none} (no header),
 * {@code garbage-header} (the literal {@code signatureHeader}), {@code template} ({@code signatureTemplate} with
 * {@code {t}} = now, {@code {v1}} = the valid signature for {@code {t}}, {@code {v1wrong}} = one with a wrong secret,
 * {@code {tstale}} = now - 600 and {@code {v1stale}} = the valid signature for {@code {tstale}}), {@code tampered}
 * (valid signature over {@code signedBodyBase64}, a different body than the one sent) and {@code reuse} (the exact
 * header sent with {@code replayOf}).
 *
 * <p>Body recipes keep huge bodies out of the file: {@code {"parts":[{"text":"..."},{"repeat":"[","times":100000},
 * {"base64":"..."}]}}, or a single part such as {@code {"repeat":"a","times":3000000}}.
 *
 * <p><b>{@code erp-answers.jsonl}</b>: one hostile SOAP answer per line for {@link HostileErpAnswerTest}: {@code name},
 * {@code category}, {@code status}, {@code contentType}, optional {@code headers}, body ({@code bodyBase64} or
 * {@code bodyRecipe}; {@code {canary}} in the text is replaced by a URL that counts fetches), {@code mode}
 * ({@code complete}; {@code truncated}: Content-Length of the whole body but only {@code writeBytes} written, then the
 * connection dropped; {@code stall}: {@code writeBytes} written, then silence longer than the ERP timeout),
 * {@code expectKind} ({@code TRANSIENT} / {@code PERMANENT}), {@code expectReason} and {@code forbidden} (texts the
 * dead letter must never contain, e.g. file contents an external entity would have read).
 */
public final class CorpusGenerator {

    public static final long SEED = 0x1A7E5C0DE5EEDL;
    public static final String WEBHOOK_RESOURCE = "corpus/billing-webhook.jsonl";
    public static final String ERP_RESOURCE = "corpus/erp-answers.jsonl";
    public static final Path RESOURCES = Path.of("src/test/resources");

    /** The runtime's interchange.http.max-body-bytes default. */
    static final int MAX_BODY = 1_048_576;
    /** The HTTP server's own refusals (its JSON reasons) of headers and bodies over its limits. */
    static final String HEADERS_TOO_LARGE = "request headers larger than 8192 bytes";
    static final String BODY_TOO_LARGE = "request body larger than " + MAX_BODY + " bytes";

    private static final ObjectMapper JSON = new ObjectMapper();
    /** Parses like the runtime's webhook edge, to keep only byte flips that leave the body unreadable. */
    private static final ObjectMapper STRICT = JsonMapper.builder(JsonFactory.builder()
                    .streamReadConstraints(StreamReadConstraints.builder().maxNestingDepth(64)
                            .maxStringLength(1_000_000).maxNumberLength(40).build()).build())
            .enable(DeserializationFeature.FAIL_ON_TRAILING_TOKENS)
            .enable(JsonParser.Feature.STRICT_DUPLICATE_DETECTION)
            .build();
    private static final String ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    private static final String PAID = "invoice.paid";
    private static final String FAILED = "invoice.payment_failed";
    private static final String FINALIZED = "invoice.finalized";
    private static final String REFUNDED = "refund.created";
    private static final List<String> KINDS = List.of(PAID, FAILED, FINALIZED, REFUNDED);
    /** A type listed without effect (events.csv): refunds come from refund.created, a charge only has the cumulative sum. */
    private static final String CHARGE_REFUNDED = "charge.refunded";
    private static final String NO_ENTITY = "no legal entity found";
    private static final String NO_LINES = "invoice has no lines";
    private static final String NOT_HANDLED = "is not handled by this runtime";
    private static final String NOT_AN_ENTITY = "is not a legal entity";

    private final Random random = new Random(SEED);
    private final Map<String, ObjectNode> bases = new LinkedHashMap<>();
    private final List<ObjectNode> entries = new ArrayList<>();
    private final Set<String> names = new HashSet<>();
    private int eventCounter;

    private CorpusGenerator(Path mappings) throws IOException {
        if (mappings == null) return; // the ERP corpus needs no events
        // raw Stripe events (API 2024-06-20); the stripe/<mapping>.fixtures are intermediate-shape inputs, not events
        bases.put(PAID, read(mappings.resolve("stripe/normalise-2024.fixtures/invoice-paid.input.json")));
        bases.put(FAILED, read(mappings.resolve("stripe/normalise-2024.fixtures/invoice-payment-failed.input.json")));
        bases.put(FINALIZED, read(mappings.resolve("stripe/normalise-2024.fixtures/invoice-finalized.input.json")));
        bases.put(REFUNDED, read(mappings.resolve("stripe/normalise-2024.fixtures/refund-created.input.json")));
        Path root = mappings.toAbsolutePath().getParent();
        bases.put(CHARGE_REFUNDED, read(root.resolve("src/test/resources/stripe/2024-06-20/charge-refunded.json")));
    }

    public static void main(String[] args) throws IOException {
        Path root = args.length > 0 ? Path.of(args[0]) : Path.of(".");
        List<String> webhook = webhookLines(root.resolve("mappings"));
        List<String> erp = erpLines();
        write(root.resolve(RESOURCES).resolve(WEBHOOK_RESOURCE), webhook);
        write(root.resolve(RESOURCES).resolve(ERP_RESOURCE), erp);
        System.out.println("billing webhook corpus: " + webhook.size() + " entries " + countByCategory(webhook));
        System.out.println("ERP answer corpus: " + erp.size() + " entries " + countByCategory(erp));
    }

    /** The webhook corpus, one JSON object per line, exactly as written to the file. */
    public static List<String> webhookLines(Path mappings) throws IOException {
        CorpusGenerator g = new CorpusGenerator(mappings);
        g.generateWebhookCorpus();
        return g.lines();
    }

    /** The ERP answer corpus, one JSON object per line, exactly as written to the file. */
    public static List<String> erpLines() throws IOException {
        CorpusGenerator g = new CorpusGenerator(null);
        g.generateErpCorpus();
        return g.lines();
    }

    static Map<String, Integer> countByCategory(List<String> lines) throws IOException {
        Map<String, Integer> counts = new TreeMap<>();
        for (String l : lines) counts.merge(JSON.readTree(l).path("category").asText(), 1, Integer::sum);
        return counts;
    }

    private List<String> lines() throws IOException {
        List<String> out = new ArrayList<>();
        for (ObjectNode e : entries) out.add(JSON.writeValueAsString(e));
        return out;
    }

    private static void write(Path file, List<String> lines) throws IOException {
        Files.createDirectories(file.getParent());
        Files.writeString(file, String.join("\n", lines) + "\n", StandardCharsets.UTF_8);
    }

    // =============================================================================================== webhook corpus

    private void generateWebhookCorpus() throws IOException {
        signatures();
        headers();
        malformedJson();
        truncations();
        byteFlips();
        invalidUtf8();
        missingAndWrongTypedFields();
        amounts();
        totals();
        deepNesting();
        hugeBodies();
        unknownTypes();
        unknownLegalEntities();
        eventIds();
        replays();
        structure();
        envelope();
        dates();
        currencies();
        identifiers();
        duplicateKeys();
    }

    // ---------------------------------------------------------------------------------------------- signatures

    private void signatures() {
        String c = "signature";
        refuse(c, "no-signature-header", paid(), "none", 400, "missing Stripe-Signature header", null);
        for (String blank : List.of("", " ", "\t", "   ")) {
            refuse(c, "blank-signature-header-" + blank.length() + (blank.contains("\t") ? "-tab" : ""), paid(),
                    "garbage-header", 400, "missing Stripe-Signature header", e -> e.put("signatureHeader", blank));
        }
        for (int i = 0; i < 4; i++) {
            ObjectNode ev = event(KINDS.get(i), "DE01");
            refuse(c, "wrong-secret-" + KINDS.get(i), ev, "wrong-secret", 400, "no v1 signature matches", null);
        }
        for (long age : new long[]{301, 330, 600, 3600, 86_400, 31_536_000}) {
            refuse(c, "stale-" + age + "s", paid(), "stale", 400, "outside the tolerance", e -> e.put("tOffset", -age));
        }
        for (long age : new long[]{305, 330, 600, 3600, 86_400, 31_536_000}) {
            refuse(c, "future-" + age + "s", paid(), "future", 400, "outside the tolerance", e -> e.put("tOffset", age));
        }
        for (long t : new long[]{0, 1, -1, 1_000_000_000L, 99_999_999_999L, Long.MAX_VALUE, Long.MIN_VALUE, Long.MIN_VALUE + 1}) {
            refuse(c, "absolute-timestamp-" + t, paid(), "valid", 400, "outside the tolerance", e -> e.put("tAbsolute", t));
        }
        String[] garbage = {
                "garbage", "t", "v1", "=", ",", ",,,,,,", "=,=,=", "t=", "v1=", "t=,v1=", "t=abc,v1=abc",
                "t=1.5e9,v1=00", "t=0x6553f100,v1=00", "t=99999999999999999999,v1=00", "t=-,v1=00",
                "t=123", "v1=" + "ab".repeat(32), "t=1700000000;v1=" + "ab".repeat(32), "t:1700000000,v1:" + "ab".repeat(32),
                "T=1700000000,V1=" + "ab".repeat(32), "t=ÿÿÿ,v1=ÿÿ", "Bearer abc", "sha256=" + "ab".repeat(32),
                "t=1700000000,v1=" + "zz".repeat(32), "\"t=1700000000,v1=00\"", "t = , v1 = ",
        };
        for (int i = 0; i < garbage.length; i++) {
            String h = garbage[i];
            refuse(c, "garbage-header-" + i, paid(), "garbage-header", 400, null, e -> e.put("signatureHeader", h));
        }
        String[][] templates = {
                {"v1-non-hex", "t={t},v1=" + "zz".repeat(32), "no v1 signature matches"},
                {"v1-odd-length", "t={t},v1=abc", "no v1 signature matches"},
                {"v1-63-hex", "t={t},v1=" + "a".repeat(63), "no v1 signature matches"},
                {"v1-65-hex", "t={t},v1=" + "a".repeat(65), "no v1 signature matches"},
                {"v1-empty", "t={t},v1=", "no v1 signature matches"},
                {"v1-doubled", "t={t},v1={v1}{v1}", "no v1 signature matches"},
                {"v1-0x-prefix", "t={t},v1=0x{v1}", "no v1 signature matches"},
                {"v1-quoted", "t={t},v1=\"{v1}\"", "no v1 signature matches"},
                {"v1-for-other-timestamp", "t={t},v1={v1stale}", "no v1 signature matches"},
                {"stale-timestamp-fresh-signature", "t={tstale},v1={v1}", "no v1 signature matches"},
                {"only-v0", "t={t},v0={v1}", "has no v1 signature"},
                {"only-v2", "t={t},v2={v1}", "has no v1 signature"},
                {"scheme-uppercase", "t={t},V1={v1}", "has no v1 signature"},
                {"no-timestamp", "v1={v1}", "has no timestamp"},
                {"timestamp-key-uppercase", "T={t},v1={v1}", "has no timestamp"},
                {"timestamp-not-number", "t={t}x,v1={v1}", "is not a number"},
                {"two-timestamps-stale-last", "t={t},t={tstale},v1={v1}", null},
                {"wrong-secret-only-among-many", "t={t},v1={v1wrong},v1={v1wrong},v1=" + "00".repeat(32), "no v1 signature matches"},
                {"many-bogus-v1-no-valid", "t={t}" + ",v1=00".repeat(90), "no v1 signature matches"},
                {"many-bogus-64-hex-v1", "t={t}" + (",v1=" + "0f".repeat(32)).repeat(100), "no v1 signature matches"},
                {"separator-semicolon", "t={t};v1={v1}", null},
                {"separator-space", "t={t} v1={v1}", null},
                {"newline-escaped", "t={t}\\n,v1={v1}", null},
        };
        for (String[] t : templates) {
            refuse(c, t[0], paid(), "template", 400, t[2], e -> e.put("signatureTemplate", t[1]));
        }
        // the body was changed after signing
        String[][] tampers = {{"appended-space", "append"}, {"amount-changed", "amount"}, {"entity-changed", "entity"},
                {"pretty-printed", "pretty"}, {"last-byte-dropped", "drop"}, {"type-changed", "type"}};
        for (String[] t : tampers) {
            ObjectNode ev = paid();
            byte[] signed = bytes(ev);
            byte[] sent = switch (t[1]) {
                case "append" -> concat(signed, " ".getBytes(StandardCharsets.UTF_8));
                case "amount" -> bytes(set(ev.deepCopy(), "data.object.amount_paid", new IntNode(1)));
                case "entity" -> bytes(set(ev.deepCopy(), "data.object.metadata.legal_entity", new TextNode("US01")));
                case "pretty" -> pretty(ev);
                case "drop" -> java.util.Arrays.copyOf(signed, signed.length - 1);
                default -> bytes(set(ev.deepCopy(), "type", new TextNode(FAILED)));
            };
            ObjectNode e = entry(c, "tampered-" + t[0], "4xx", id(ev), "tampered").put("expectStatus", 400)
                    .put("expectReason", "no v1 signature matches");
            e.put("signedBodyBase64", b64(signed));
            body(e, sent);
        }
        for (int i = 0; i < 6; i++) {
            ObjectNode ev = event(KINDS.get(i % 4), "DE01");
            byte[] signed = bytes(ev);
            byte[] sent = signed.clone();
            int at = random.nextInt(sent.length);
            sent[at] = (byte) (sent[at] == 'x' ? 'y' : 'x');
            ObjectNode e = entry(c, "tampered-random-byte-" + i, "4xx", id(ev), "tampered").put("expectStatus", 400)
                    .put("expectReason", "no v1 signature matches");
            e.put("signedBodyBase64", b64(signed));
            body(e, sent);
        }
        // tolerated: what Stripe's scheme allows must still be accepted
        String ct = "signature-tolerated";
        accept(ct, "fresh-within-tolerance-past", paid(), "valid", e -> e.put("tOffset", -240));
        accept(ct, "fresh-within-tolerance-clock-skew-ahead", paid(), "valid", e -> e.put("tOffset", 60));
        accept(ct, "valid-among-bogus-v1", paid(), "template",
                e -> e.put("signatureTemplate", "t={t}" + ",v1=00".repeat(40) + ",v1={v1}"));
        accept(ct, "valid-after-wrong-secret-v1", paid(), "template", e -> e.put("signatureTemplate", "t={t},v1={v1wrong},v1={v1}"));
        accept(ct, "extra-v0-scheme", paid(), "template", e -> e.put("signatureTemplate", "t={t},v1={v1},v0=" + "ab".repeat(32)));
        accept(ct, "spaces-around-parts", paid(), "template", e -> e.put("signatureTemplate", " t={t} , v1={v1} "));
        accept(ct, "unknown-parts-ignored", paid(), "template", e -> e.put("signatureTemplate", "t={t},x=1,v1={v1},foo"));
        accept(ct, "pretty-printed-body-signed-as-sent", paid(), "valid", null, true);
        // as Stripe's own libraries do: the timestamp is read as a number, the last t= wins
        accept(ct, "timestamp-plus-sign", paid(), "template", e -> e.put("signatureTemplate", "t=+{t},v1={v1}"));
        accept(ct, "timestamp-leading-zero", paid(), "template", e -> e.put("signatureTemplate", "t=0{t},v1={v1}"));
        accept(ct, "two-timestamps-fresh-last", paid(), "template", e -> e.put("signatureTemplate", "t={tstale},t={t},v1={v1}"));
    }

    // ---------------------------------------------------------------------------------------------- headers

    private void headers() {
        String c = "headers";
        // larger than the HTTP server's 8 KiB header limit: refused by the server before the route runs
        for (int size : new int[]{9_000, 16_384, 65_536, 262_144}) {
            ObjectNode e = refuse(c, "oversized-header-x-pad-" + size, paid(), "valid", 431, HEADERS_TOO_LARGE, null)
                    .put("httpLayer", true);
            headers(e).set("X-Pad", recipe("a", size));
        }
        for (int size : new int[]{9_000, 20_000, 100_000}) {
            refuse(c, "oversized-stripe-signature-" + size, paid(), "template", 431, HEADERS_TOO_LARGE,
                    e -> e.put("httpLayer", true).set("signatureTemplate", parts(textPart("t={t}"), repeatPart(",v1=00", size / 6))));
        }
        {
            ObjectNode e = refuse(c, "too-many-headers-400", paid(), "valid", 431, HEADERS_TOO_LARGE, null)
                    .put("httpLayer", true);
            for (int i = 0; i < 400; i++) headers(e).put("X-H-" + i, "v".repeat(40));
        }
        {
            ObjectNode e = accept(c, "many-headers-within-limit", paid(), "valid", null);
            for (int i = 0; i < 60; i++) headers(e).put("X-H-" + i, "v".repeat(40));
        }
        {
            ObjectNode e = accept(c, "header-just-under-limit", paid(), "valid", null);
            headers(e).set("X-Pad", recipe("a", 6_500));
        }
        String[] correlation = {"../../etc/passwd", "<script>alert(1)</script>", "' OR '1'='1", "a".repeat(101),
                "${jndi:ldap://127.0.0.1/x}", "%0d%0aSet-Cookie:x=1", "ÿþ", " "};
        for (int i = 0; i < correlation.length; i++) {
            ObjectNode e = accept(c, "hostile-correlation-id-" + i, paid(), "valid", null);
            headers(e).put("X-Correlation-Id", correlation[i]);
        }
        // the body must be JSON: other media types are refused before anything else is looked at
        String[] mediaTypes = {"text/plain", "application/xml", "text/xml", "application/octet-stream", "text/html",
                "application/json-patch", "application/jsonx", "image/png", "application/json; charset=utf-16",
                "application/json; charset=iso-8859-1", "*/*", "json"};
        for (int i = 0; i < mediaTypes.length; i++) {
            ObjectNode e = refuse(c, "content-type-" + slug(mediaTypes[i]), paid(), "valid", 415, "Content-Type", null);
            headers(e).put("Content-Type", mediaTypes[i]);
        }
        {
            ObjectNode e = refuse(c, "content-type-missing", paid(), "valid", 415, "Content-Type", null);
            headers(e).putNull("Content-Type");
        }
        // form media types make the HTTP server decode the body as a form before the route runs
        for (String form : List.of("application/x-www-form-urlencoded", "multipart/form-data; boundary=xyz")) {
            ObjectNode e = refuse(c, "content-type-" + slug(form), paid(), "valid", null, null, null).put("httpLayer", true);
            headers(e).put("Content-Type", form);
        }
        String[] jsonTypes = {"application/json", "application/json;charset=UTF-8", "Application/JSON; charset=\"utf-8\""};
        for (int i = 0; i < jsonTypes.length; i++) {
            ObjectNode e = accept(c, "content-type-json-variant-" + i, paid(), "valid", null);
            headers(e).put("Content-Type", jsonTypes[i]);
        }
        {
            ObjectNode ev = paid();
            byte[] gz = gzip(bytes(ev));
            ObjectNode e = entry(c, "gzip-body-content-encoding", "4xx", id(ev), "valid").put("expectStatus", 400);
            headers(e).put("Content-Encoding", "gzip");
            body(e, gz);
        }
        {
            ObjectNode ev = paid();
            ObjectNode e = entry(c, "gzip-body-no-content-encoding", "4xx", id(ev), "valid").put("expectStatus", 400);
            body(e, gzip(bytes(ev)));
        }
        for (String method : List.of("GET", "PUT", "DELETE", "PATCH")) {
            ObjectNode e = refuse(c, "method-" + method, paid(), "valid", 405, "method not allowed", null)
                    .put("httpLayer", true);
            e.put("method", method);
        }
        List<String> paths = List.of("/webhooks/billing/x", "/webhooks/BILLING", "/webhooks/billing;x=1");
        for (int i = 0; i < paths.size(); i++) {
            String path = paths.get(i);
            ObjectNode e = refuse(c, "path-" + i + "-" + slug(path), paid(), "valid", 404, "no such endpoint", null)
                    .put("httpLayer", true);
            e.put("path", path);
        }
        // normalised by the HTTP server (RFC 3986): the same endpoint
        String[][] normalised = {{"trailing-slash", "/webhooks/billing/"}, {"double-slash", "/webhooks//billing"},
                {"percent-encoded-letter", "/webhooks/%62illing"}, {"dot-segment", "/webhooks/./billing"}};
        for (String[] n : normalised) {
            ObjectNode e = accept(c, "path-normalised-" + n[0], paid(), "valid", null);
            e.put("path", n[1]);
        }
        {
            ObjectNode e = accept(c, "query-string-ignored", paid(), "valid", null);
            e.put("path", "/webhooks/billing?foo=bar&x=%00");
        }
        {
            ObjectNode e = accept(c, "chunked-transfer-encoding", paid(), "valid", null);
            e.put("chunked", true);
        }
    }

    // ---------------------------------------------------------------------------------------------- malformed JSON

    private void malformedJson() {
        String c = "malformed-json";
        refuseRaw(c, "empty-body", new byte[0], null, 400, "empty body");
        String id = newEventId();
        String ok = "\"id\":\"" + id + "\",\"type\":\"invoice.paid\"";
        String[][] texts = {
                {"whitespace-only", "   \n\t  "}, {"null", "null"}, {"true", "true"}, {"number", "123"},
                {"string", "\"evt\""}, {"array-empty", "[]"}, {"array-of-event", "[{" + ok + "}]"},
                {"open-brace", "{"}, {"close-brace", "}"}, {"braces-reversed", "}{"}, {"open-bracket", "["},
                {"trailing-comma", "{" + ok + ",}"}, {"leading-comma", "{," + ok + "}"}, {"double-comma", "{" + ok.replace(",", ",,") + "}"},
                {"single-quotes", "{'id':'" + id + "','type':'invoice.paid'}"},
                {"unquoted-keys", "{id:\"" + id + "\",type:\"invoice.paid\"}"},
                {"comment-line", "{// c\n" + ok + "}"}, {"comment-block", "{/* c */" + ok + "}"},
                {"hash-comment", "{# c\n" + ok + "}"}, {"nan", "{" + ok + ",\"created\":NaN}"},
                {"infinity", "{" + ok + ",\"created\":Infinity}"}, {"minus-infinity", "{" + ok + ",\"created\":-Infinity}"},
                {"leading-zero", "{" + ok + ",\"created\":0123}"}, {"hex-number", "{" + ok + ",\"created\":0x10}"},
                {"plus-number", "{" + ok + ",\"created\":+1}"}, {"dot-number", "{" + ok + ",\"created\":.5}"},
                {"trailing-dot-number", "{" + ok + ",\"created\":1.}"}, {"exponent-only", "{" + ok + ",\"created\":1e}"},
                {"number-41-digits", "{" + ok + ",\"created\":" + "9".repeat(41) + "}"},
                {"number-1000-digits", "{" + ok + ",\"created\":" + "7".repeat(1000) + "}"},
                {"trailing-garbage", "{" + ok + "}x"}, {"two-objects", "{" + ok + "}{" + ok + "}"},
                {"object-then-array", "{" + ok + "}[]"}, {"missing-colon", "{\"id\" \"" + id + "\"}"},
                {"missing-value", "{\"id\":}"}, {"missing-quote-key", "{\"id:\"" + id + "\"}"},
                {"unterminated-string", "{\"id\":\"" + id}, {"unterminated-string-closed-brace", "{\"id\":\"" + id + "}"},
                {"invalid-escape", "{\"id\":\"\\x41\",\"type\":\"invoice.paid\"}"},
                {"short-unicode-escape", "{\"id\":\"\\u12\",\"type\":\"invoice.paid\"}"},
                {"raw-newline-in-string", "{\"id\":\"a\nb\",\"type\":\"invoice.paid\"}"},
                {"raw-tab-in-string", "{\"id\":\"a\tb\",\"type\":\"invoice.paid\"}"},
                {"raw-nul-in-string", "{\"id\":\"a\u0000b\",\"type\":\"invoice.paid\"}"},
                {"raw-nul-between-tokens", "{\u0000" + ok + "}"}, {"raw-control-char", "{\"id\":\"a\u0001b\"}"},
                {"bare-word", "evt_123"}, {"undefined-value", "{" + ok + ",\"data\":undefined}"},
                {"true-capitalised", "{" + ok + ",\"livemode\":True}"}, {"null-capitalised", "{" + ok + ",\"data\":Null}"},
                {"key-not-string", "{1:\"a\"}"}, {"key-null", "{null:\"a\"}"}, {"array-as-key", "{[1]:\"a\"}"},
                {"colon-instead-of-comma", "{\"id\":\"" + id + "\":\"type\":\"invoice.paid\"}"},
                {"xml-body", "<event><id>" + id + "</id></event>"},
                {"form-body", "id=" + id + "&type=invoice.paid"},
                {"yaml-body", "id: " + id + "\ntype: invoice.paid\n"},
                {"jsonp", "callback({" + ok + "})"}, {"json-lines", "{" + ok + "}\n{" + ok + "}\n"},
                {"quoted-json", "\"{\\\"id\\\":\\\"" + id + "\\\"}\""},
                {"unclosed-nested", "{" + ok + ",\"data\":{\"object\":{\"id\":\"in_1\"}"},
                {"extra-close", "{" + ok + "}}"}, {"mismatched-brackets", "{" + ok + ",\"data\":[}"},
                {"empty-key-only", "{\"\":}"}, {"nbsp-whitespace", "{\u00a0" + ok + "}"},
                {"zero-width-space", "{\u200b" + ok + "}"}, {"line-separator", "{\u2028" + ok + "}"},
                {"fullwidth-braces", "\uff5b" + ok + "\uff5d"}, {"smart-quotes", "{\u201cid\u201d:\u201c" + id + "\u201d}"},
        };
        for (String[] t : texts) {
            refuseRaw(c, t[0], t[1].getBytes(StandardCharsets.UTF_8), t[1].contains(id) ? id : null, 400, null);
        }
    }

    // ---------------------------------------------------------------------------------------------- truncation

    private void truncations() {
        String c = "truncated";
        for (String kind : KINDS) {
            for (boolean prettyPrinted : new boolean[]{false, true}) {
                ObjectNode ev = event(kind, "DE01");
                if (kind.equals(FINALIZED)) set(ev, "data.object.customer_name", new TextNode("Müller Straße 株式会社 😀"));
                byte[] full = prettyPrinted ? pretty(ev) : bytes(ev);
                Set<Integer> offsets = new java.util.TreeSet<>(List.of(1, 2, full.length / 2, full.length - 2, full.length - 1));
                while (offsets.size() < 20) offsets.add(1 + random.nextInt(full.length - 1));
                for (int at : offsets) {
                    byte[] cut = java.util.Arrays.copyOf(full, at);
                    String name = "truncated-" + kind + (prettyPrinted ? "-pretty" : "") + "-at-" + at;
                    ObjectNode e = entry(c, name, "4xx", new String(cut, StandardCharsets.ISO_8859_1).contains(id(ev)) ? id(ev) : null,
                            "valid").put("expectStatus", 400);
                    body(e, cut);
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- byte flips

    private void byteFlips() {
        String c = "byte-flip";
        int made = 0;
        int attempt = 0;
        while (made < 100) {
            ObjectNode ev = event(KINDS.get(attempt++ % 4), "DE01");
            byte[] b = bytes(ev);
            int flips = 1 + random.nextInt(3);
            for (int i = 0; i < flips; i++) {
                int at = random.nextInt(b.length);
                b[at] = (byte) (b[at] ^ (1 << random.nextInt(8)));
            }
            if (readable(b)) continue; // still a readable event: its outcome depends on the field hit; not kept
            ObjectNode e = entry(c, "flip-" + made + "-" + flips + "-bytes", "4xx",
                    new String(b, StandardCharsets.ISO_8859_1).contains(id(ev)) ? id(ev) : null, "valid")
                    .put("expectStatus", 400);
            body(e, b);
            made++;
        }
        for (int i = 0; i < 60; i++) {
            ObjectNode ev = event(KINDS.get(i % 4), "DE01");
            byte[] signed = bytes(ev);
            byte[] sent = signed.clone();
            int at = random.nextInt(sent.length);
            sent[at] = (byte) (sent[at] ^ (1 << random.nextInt(8)));
            ObjectNode e = entry(c, "flip-after-signing-" + i, "4xx", id(ev), "tampered").put("expectStatus", 400)
                    .put("expectReason", "no v1 signature matches");
            e.put("signedBodyBase64", b64(signed));
            body(e, sent);
        }
    }

    // ---------------------------------------------------------------------------------------------- invalid UTF-8

    private void invalidUtf8() {
        String c = "invalid-utf8";
        Map<String, byte[]> sequences = new LinkedHashMap<>();
        sequences.put("ff", new byte[]{(byte) 0xFF});
        sequences.put("fe", new byte[]{(byte) 0xFE});
        sequences.put("overlong-nul-c080", new byte[]{(byte) 0xC0, (byte) 0x80});
        sequences.put("overlong-slash-c0af", new byte[]{(byte) 0xC0, (byte) 0xAF});
        sequences.put("overlong-3-byte-e08080", new byte[]{(byte) 0xE0, (byte) 0x80, (byte) 0x80});
        sequences.put("surrogate-high-eda080", new byte[]{(byte) 0xED, (byte) 0xA0, (byte) 0x80});
        sequences.put("surrogate-low-edbfbf", new byte[]{(byte) 0xED, (byte) 0xBF, (byte) 0xBF});
        sequences.put("above-10ffff-f4908080", new byte[]{(byte) 0xF4, (byte) 0x90, (byte) 0x80, (byte) 0x80});
        sequences.put("five-byte-f888808080", new byte[]{(byte) 0xF8, (byte) 0x88, (byte) 0x80, (byte) 0x80, (byte) 0x80});
        sequences.put("lone-continuation-80", new byte[]{(byte) 0x80});
        sequences.put("truncated-2-byte-c3", new byte[]{(byte) 0xC3});
        sequences.put("truncated-3-byte-e282", new byte[]{(byte) 0xE2, (byte) 0x82});
        sequences.put("truncated-4-byte-f09f98", new byte[]{(byte) 0xF0, (byte) 0x9F, (byte) 0x98});
        sequences.put("latin1-u-umlaut-fc", new byte[]{(byte) 0xFC});
        sequences.put("cesu8-emoji", new byte[]{(byte) 0xED, (byte) 0xA0, (byte) 0xBD, (byte) 0xED, (byte) 0xB8, (byte) 0x80});
        List<String> fields = List.of("data.object.customer_name", "data.object.metadata.legal_entity", "data.object.customer",
                "data.object.number");
        int i = 0;
        for (Map.Entry<String, byte[]> s : sequences.entrySet()) {
            for (int f = 0; f < 2; f++) {
                String field = fields.get((i + f) % fields.size());
                ObjectNode ev = paid();
                String marker = "MARKER" + i + "X" + f;
                set(ev, field, new TextNode(marker));
                byte[] b = replace(bytes(ev), marker.getBytes(StandardCharsets.US_ASCII),
                        concat("ab".getBytes(StandardCharsets.US_ASCII), s.getValue()));
                ObjectNode e = entry(c, "utf8-" + s.getKey() + "-in-" + field.substring(field.lastIndexOf('.') + 1), "4xx",
                        id(ev), "valid").put("expectStatus", 400).put("expectReason", "UTF-8");
                body(e, b);
            }
            i++;
        }
        // whole-body encodings other than UTF-8 (RFC 8259: JSON between systems is UTF-8, without a byte order mark)
        ObjectNode ev;
        byte[] utf8;
        String[] encodings = {"UTF-16LE", "UTF-16BE", "UTF-16", "UTF-32LE", "UTF-32BE"};
        for (String enc : encodings) {
            ev = paid();
            ObjectNode e = entry(c, "body-encoded-" + enc, "4xx", id(ev), "valid").put("expectStatus", 400);
            body(e, new String(bytes(ev), StandardCharsets.UTF_8).getBytes(java.nio.charset.Charset.forName(enc)));
        }
        for (String enc : List.of("UTF-16LE", "UTF-16BE")) {
            ev = paid();
            byte[] bom = enc.endsWith("LE") ? new byte[]{(byte) 0xFF, (byte) 0xFE} : new byte[]{(byte) 0xFE, (byte) 0xFF};
            ObjectNode e = entry(c, "body-encoded-" + enc + "-with-bom", "4xx", id(ev), "valid").put("expectStatus", 400);
            body(e, concat(bom, new String(bytes(ev), StandardCharsets.UTF_8).getBytes(java.nio.charset.Charset.forName(enc))));
        }
        ev = paid();
        utf8 = bytes(ev);
        ObjectNode bomEntry = entry(c, "utf8-bom-prefix", "4xx", id(ev), "valid").put("expectStatus", 400);
        body(bomEntry, concat(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, utf8));
        ev = paid();
        ObjectNode doubleBom = entry(c, "utf8-double-bom-prefix", "4xx", id(ev), "valid").put("expectStatus", 400);
        body(doubleBom, concat(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, (byte) 0xEF, (byte) 0xBB, (byte) 0xBF}, bytes(ev)));
        ev = paid();
        ObjectNode latin1 = entry(c, "latin1-encoded-body", "4xx", id(ev), "valid").put("expectStatus", 400)
                .put("expectReason", "UTF-8");
        set(ev, "data.object.customer_name", new TextNode("Müller Straße"));
        body(latin1, new String(bytes(ev), StandardCharsets.UTF_8).getBytes(StandardCharsets.ISO_8859_1));
        // valid UTF-8 beyond ASCII is fine
        ev = paid();
        set(ev, "data.object.customer_name", new TextNode("Müller Straße 株式会社 😀 \u202e"));
        accept("valid-utf8", "non-ascii-customer-name", ev, "valid", null);
        ev = paid();
        set(ev, "data.object.account_name", new TextNode("\\u0000 escaped nul is just text"));
        accept("valid-utf8", "escaped-control-characters-in-unmapped-field", ev, "valid", null);
    }

    // ---------------------------------------------------------------------------------------------- fields

    /**
     * Every field the edge reads of the four bases, per event type: the event's own (id, type, created, data.object),
     * and the object's fields the mappings and the legal-entity chain read, as mappings/stripe/field-types.csv declares
     * them. How each is judged is {@link #FIELD_SPECS}.
     */
    private static final Map<String, List<String>> FIELDS = Map.of(
            PAID, List.of("id", "type", "created", "data", "data.object", "data.object.id", "data.object.number",
                    "data.object.customer", "data.object.currency", "data.object.amount_paid", "data.object.metadata",
                    "data.object.metadata.legal_entity"),
            FAILED, List.of("id", "type", "created", "data.object", "data.object.id", "data.object.number",
                    "data.object.customer", "data.object.currency", "data.object.amount_due",
                    "data.object.metadata.legal_entity"),
            FINALIZED, List.of("id", "type", "created", "data.object", "data.object.id", "data.object.number",
                    "data.object.customer", "data.object.currency", "data.object.status", "data.object.subtotal",
                    "data.object.total", "data.object.lines", "data.object.lines.data", "data.object.lines.data[0].id",
                    "data.object.lines.data[0].amount", "data.object.total_tax_amounts[0].amount",
                    "data.object.metadata.legal_entity"),
            REFUNDED, List.of("id", "type", "created", "data.object", "data.object.id", "data.object.amount",
                    "data.object.charge", "data.object.payment_intent", "data.object.currency", "data.object.status",
                    "data.object.metadata", "data.object.metadata.legal_entity"));

    /**
     * How a field is judged. {@code type}: the event's own fields ({@code envelope}: any change is refused with
     * {@code reason}), or a type of field-types.csv. {@code nullable} / {@code required} as field-types.csv declares
     * them. {@code absent}: what an event gets without the field (or with null where null is allowed): a mapping's
     * {@code required()} or the legal-entity chain parks it, or it is accepted. {@code empty}: what a blank string or an
     * empty object or array of the right type gets (null: accepted).
     */
    private record FieldSpec(String type, boolean nullable, boolean required, Expect absent, Expect empty, String reason) {
        static FieldSpec envelope(String reason) {
            return new FieldSpec("envelope", false, true, null, null, reason);
        }

        static FieldSpec field(String type, boolean nullable, boolean required, Expect absent, Expect empty) {
            return new FieldSpec(type, nullable, required, absent, empty, null);
        }
    }

    private static Expect gap(String path) {
        return Expect.parked("missing required field (" + path + ")");
    }

    private static final Map<String, FieldSpec> FIELD_SPECS = fieldSpecs();

    private static Map<String, FieldSpec> fieldSpecs() {
        Map<String, FieldSpec> m = new LinkedHashMap<>();
        m.put("id", FieldSpec.envelope("missing required field id"));
        m.put("type", FieldSpec.envelope("missing required field type"));
        m.put("created", FieldSpec.envelope("created"));
        m.put("data", FieldSpec.envelope("data.object"));
        m.put("data.object", FieldSpec.envelope("data.object"));
        Expect noEntity = Expect.parked(NO_ENTITY);
        Expect noLines = Expect.parked(NO_LINES);
        m.put("data.object.id", FieldSpec.field("text", false, true, null, null));
        m.put("data.object.number", FieldSpec.field("text", true, false, gap("data.object.number"), null));
        // a guest invoice has no customer at Stripe: keyed by the global customer id of the metadata
        m.put("data.object.customer", FieldSpec.field("expandable", true, false, Expect.ACCEPTED, null));
        m.put("data.object.currency", FieldSpec.field("text", false, true, null, null));
        m.put("data.object.status", FieldSpec.field("text", true, false, gap("data.object.status"), null));
        m.put("data.object.amount_paid", FieldSpec.field("integer", false, false, gap("data.object.amount_paid"), null));
        m.put("data.object.amount_due", FieldSpec.field("integer", false, false, gap("data.object.amount_due"), null));
        m.put("data.object.subtotal", FieldSpec.field("integer", false, false, gap("data.object.subtotal"), null));
        m.put("data.object.total", FieldSpec.field("integer", false, false, gap("data.object.total"), null));
        m.put("data.object.amount", FieldSpec.field("integer", false, true, null, null));
        m.put("data.object.lines", FieldSpec.field("object", false, false, noLines, noLines));
        m.put("data.object.lines.data", FieldSpec.field("array", false, false, noLines, noLines));
        m.put("data.object.lines.data[0].id", FieldSpec.field("text", false, true, null, null));
        m.put("data.object.lines.data[0].amount", FieldSpec.field("integer", false, true, null, null));
        m.put("data.object.total_tax_amounts[0].amount", FieldSpec.field("integer", false, true, null, null));
        // a refund names its charge, its PaymentIntent, or both
        m.put("data.object.charge", FieldSpec.field("expandable", true, false, Expect.ACCEPTED, null));
        m.put("data.object.payment_intent", FieldSpec.field("expandable", true, false, Expect.ACCEPTED, null));
        // no metadata, or no legal_entity in it (metadata values are strings, blank ones name nothing): no entity
        m.put("data.object.metadata", FieldSpec.field("object", true, false, noEntity, noEntity));
        m.put("data.object.metadata.legal_entity", FieldSpec.field("string", false, false, noEntity, noEntity));
        return m;
    }

    /** What an event gets with the field at {@code path} set to {@code value} (null: removed), by {@link #FIELD_SPECS}. */
    private static Expect fieldOutcome(String path, JsonNode value) {
        FieldSpec f = FIELD_SPECS.get(path);
        if (f == null) throw new IllegalArgumentException("no field spec for " + path);
        if (f.type().equals("envelope")) return Expect.refused(f.reason());
        if (value == null) return f.required() ? Expect.refused(path) : f.absent();
        if (value.isNull()) return f.nullable() ? f.absent() : Expect.refused(path);
        boolean ok = switch (f.type()) {
            case "text" -> value.isTextual() && !value.asText().isBlank();
            case "string" -> value.isTextual();
            case "integer" -> value.isIntegralNumber() && value.canConvertToLong();
            case "object" -> value.isObject();
            case "array" -> value.isArray();
            case "expandable" -> value.isTextual() ? !value.asText().isBlank() : value.isObject() && value.path("id").isTextual();
            default -> throw new IllegalStateException(f.type());
        };
        if (!ok) return Expect.refused(path);
        boolean empty = value.isTextual() ? value.asText().isBlank() : value.isContainerNode() && value.isEmpty();
        return empty && f.empty() != null ? f.empty() : Expect.ACCEPTED;
    }

    private static final Set<String> NUMBER_FIELDS = Set.of("created", "amount_paid", "amount_due", "subtotal", "total",
            "amount");
    private static final Set<String> CONTAINER_FIELDS = Set.of("data", "data.object", "data.object.metadata",
            "data.object.lines", "data.object.lines.data");

    private void missingAndWrongTypedFields() {
        for (String kind : KINDS) {
            for (String path : FIELDS.get(kind)) {
                String leaf = path.substring(path.lastIndexOf('.') + 1).replace("[0]", "");
                expect("missing-field", kind + "-delete-" + path, remove(event(kind, "DE01"), path), fieldOutcome(path, null));
                expect("null-field", kind + "-null-" + path, set(event(kind, "DE01"), path, NullNode.instance),
                        fieldOutcome(path, NullNode.instance));
                Map<String, JsonNode> wrong = new LinkedHashMap<>();
                if (CONTAINER_FIELDS.contains(path)) {
                    wrong.put("string", new TextNode("object"));
                    wrong.put("number", new IntNode(1));
                    wrong.put("boolean", BooleanNode.TRUE);
                    wrong.put(path.endsWith("lines.data") ? "object" : "array", path.endsWith("lines.data")
                            ? JSON.createObjectNode().put("id", "il_1").put("amount", 10000) : JSON.createArrayNode().add(1));
                    wrong.put("empty-" + (path.endsWith("lines.data") ? "array" : "object"),
                            path.endsWith("lines.data") ? JSON.createArrayNode() : JSON.createObjectNode());
                } else if (NUMBER_FIELDS.contains(leaf)) {
                    // JSLT arithmetic would read digit strings as numbers ("11900" - 2380 is 9520): Stripe sends integers
                    wrong.put("string-digits", new TextNode("11900"));
                    wrong.put("string-text", new TextNode("eleven thousand"));
                    wrong.put("empty-string", new TextNode(""));
                    wrong.put("boolean", BooleanNode.TRUE);
                    wrong.put("array", JSON.createArrayNode().add(11900));
                    wrong.put("object", JSON.createObjectNode().put("value", 11900));
                    wrong.put("float", new DoubleNode(119.5));
                } else {
                    wrong.put("blank", new TextNode("   "));
                    wrong.put("empty-string", new TextNode(""));
                    wrong.put("number", new IntNode(12345));
                    wrong.put("float", new DoubleNode(1.5));
                    wrong.put("boolean", BooleanNode.FALSE);
                    wrong.put("array", JSON.createArrayNode().add("x"));
                    // an expandable field (customer, charge, payment_intent) may be the object itself: then it is fine
                    wrong.put("object", JSON.createObjectNode().put("id", "x"));
                }
                for (Map.Entry<String, JsonNode> w : wrong.entrySet()) {
                    ObjectNode ev = event(kind, "DE01");
                    set(ev, path, w.getValue());
                    expect("wrong-type", kind + "-" + path + "-as-" + w.getKey(), ev, fieldOutcome(path, w.getValue()));
                }
            }
        }
    }

    // ---------------------------------------------------------------------------------------------- amounts

    private void amounts() {
        String c = "amounts";
        Map<String, String> single = new LinkedHashMap<>();
        single.put(PAID, "data.object.amount_paid");
        single.put(REFUNDED, "data.object.amount");
        Map<String, JsonNode> hostile = new LinkedHashMap<>();
        hostile.put("negative-1", new IntNode(-1));
        hostile.put("negative-total", new IntNode(-11900));
        hostile.put("negative-long-min", new LongNode(Long.MIN_VALUE));
        hostile.put("long-max", new LongNode(Long.MAX_VALUE));
        hostile.put("long-max-plus-1", new BigIntegerNode(BigInteger.valueOf(Long.MAX_VALUE).add(BigInteger.ONE)));
        hostile.put("30-digits", new BigIntegerNode(new BigInteger("9".repeat(30))));
        hostile.put("1e14", new LongNode(100_000_000_000_000L));
        hostile.put("1e16", new LongNode(10_000_000_000_000_000L));
        hostile.put("fraction", new DoubleNode(119.5));
        hostile.put("integral-float", new DoubleNode(11900.0));
        hostile.put("exponent-notation", new DecimalNode(new BigDecimal("1.19E+4")));
        hostile.put("tiny-fraction", new DecimalNode(new BigDecimal("11900.0000001")));
        hostile.put("negative-fraction", new DoubleNode(-0.5));
        for (Map.Entry<String, String> f : single.entrySet()) {
            for (Map.Entry<String, JsonNode> h : hostile.entrySet()) {
                ObjectNode ev = event(f.getKey(), "DE01");
                set(ev, f.getValue(), h.getValue());
                JsonNode v = h.getValue();
                // a whole number that fits a long is Stripe's integer: the canonical checks judge its value
                String reason = !(v.isIntegralNumber() && v.canConvertToLong()) ? f.getValue()
                        : v.asLong() < 0 ? "is negative" : "out of range";
                refuse(c, f.getKey() + "-" + h.getKey(), ev, "valid", 400, reason, null);
            }
        }
        // a charge whose cumulative refunded amount went down would have been a negative refund; charge.refunded has no
        // effect any more (refunds come from refund.created), so nothing is judged and nothing is stored
        for (long previous : new long[]{4761, 10_000, 11_900_000}) {
            ObjectNode ev = event(CHARGE_REFUNDED, "DE01");
            set(ev, "data.previous_attributes.amount_refunded", new LongNode(previous));
            ignore(c, "charge-refunded-cumulative-amount-decreased-" + previous, ev);
        }
        {
            ObjectNode ev = event(CHARGE_REFUNDED, "DE01");
            set(ev, "data.previous_attributes.amount_refunded", new DoubleNode(0.5));
            ignore(c, "charge-refunded-previous-amount-fraction", ev);
        }
        // invoices that add up but whose amounts are out of any sane range, or fractional
        for (long factor : new long[]{1_000_000_000L, 10_000_000_000L, 922_337_203_685L}) {
            ObjectNode ev = scaledInvoice(factor);
            refuse(c, "invoice-consistent-but-scaled-x" + factor, ev, "valid", 400, "out of range", null);
        }
        {
            ObjectNode ev = finalized();
            set(ev, "data.object.lines.data[0].amount", new DoubleNode(8000.5));
            set(ev, "data.object.lines.data[1].amount", new DoubleNode(1999.5));
            refuse(c, "invoice-fractional-lines-that-add-up", ev, "valid", 400, "data.object.lines.data[0].amount", null);
        }
        {
            // lines that overflow a long when added must not wrap around into something that "adds up"
            ObjectNode ev = finalized();
            set(ev, "data.object.lines.data[0].amount", new LongNode(Long.MAX_VALUE));
            set(ev, "data.object.lines.data[1].amount", new LongNode(Long.MAX_VALUE));
            set(ev, "data.object.subtotal", new LongNode(-2));
            set(ev, "data.object.total", new LongNode(1898));
            refuse(c, "invoice-lines-overflowing-long", ev, "valid", 400, "out of range", null);
        }
        for (String field : List.of("data.object.total_tax_amounts[0].amount", "data.object.lines.data[0].tax_amounts[0].amount",
                "data.object.total_discount_amounts", "data.object.attempt_count")) {
            ObjectNode ev = field.contains("attempt") ? paid() : finalized();
            JsonNode v = field.endsWith("discount_amounts") ? JSON.createArrayNode().add(JSON.createObjectNode().put("amount", 0.25))
                    : field.contains("attempt") ? new DoubleNode(1.5) : new DoubleNode(1900.25);
            set(ev, field, v);
            refuse(c, "fraction-in-" + field.replace("data.object.", ""), ev, "valid", 400,
                    field.endsWith("discount_amounts") ? field + "[0].amount" : field, null);
        }
        for (JsonNode v : List.of(new TextNode("2"), BooleanNode.TRUE)) {
            ObjectNode ev = paid();
            set(ev, "data.object.attempt_count", v);
            refuse(c, "attempt-count-" + slug(v.toString()), ev, "valid", 400, "data.object.attempt_count", null);
        }
        {
            // Stripe's integer, but more than the canonical payment's count holds: not a sender's type error, a gap
            ObjectNode ev = paid();
            set(ev, "data.object.attempt_count", new LongNode(3_000_000_000L));
            park(c, "attempt-count-3000000000", ev, "attemptCount");
        }
        // negative invoice lines are real in Stripe (credits): posted on the other side
        {
            ObjectNode ev = event(FINALIZED, "DE01");
            set(ev, "data.object.lines.data[1].amount", new IntNode(-2000));
            set(ev, "data.object.lines.data[1].tax_amounts[0].amount", new IntNode(-380));
            set(ev, "data.object.subtotal", new IntNode(6000));
            set(ev, "data.object.total_tax_amounts[0].amount", new IntNode(1140));
            set(ev, "data.object.total_tax_amounts[0].taxable_amount", new IntNode(6000));
            set(ev, "data.object.total", new IntNode(7140));
            accept(c, "invoice-with-credit-line-that-adds-up", ev, "valid", null);
        }
    }

    private ObjectNode scaledInvoice(long factor) {
        ObjectNode ev = finalized();
        for (String p : List.of("data.object.subtotal", "data.object.total", "data.object.lines.data[0].amount",
                "data.object.lines.data[1].amount", "data.object.total_tax_amounts[0].amount",
                "data.object.total_tax_amounts[0].taxable_amount")) {
            long v = get(ev, p).asLong();
            set(ev, p, new BigIntegerNode(BigInteger.valueOf(v).multiply(BigInteger.valueOf(factor))));
        }
        return ev;
    }

    // ---------------------------------------------------------------------------------------------- totals

    /** Invoices that do not reconcile: genuine (Stripe sent them, signed), so parked for an operator, never refused. */
    private void totals() {
        String c = "totals";
        String reason = "does not add up";
        Object[][] changes = {
                {"subtotal-plus-1", "data.object.subtotal", 10001}, {"subtotal-minus-1", "data.object.subtotal", 9999},
                {"subtotal-zero", "data.object.subtotal", 0}, {"total-plus-1", "data.object.total", 11901},
                {"total-minus-1", "data.object.total", 11899}, {"total-zero", "data.object.total", 0},
                {"total-negative", "data.object.total", -11900}, {"tax-sum-off", "data.object.total_tax_amounts[0].amount", 1901},
                {"line-0-off", "data.object.lines.data[0].amount", 8001}, {"line-1-off", "data.object.lines.data[1].amount", 1999},
                {"line-1-negative", "data.object.lines.data[1].amount", -2000},
                {"subtotal-and-total-swapped-a", "data.object.subtotal", 11900},
        };
        for (Object[] ch : changes) {
            ObjectNode ev = finalized();
            set(ev, (String) ch[1], new IntNode((Integer) ch[2]));
            park(c, "invoice-" + ch[0], ev, reason);
        }
        {
            ObjectNode ev = finalized();
            ((ArrayNode) get(ev, "data.object.total_discount_amounts")).add(JSON.createObjectNode().put("amount", 500));
            park(c, "invoice-discount-not-deducted", ev, reason);
        }
        {
            ObjectNode ev = finalized();
            ((ArrayNode) get(ev, "data.object.total_tax_amounts")).removeAll();
            park(c, "invoice-tax-amounts-missing", ev, reason);
        }
        {
            ObjectNode ev = finalized();
            ((ArrayNode) get(ev, "data.object.total_tax_amounts")).add(get(ev, "data.object.total_tax_amounts[0]").deepCopy());
            park(c, "invoice-tax-amount-duplicated", ev, reason);
        }
        {
            ObjectNode ev = finalized();
            ((ArrayNode) get(ev, "data.object.lines.data")).remove(1);
            park(c, "invoice-line-missing", ev, reason);
        }
        {
            ObjectNode ev = finalized();
            ((ArrayNode) get(ev, "data.object.lines.data")).add(get(ev, "data.object.lines.data[0]").deepCopy());
            park(c, "invoice-line-duplicated", ev, reason);
        }
        {
            ObjectNode ev = finalized();
            ((ArrayNode) get(ev, "data.object.lines.data")).removeAll();
            park(c, "invoice-without-lines", ev, NO_LINES);
        }
        {
            // the rest of the lines would have to be read from Stripe's API
            ObjectNode ev = finalized();
            set(ev, "data.object.lines.has_more", BooleanNode.TRUE);
            set(ev, "data.object.lines.total_count", new IntNode(12));
            park(c, "invoice-lines-has-more", ev, "has_more");
        }
        for (int i = 0; i < 16; i++) {
            ObjectNode ev = finalized();
            String[] fields = {"data.object.subtotal", "data.object.total", "data.object.lines.data[0].amount",
                    "data.object.lines.data[1].amount", "data.object.total_tax_amounts[0].amount"};
            String f = fields[random.nextInt(fields.length)];
            long delta = (random.nextBoolean() ? 1 : -1) * (1 + random.nextInt(100_000));
            set(ev, f, new LongNode(get(ev, f).asLong() + delta));
            park(c, "invoice-random-off-" + i, ev, reason);
        }
    }

    // ---------------------------------------------------------------------------------------------- nesting

    private void deepNesting() {
        String c = "deep-nesting";
        for (int depth : new int[]{65, 100, 1_000, 10_000, 100_000, 500_000}) {
            refuseRecipe(c, "top-level-arrays-" + depth, null, parts(repeatPart("[", depth), repeatPart("]", depth)), 400, "nesting depth");
        }
        for (int depth : new int[]{65, 1_000, 50_000}) {
            refuseRecipe(c, "top-level-objects-" + depth, null,
                    parts(repeatPart("{\"a\":", depth), textPart("1"), repeatPart("}", depth)), 400, "nesting depth");
        }
        refuseRecipe(c, "unbalanced-opening-arrays-200000", null, parts(repeatPart("[", 200_000)), 400, null);
        refuseRecipe(c, "unbalanced-opening-objects-100000", null, parts(repeatPart("{\"a\":", 100_000)), 400, null);
        for (String field : List.of("data.object.metadata.nested", "data.object.lines.data[0].price.nested", "request.nested")) {
            for (int depth : new int[]{70, 1_000, 20_000}) {
                ObjectNode ev = paid();
                String name = "nested-under-" + field.replace("data.object.", "").replace("[0]", "") + "-" + depth;
                ObjectNode e = entry(c, name, "4xx", id(ev), "valid").put("expectStatus", 400).put("expectReason", "nesting depth");
                e.set("bodyRecipe", withValueAt(ev, field, repeatPart("[", depth), textPart("1"), repeatPart("]", depth)));
            }
        }
        for (int depth : new int[]{60}) {
            // within the parser's limit: tolerated in a field the mappings do not read
            ObjectNode ev = paid();
            JsonNode inner = new IntNode(1);
            for (int i = 0; i < depth; i++) inner = JSON.createArrayNode().add(inner);
            set(ev, "data.object.nested_ok", inner);
            accept("deep-nesting-tolerated", "nested-within-limit-" + depth, ev, "valid", null);
            // metadata values are strings at Stripe, however deep the array
            ObjectNode inMetadata = paid();
            set(inMetadata, "data.object.metadata.nested_ok", inner);
            refuse(c, "nested-within-limit-in-metadata-" + depth, inMetadata, "valid", 400, "data.object.metadata.nested_ok", null);
        }
    }

    // ---------------------------------------------------------------------------------------------- huge bodies

    private void hugeBodies() {
        String c = "huge-body";
        refuseRecipe(c, "repeat-a-3000000", null, repeatPart("a", 3_000_000), 413, null);
        refuseRecipe(c, "repeat-a-2000000", null, repeatPart("a", 2_000_000), 413, null);
        refuseRecipe(c, "max-body-plus-1-spaces", null, repeatPart(" ", MAX_BODY + 1), 413, null);
        refuseRecipe(c, "nul-bytes-2500000", null, parts(base64Part(new byte[]{0}, 2_500_000)), 413, null);
        {
            ObjectNode ev = paid();
            String json = new String(bytes(ev), StandardCharsets.UTF_8);
            refuseRecipe(c, "valid-event-padded-with-2mb-whitespace", id(ev),
                    parts(textPart(json.substring(0, json.length() - 1)), repeatPart(" ", 2_000_000), textPart("}")), 413, null);
        }
        {
            ObjectNode ev = paid();
            refuseRecipe(c, "valid-event-with-2500000-char-string", id(ev),
                    withStringAt(ev, "data.object.metadata.pad", repeatPart("x", 2_500_000)), 413, null);
        }
        {
            ObjectNode ev = paid();
            String json = new String(bytes(ev), StandardCharsets.UTF_8);
            refuseRecipe(c, "valid-event-padded-to-max-body-plus-1", id(ev),
                    parts(textPart(json.substring(0, json.length() - 1)),
                            repeatPart(" ", MAX_BODY + 1 - json.length()), textPart("}")), 413, null);
            ObjectNode chunked = refuseRecipe(c, "chunked-3mb", null, repeatPart("a", 3_000_000), 413, null);
            chunked.put("chunked", true);
        }
        {
            // exactly at the limit is still accepted
            ObjectNode ev = paid();
            String json = new String(bytes(ev), StandardCharsets.UTF_8);
            ObjectNode e = entry("huge-body-boundary", "valid-event-padded-to-exactly-max-body", "accepted", id(ev), "valid")
                    .put("expectOutcome", "accepted");
            e.set("bodyRecipe", parts(textPart(json.substring(0, json.length() - 1)),
                    repeatPart(" ", MAX_BODY - json.length()), textPart("}")));
        }
        {
            // within the limit, but the fields the canonical event keeps are huge
            ObjectNode ev = finalized();
            refuseRecipe(c, "line-description-900000-chars", id(ev),
                    withStringAt(ev, "data.object.lines.data[0].description", repeatPart("d", 900_000)), 413, null);
        }
        for (int lines : new int[]{8_000, 20_000}) {
            ObjectNode ev = finalized();
            set(ev, "data.object.subtotal", new IntNode(lines));
            set(ev, "data.object.total_tax_amounts[0].amount", new IntNode(0));
            set(ev, "data.object.total", new IntNode(lines));
            refuseRecipe(c, "invoice-with-" + lines + "-lines", id(ev), withValueAt(ev, "data.object.lines.data",
                    textPart("["), repeatPart("{\"id\":\"il_1\",\"amount\":1,\"tax_amounts\":[]},", lines - 1),
                    textPart("{\"id\":\"il_1\",\"amount\":1,\"tax_amounts\":[]}]")),
                    413, null);
        }
        {
            ObjectNode ev = paid();
            ObjectNode e = entry("huge-body-tolerated", "unmapped-field-with-20000-elements", "accepted", id(ev), "valid")
                    .put("expectOutcome", "accepted");
            e.set("bodyRecipe", withValueAt(ev, "data.object.metadata_history", textPart("["),
                    repeatPart("{\"k\":\"v\"},", 19_999), textPart("{\"k\":\"v\"}]")));
        }
        {
            // a wrong type whose value could end up quoted in the refusal
            ObjectNode ev = refund();
            refuseRecipe(c, "refund-amount-as-900000-char-string", id(ev),
                    withStringAt(ev, "data.object.amount", repeatPart("9x", 450_000)), 400, "data.object.amount");
        }
        // huge values of the fields the canonical event keeps: refused by the canonical checks; a type or legal entity
        // no one handles is a genuine event that cannot be processed (parked with the reason, abbreviated)
        String[][] fields = {{"data.object.metadata.legal_entity", "parked", NOT_AN_ENTITY}, {"id", "4xx", "is not an event id"},
                {"data.object.customer", "4xx", "customer.systemId is 900000 characters long"},
                {"data.object.metadata.global_customer_id", "4xx", "customer.globalId is 900000 characters long"},
                {"data.object.number", "4xx", "invoiceNumber is 900000 characters long"}, {"type", "parked", NOT_HANDLED}};
        for (String[] f : fields) {
            ObjectNode ev = paid();
            String name = "field-" + f[0].substring(f[0].lastIndexOf('.') + 1) + "-900000-chars";
            ObjectNode e = entry(c, name, f[1], f[0].equals("id") ? null : id(ev), "valid").put("expectReason", f[2]);
            if (f[1].equals("4xx")) e.put("expectStatus", 400);
            e.set("bodyRecipe", withStringAt(ev, f[0], repeatPart("Z", 900_000)));
        }
    }

    // ---------------------------------------------------------------------------------------------- types

    private void unknownTypes() {
        String c = "unknown-type";
        String[] types = {"invoice.created", "invoice.updated", "invoice.voided", "invoice.deleted", "customer.created",
                "customer.subscription.created", "charge.succeeded", "charge.failed", "payment_intent.succeeded",
                "checkout.session.completed", "Invoice.Paid", "INVOICE.PAID", "invoice.paid ", " invoice.paid",
                "invoice.paid\n", "invoice_paid", "invoice.paid.v2", "invoice..paid", "invoice.", ".paid", "invoice",
                "*", "%", "invoice.paid\u0000", "invoice.pa\u0131d", "ınvoice.paid", "invoice.paid; DROP TABLE idempotency_key",
                "../invoice.paid", "x".repeat(10_000), "", " ", "null", "undefined"};
        // a type Stripe does not send, or no one handles yet, is still a well-formed event: parked, to be replayed once
        // handled; a type without effect is ignored; one handled takes the invoice as it is; no type at all is refused
        Set<String> ignored = Set.of("invoice.created", "invoice.updated", "invoice.deleted");
        for (int i = 0; i < types.length; i++) {
            ObjectNode ev = paid();
            ev.put("type", types[i]);
            Expect x = types[i].isBlank() ? Expect.refused("missing required field type")
                    : ignored.contains(types[i]) ? Expect.IGNORED
                    : types[i].equals("invoice.voided") ? Expect.ACCEPTED
                    : Expect.parked(NOT_HANDLED);
            expect(c, "type-" + i + "-" + slug(types[i].length() > 40 ? types[i].substring(0, 40) : types[i]), ev, x);
        }
        for (Map.Entry<String, JsonNode> w : new TreeMap<>(Map.of("number", (JsonNode) new IntNode(1), "array",
                JSON.createArrayNode().add(PAID), "object", JSON.createObjectNode().put("type", PAID), "boolean",
                BooleanNode.TRUE)).entrySet()) {
            ObjectNode ev = paid();
            ev.set("type", w.getValue());
            refuse(c, "type-as-" + w.getKey(), ev, "valid", 400, "missing required field type", null);
        }
        for (String kind : KINDS) {
            for (String other : KINDS) {
                if (kind.equals(other)) continue;
                // the body of one type announced as another: the mapping finds other fields, or none
                ObjectNode ev = event(kind, "DE01");
                ev.put("type", other);
                boolean mapsAnyway = (kind.equals(PAID) || kind.equals(FAILED) || kind.equals(FINALIZED))
                        && (other.equals(PAID) || other.equals(FAILED));
                if (mapsAnyway || (kind.equals(PAID) || kind.equals(FAILED)) && other.equals(FINALIZED)) continue;
                // data.object.object names another object than the type's (an invoice is no refund, and back)
                refuse(c, "body-of-" + kind + "-typed-" + other, ev, "valid", 400, "carries a", null);
            }
            if (!kind.equals(REFUNDED)) {
                // a type without effect is not looked into: whatever it carries, it is acknowledged and nothing is kept
                ObjectNode ev = event(kind, "DE01");
                ev.put("type", CHARGE_REFUNDED);
                ignore(c, "body-of-" + kind + "-typed-" + CHARGE_REFUNDED, ev);
            }
        }
        ignoredTypes();
    }

    /** Genuine events of the types events.csv lists without effect, as they come and with what would otherwise be refused. */
    private void ignoredTypes() {
        String c = "ignored-type";
        for (String type : List.of("invoice.sent", "invoice.upcoming", "invoice.will_be_due", "invoice.overdue",
                "invoice.finalization_failed", "invoice.payment_action_required", "invoice.payment_attempt_required",
                "invoice.payment_succeeded")) {
            ObjectNode ev = event(type.equals("invoice.payment_succeeded") ? PAID : FINALIZED, "DE01");
            ev.put("type", type);
            ignore(c, "ignored-" + type, ev);
        }
        {
            ObjectNode ev = refund();
            ev.put("type", "charge.refund.updated");
            ignore(c, "ignored-charge.refund.updated", ev);
        }
        ignore(c, "ignored-charge.refunded", event(CHARGE_REFUNDED, "DE01"));
        ignore(c, "ignored-charge.refunded-without-legal-entity", remove(event(CHARGE_REFUNDED, "DE01"), "data.object.metadata.legal_entity"));
        ignore(c, "ignored-charge.refunded-unknown-legal-entity", event(CHARGE_REFUNDED, "ZZ99"));
        ignore(c, "ignored-charge.refunded-currency-xxx", set(event(CHARGE_REFUNDED, "DE01"), "data.object.currency", new TextNode("xxx")));
        ignore(c, "ignored-charge.refunded-amount-as-string", set(event(CHARGE_REFUNDED, "DE01"), "data.object.amount_refunded",
                new TextNode("5880")));
        ignore(c, "ignored-charge.refunded-object-is-an-invoice", set(event(CHARGE_REFUNDED, "DE01"), "data.object.object",
                new TextNode("invoice")));
        // from basil an invoice is paid by its InvoicePayments: invoice.paid says the whole is paid and posts nothing
        for (String version : List.of("2025-03-31.basil", "2025-09-30.clover")) {
            ObjectNode ev = paid();
            ev.put("api_version", version);
            ignore(c, "ignored-invoice.paid-" + version, ev);
        }
    }

    // ---------------------------------------------------------------------------------------------- legal entities

    private void unknownLegalEntities() {
        String c = "unknown-legal-entity";
        String reason = "unknown legal entity";
        String[] entities = {"ZZ99", "XX00", "de01", "De01", "DE1", "DE001", "DE-01", "DE_01", "DE01 ", " DE01", "DE02",
                "US1", "GB01X", "FR", "1010", "DE-01-LEGACY", "DΕ01", "ＤＥ０１", "null", "undefined",
                "'; DROP TABLE dead_letter; --", "<DE01>", "${DE01}", "../DE01", "ZZ99", "a".repeat(50), "DE01 \u00e9"};
        for (int i = 0; i < entities.length; i++) {
            String kind = KINDS.get(i % KINDS.size());
            ObjectNode ev = event(kind, entities[i]);
            deadLetter(c, "entity-" + i + "-" + kind + "-" + slug(entities[i].length() > 20 ? entities[i].substring(0, 20) : entities[i]),
                    ev, reason);
        }
        for (String kind : KINDS) deadLetter(c, "zz99-" + kind + "-pretty", event(kind, "ZZ99"), reason).put("pretty", true);
        // not a plausible entity at all (too long, control or format characters), or blank: the event is genuine, its
        // metadata is not; parked until the metadata is fixed and the event replayed
        String[] malformed = {"a".repeat(51), "a".repeat(10_000), "DE\n01", "DE\u000101", "\t", "DE01\u200b", "\u202eDE01"};
        for (int i = 0; i < malformed.length; i++) {
            String why = malformed[i].isBlank() ? NO_ENTITY : NOT_AN_ENTITY;
            park(c + "-malformed", "entity-malformed-" + i, event(PAID, malformed[i]), why);
            park(c + "-malformed", "entity-malformed-refund-" + i, event(REFUNDED, malformed[i]), why);
        }
        for (Map.Entry<String, JsonNode> w : new TreeMap<>(Map.of("number", (JsonNode) new IntNode(1010), "boolean", BooleanNode.TRUE,
                "array", JSON.createArrayNode().add("DE01"), "object", JSON.createObjectNode().put("id", "DE01"))).entrySet()) {
            ObjectNode ev = paid();
            set(ev, "data.object.metadata.legal_entity", w.getValue());
            refuse(c + "-malformed", "entity-as-" + w.getKey(), ev, "valid", 400, "legal_entity", null);
        }
        legalEntityChain();
    }

    /** The rules after the object's own metadata (mappings/stripe/legal-entity-chain.csv). */
    private void legalEntityChain() {
        String c = "legal-entity-chain";
        {
            ObjectNode ev = remove(finalized(), "data.object.metadata.legal_entity");
            set(ev, "data.object.subscription_details", JSON.createObjectNode().set("metadata",
                    JSON.createObjectNode().put("legal_entity", "DE01")));
            accept(c, "entity-from-subscription-metadata", ev, "valid", null);
        }
        {
            ObjectNode ev = event(PAID, "   ");
            set(ev, "data.object.subscription_details", JSON.createObjectNode().set("metadata",
                    JSON.createObjectNode().put("legal_entity", "DE01")));
            accept(c, "blank-entity-then-subscription-metadata", ev, "valid", null);
        }
        {
            // a refund of a payment published before: the payment's entity
            ObjectNode payment = paid();
            accept(c, "paid-invoice-of-refund", payment, "valid", null);
            ObjectNode ev = remove(refund(), "data.object.metadata.legal_entity");
            set(ev, "data.object.charge", get(payment, "data.object.charge"));
            set(ev, "data.object.payment_intent", get(payment, "data.object.payment_intent"));
            accept(c, "refund-entity-from-its-payment", ev, "valid", null);
        }
        {
            ObjectNode ev = remove(refund(), "data.object.metadata.legal_entity");
            set(ev, "data.object.charge", new TextNode("ch_never_published"));
            park(c, "refund-of-unknown-payment-without-entity", ev, NO_ENTITY);
        }
    }

    // ---------------------------------------------------------------------------------------------- event ids

    private void eventIds() {
        String c = "event-id";
        String[] ids = {"", " ", "\t", "a".repeat(201), "evt_" + "x".repeat(300), "evt with spaces",
                "evt_1\n", "'; DROP TABLE idempotency_key; --", "../../etc/passwd", "evt_%00", "evt_ünïcødé",
                "evt_😀", "evt_<script>", "evt_1,evt_2", "evt_\u0000", "evt/1", "evt\\1", "evt_1\"", "evt_\u202e"};
        for (int i = 0; i < ids.length; i++) {
            ObjectNode ev = paid();
            ev.put("id", ids[i]);
            refuse(c, "event-id-" + i + "-" + slug(ids[i].length() > 20 ? ids[i].substring(0, 20) : ids[i]), ev, "valid", 400,
                    null, null).remove("eventId");
        }
        for (Map.Entry<String, JsonNode> w : new TreeMap<>(Map.of("number", (JsonNode) new IntNode(123), "float", new DoubleNode(1.5),
                "array", JSON.createArrayNode().add("evt_1"), "object", JSON.createObjectNode().put("id", "evt_1"),
                "boolean", BooleanNode.TRUE, "null", NullNode.instance)).entrySet()) {
            ObjectNode ev = paid();
            ev.set("id", w.getValue());
            refuse(c, "event-id-as-" + w.getKey(), ev, "valid", 400, "missing required field id", null).remove("eventId");
        }
        {
            ObjectNode ev = paid();
            ev.put("id", "evt_" + "a".repeat(196));
            accept(c + "-tolerated", "event-id-200-chars", ev, "valid", null);
        }
        {
            ObjectNode ev = paid();
            ev.put("id", "evt_1.2:3-4_5");
            accept(c + "-tolerated", "event-id-punctuation", ev, "valid", null);
        }
    }

    // ---------------------------------------------------------------------------------------------- replays

    private void replays() {
        String c = "replay";
        for (int i = 0; i < 12; i++) {
            String entity = List.of("DE01", "US01", "GB01", "FR01").get((i + i / 4) % 4);
            ObjectNode ev = event(KINDS.get(i % 4), entity);
            String original = "original-" + i;
            accept(c, original, ev, "valid", null);
            entry(c, "replay-" + i + "-fresh-signature", "accepted", id(ev), "valid").put("expectOutcome", "duplicate")
                    .put("replayOf", original);
            entry(c, "replay-" + i + "-same-signature", "accepted", id(ev), "reuse").put("expectOutcome", "duplicate")
                    .put("replayOf", original);
            entry(c, "replay-" + i + "-stale-signature", "4xx", id(ev), "stale").put("expectStatus", 400)
                    .put("expectReason", "outside the tolerance").put("replayOf", original).put("tOffset", -3600);
            if (i % 2 == 0) {
                // the same event id with other content is still the same event
                ObjectNode changed = ev.deepCopy();
                set(changed, KINDS.get(i % 4).equals(REFUNDED) ? "data.object.amount" : "data.object.amount_due",
                        new IntNode(1));
                ObjectNode e = entry(c, "replay-" + i + "-same-id-other-body", "accepted", id(ev), "valid")
                        .put("expectOutcome", "duplicate");
                body(e, bytes(changed));
            }
            if (i % 3 == 0) {
                ObjectNode e = entry(c, "replay-" + i + "-same-signature-other-body", "4xx", id(ev), "reuse")
                        .put("expectStatus", 400).put("expectReason", "no v1 signature matches").put("replayOf", original);
                ObjectNode changed = ev.deepCopy();
                changed.put("livemode", !ev.path("livemode").asBoolean());
                body(e, bytes(changed));
            }
        }
        // a parked event delivered again (Stripe retries until it sees a 2xx, an operator may resend it): the same
        // answer and the same dead letter, never a second one
        Object[][] parked = {
                {set(paid(), "type", new TextNode("customer.created")), NOT_HANDLED},
                {remove(refund(), "data.object.metadata.legal_entity"), NO_ENTITY},
                {set(finalized(), "data.object.lines.has_more", BooleanNode.TRUE), "has_more"},
                {set(paid(), "api_version", new TextNode("2019-12-03")), "is not supported"},
                {set(finalized(), "data.object.total", new IntNode(1)), "does not add up"}};
        for (int i = 0; i < parked.length; i++) {
            ObjectNode ev = (ObjectNode) parked[i][0];
            String reason = (String) parked[i][1];
            String original = "parked-original-" + i;
            park(c, original, ev, reason);
            entry(c, "parked-replay-" + i + "-fresh-signature", "parked", id(ev), "valid").put("expectReason", reason)
                    .put("replayOf", original);
            entry(c, "parked-replay-" + i + "-same-signature", "parked", id(ev), "reuse").put("expectReason", reason)
                    .put("replayOf", original);
            entry(c, "parked-replay-" + i + "-stale-signature", "4xx", id(ev), "stale").put("expectStatus", 400)
                    .put("expectReason", "outside the tolerance").put("replayOf", original).put("tOffset", -3600);
        }
        ObjectNode[] ignored = {event(CHARGE_REFUNDED, "DE01"), set(finalized(), "type", new TextNode("invoice.updated"))};
        for (int i = 0; i < ignored.length; i++) {
            String original = "ignored-original-" + i;
            ignore(c, original, ignored[i]);
            entry(c, "ignored-replay-" + i + "-fresh-signature", "ignored", id(ignored[i]), "valid").put("replayOf", original);
            entry(c, "ignored-replay-" + i + "-same-signature", "ignored", id(ignored[i]), "reuse").put("replayOf", original);
        }
    }

    // ---------------------------------------------------------------------------------------------- structure

    private void structure() {
        String c = "structure";
        Expect ok = Expect.ACCEPTED;
        // each: name, path, value, event kind, and what it gets: a field of another type than Stripe's is refused naming
        // the field; an expandable field given as the object itself (a relay that re-fetched with expand[]) is fine
        Object[][] changes = {
                {"data-as-array-of-object", "data", JSON.createArrayNode().add(JSON.createObjectNode()), PAID, "data.object"},
                {"object-as-array", "data.object", JSON.createArrayNode().add(JSON.createObjectNode().put("id", "in_1")), PAID, "data.object"},
                {"lines-data-as-object", "data.object.lines.data", JSON.createObjectNode().put("id", "il_1"), FINALIZED, "data.object.lines.data"},
                {"lines-data-as-string", "data.object.lines.data", new TextNode("[]"), FINALIZED, "data.object.lines.data"},
                {"lines-data-of-strings", "data.object.lines.data", JSON.createArrayNode().add("il_1").add("il_2"), FINALIZED, "data.object.lines.data[0]"},
                {"lines-data-of-nulls", "data.object.lines.data", JSON.createArrayNode().addNull().addNull(), FINALIZED, "data.object.lines.data[0]"},
                {"lines-data-of-arrays", "data.object.lines.data", JSON.createArrayNode().add(JSON.createArrayNode()), FINALIZED, "data.object.lines.data[0]"},
                {"total-tax-amounts-as-object", "data.object.total_tax_amounts", JSON.createObjectNode().put("amount", 1900), FINALIZED, "data.object.total_tax_amounts"},
                {"total-tax-amounts-as-number", "data.object.total_tax_amounts", new IntNode(1900), FINALIZED, "data.object.total_tax_amounts"},
                {"total-tax-amounts-of-strings", "data.object.total_tax_amounts", JSON.createArrayNode().add("1900"), FINALIZED, "data.object.total_tax_amounts[0]"},
                {"discounts-as-string", "data.object.total_discount_amounts", new TextNode("0"), FINALIZED, "data.object.total_discount_amounts"},
                {"line-tax-amounts-as-number", "data.object.lines.data[0].tax_amounts", new IntNode(1520), FINALIZED, "data.object.lines.data[0].tax_amounts"},
                {"metadata-as-array", "data.object.metadata", JSON.createArrayNode().add("DE01"), PAID, "data.object.metadata"},
                {"metadata-as-string", "data.object.metadata", new TextNode("legal_entity=DE01"), REFUNDED, "data.object.metadata"},
                {"customer-as-expanded-object", "data.object.customer", JSON.createObjectNode().put("id", "cus_1").put("object", "customer"), PAID, ok},
                {"customer-as-list", "data.object.customer", JSON.createArrayNode().add("cus_1"), FINALIZED, "data.object.customer"},
                {"customer-as-object-without-id", "data.object.customer", JSON.createObjectNode().put("object", "customer"), FINALIZED, "data.object.customer"},
                {"charge-as-object", "data.object.charge", JSON.createObjectNode().put("id", "ch_1"), PAID, ok},
                {"charge-as-number", "data.object.charge", new IntNode(7), PAID, "data.object.charge"},
                {"refund-charge-as-number", "data.object.charge", new IntNode(7), REFUNDED, "data.object.charge"},
                {"refund-charge-as-expanded-object", "data.object.charge", JSON.createObjectNode().put("id", "ch_expanded_1").put("object", "charge"), REFUNDED, ok},
                {"global-customer-id-as-number", "data.object.metadata.global_customer_id", new IntNode(42), PAID, "data.object.metadata.global_customer_id"},
                {"global-customer-id-as-boolean", "data.object.metadata.global_customer_id", BooleanNode.TRUE, REFUNDED, "data.object.metadata.global_customer_id"},
                {"line-id-as-object", "data.object.lines.data[0].id", JSON.createObjectNode(), FINALIZED, "data.object.lines.data[0].id"},
                {"line-quantity-as-string", "data.object.lines.data[0].quantity", new TextNode("1"), FINALIZED, "data.object.lines.data[0].quantity"},
                {"line-quantity-as-float", "data.object.lines.data[0].quantity", new DoubleNode(1.5), FINALIZED, "data.object.lines.data[0].quantity"},
                {"tax-inclusive-as-string", "data.object.total_tax_amounts[0].inclusive", new TextNode("false"), FINALIZED, "data.object.total_tax_amounts[0].inclusive"},
                {"taxable-amount-as-string", "data.object.total_tax_amounts[0].taxable_amount", new TextNode("10000"), FINALIZED, "data.object.total_tax_amounts[0].taxable_amount"},
                {"line-description-as-object", "data.object.lines.data[0].description", JSON.createObjectNode().put("a", 1), FINALIZED, "data.object.lines.data[0].description"},
                {"tax-rate-as-number", "data.object.total_tax_amounts[0].tax_rate", new IntNode(19), FINALIZED, "data.object.total_tax_amounts[0].tax_rate"},
                {"lines-has-more-as-string", "data.object.lines.has_more", new TextNode("false"), FINALIZED, "data.object.lines.has_more"},
                // the object an event type carries is named by data.object.object (events.csv)
                {"invoice-event-carrying-a-charge", "data.object.object", new TextNode("charge"), PAID, "not a charge"},
                {"invoice-event-carrying-a-refund", "data.object.object", new TextNode("refund"), FINALIZED, "not a refund"},
                {"refund-event-carrying-an-invoice", "data.object.object", new TextNode("invoice"), REFUNDED, "not a invoice"},
                {"refund-event-carrying-a-charge", "data.object.object", new TextNode("charge"), REFUNDED, "not a charge"},
        };
        for (Object[] ch : changes) {
            ObjectNode ev = event((String) ch[3], "DE01");
            set(ev, (String) ch[1], (JsonNode) ch[2]);
            expect(c, (String) ch[0], ev, ch[4] instanceof Expect x ? x : Expect.refused((String) ch[4]));
        }
        {
            ObjectNode ev = paid();
            ev.remove("data");
            ev.set("object", bases.get(PAID).get("data").get("object").deepCopy());
            refuse(c, "object-at-top-level", ev, "valid", 400, "data.object", null);
        }
    }

    // ---------------------------------------------------------------------------------------------- envelope

    /** The event's livemode and api_version: of another type, refused; a version not read here, parked. */
    private void envelope() {
        String c = "envelope";
        Map<String, JsonNode> notBoolean = new LinkedHashMap<>();
        notBoolean.put("string", new TextNode("false"));
        notBoolean.put("null", NullNode.instance);
        notBoolean.put("number", new IntNode(0));
        notBoolean.put("object", JSON.createObjectNode());
        for (Map.Entry<String, JsonNode> w : notBoolean.entrySet()) {
            refuse(c, "livemode-as-" + w.getKey(), (ObjectNode) paid().set("livemode", w.getValue()), "valid", 400, "livemode", null);
        }
        Map<String, JsonNode> notString = new LinkedHashMap<>();
        notString.put("number", new IntNode(20240620));
        notString.put("boolean", BooleanNode.TRUE);
        notString.put("array", JSON.createArrayNode().add("2024-06-20"));
        notString.put("object", JSON.createObjectNode().put("version", "2024-06-20"));
        for (Map.Entry<String, JsonNode> w : notString.entrySet()) {
            refuse(c, "api-version-as-" + w.getKey(), (ObjectNode) paid().set("api_version", w.getValue()), "valid", 400,
                    "api_version", null);
        }
        // no version, and none pinned (interchange.billing.api-version): which shape the event has is unknown
        park(c, "api-version-missing", (ObjectNode) paid().without("api_version"), "names no api_version");
        park(c, "api-version-null", (ObjectNode) paid().set("api_version", NullNode.instance), "names no api_version");
        park(c, "api-version-empty", paid().put("api_version", ""), "names no api_version");
        List<String> versions = List.of("2019-12-03", "2023-10-16", "2099-01-01", "2024-06-20 ", "2025-03-31.unknown",
                "2025-03-31.BASIL", "basil", "latest", "2024-06-20\u0000");
        for (int i = 0; i < versions.size(); i++) {
            String version = versions.get(i);
            park(c, "api-version-" + i + "-" + slug(version), paid().put("api_version", version), "is not supported");
            if (i == 0) {
                park(c, "api-version-" + i + "-" + slug(version) + "-refund", refund().put("api_version", version), "is not supported");
            }
        }
        accept(c, "api-version-acacia-release", paid().put("api_version", "2024-09-30.acacia"), "valid", null);
        accept(c, "api-version-basil-refund", refund().put("api_version", "2025-03-31.basil"), "valid", null);
    }

    // ---------------------------------------------------------------------------------------------- dates

    private void dates() {
        String c = "dates";
        Object[][] values = {{"negative", new LongNode(-1)}, {"zero-epoch", new IntNode(0)}, {"year-1969", new LongNode(-86_400L * 200)},
                {"year-1999", new LongNode(915_148_800L)}, {"year-31-million", new LongNode(1_000_000_000_000_000L)},
                {"long-max", new LongNode(Long.MAX_VALUE)}, {"long-min", new LongNode(Long.MIN_VALUE)},
                {"string-date", new TextNode("2025-11-22")},
                {"boolean", BooleanNode.TRUE}, {"array", JSON.createArrayNode().add(1763805600)},
                {"beyond-instant", new BigIntegerNode(new BigInteger("9".repeat(25)))}};
        for (Object[] v : values) {
            JsonNode value = (JsonNode) v[1];
            ObjectNode created = paid();
            created.set("created", value);
            refuse(c, "created-" + v[0], created, "valid", 400, "created", null);
            ObjectNode refund = refund();
            refund.set("created", value);
            refuse(c, "refund-created-" + v[0], refund, "valid", 400, "created", null);
            // the object's timestamps: not Stripe's integer, refused naming the field; an integer whose date is not
            // between 2000 and 9999 (however far out), refused by the canonical checks naming the canonical date
            boolean integer = value.isIntegralNumber() && value.canConvertToLong();
            String at = "data.object.status_transitions.paid_at";
            ObjectNode paid = paid();
            set(paid, at, value);
            refuse(c, "paid-at-" + v[0], paid, "valid", 400, integer ? "occurredOn" : at, null);
            at = "data.object.status_transitions.finalized_at";
            ObjectNode fin = finalized();
            set(fin, at, value);
            refuse(c, "finalized-at-" + v[0], fin, "valid", 400, integer ? "issuedOn" : at, null);
            at = "data.object.created";
            ObjectNode refunded = refund();
            set(refunded, at, value);
            refuse(c, "refund-object-created-" + v[0], refunded, "valid", 400, integer ? "occurredOn" : at, null);
        }
        for (String kind : List.of(PAID, REFUNDED)) {
            ObjectNode ev = event(kind, "DE01");
            ev.put("created", "1763805600");
            refuse(c, kind + "-created-as-digit-string", ev, "valid", 400, "created", null);
        }
        {
            ObjectNode fin = finalized();
            set(fin, "data.object.due_date", new TextNode("tomorrow"));
            refuse(c, "due-date-as-string", fin, "valid", 400, "data.object.due_date", null);
        }
    }

    // ---------------------------------------------------------------------------------------------- currencies

    private void currencies() {
        String c = "currency";
        String[] codes = {"eurx", "eu", "", " ", "xxx", "xau", "xts", "abc", "eur ", " eur", "€", "e u r", "EURO", "978",
                "usd,eur", "\u0000ur", "ėur", "eur\n"};
        for (int i = 0; i < codes.length; i++) {
            ObjectNode ev = event(KINDS.get(i % 4), "DE01");
            set(ev, "data.object.currency", new TextNode(codes[i]));
            refuse(c, "currency-" + i + "-" + slug(codes[i]) + "-" + KINDS.get(i % 4), ev, "valid", 400, "currency", null);
        }
        for (JsonNode v : List.of(new IntNode(978), BooleanNode.TRUE, JSON.createArrayNode().add("eur"), JSON.createObjectNode().put("code", "eur"))) {
            ObjectNode ev = paid();
            set(ev, "data.object.currency", v);
            refuse(c, "currency-as-" + v.getNodeType().name().toLowerCase(), ev, "valid", 400, "currency", null);
        }
    }

    // ---------------------------------------------------------------------------------------------- identifiers

    private void identifiers() {
        String c = "identifiers";
        // field, event kind, the canonical field the checks name (ids are keys, headers and ERP references: 255 at most)
        String[][] fields = {{"data.object.metadata.global_customer_id", PAID, "customer.globalId"},
                {"data.object.customer", FINALIZED, "customer.systemId"}, {"data.object.number", PAID, "invoiceNumber"},
                {"data.object.id", FINALIZED, "invoiceId"}, {"data.object.charge", PAID, "paymentId"},
                {"data.object.lines.data[0].id", FINALIZED, "lineId"}, {"data.object.charge", REFUNDED, "paymentId"},
                {"data.object.id", REFUNDED, "refundId"}, {"data.object.metadata.global_customer_id", REFUNDED, "customer.globalId"}};
        for (String[] f : fields) {
            for (int len : new int[]{300, 100_000}) {
                ObjectNode ev = event(f[1], "DE01");
                ObjectNode e = entry(c, f[1] + "-" + f[0].replace("data.object.", "").replace("[0]", "") + "-" + len + "-chars",
                        "4xx", id(ev), "valid").put("expectStatus", 400).put("expectReason", f[2] + " is " + len + " characters");
                e.set("bodyRecipe", withStringAt(ev, f[0], repeatPart("X", len)));
            }
        }
        List<String> hostile = List.of("cus_\u0000", "cus_\n1", "\u202ecus_1");
        for (int i = 0; i < hostile.size(); i++) {
            ObjectNode ev = paid();
            set(ev, "data.object.metadata.global_customer_id", new TextNode(hostile.get(i)));
            refuse(c, "global-customer-id-control-character-" + i, ev, "valid", 400, "control characters", null);
        }
    }

    // ---------------------------------------------------------------------------------------------- duplicate keys

    private void duplicateKeys() {
        String c = "duplicate-keys";
        String[][] dups = {{"\"id\":\"", "id"}, {"\"type\":\"invoice.paid\"", "type"}, {"\"amount_paid\":11900", "amount_paid"},
                {"\"legal_entity\":\"DE01\"", "legal_entity"}, {"\"currency\":\"eur\"", "currency"}, {"\"data\":{", "data"}};
        for (String[] d : dups) {
            ObjectNode ev = paid();
            String json = new String(bytes(ev), StandardCharsets.UTF_8);
            String dup = switch (d[1]) {
                case "id" -> json.replaceFirst("\\{\"id\":\"", "{\"id\":\"evt_other\",\"id\":\"");
                case "type" -> json.replace("\"type\":\"invoice.paid\"", "\"type\":\"charge.refunded\",\"type\":\"invoice.paid\"");
                case "amount_paid" -> json.replace("\"amount_paid\":11900", "\"amount_paid\":1,\"amount_paid\":11900");
                case "legal_entity" -> json.replace("\"legal_entity\":\"DE01\"", "\"legal_entity\":\"ZZ99\",\"legal_entity\":\"DE01\"");
                case "currency" -> json.replace("\"currency\":\"eur\"", "\"currency\":\"usd\",\"currency\":\"eur\"");
                default -> json.replace("\"data\":{", "\"data\":{\"object\":{},");
            };
            if (dup.equals(json)) throw new IllegalStateException("duplicate-key mutation did not apply: " + d[1]);
            ObjectNode e = entry(c, "duplicate-" + d[1], "4xx", id(ev), "valid").put("expectStatus", 400)
                    .put("expectReason", "Duplicate field");
            body(e, dup.getBytes(StandardCharsets.UTF_8));
        }
    }

    // =============================================================================================== ERP corpus

    private static final String ENV = "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\">"
            + "<soap-env:Header/><soap-env:Body>";
    private static final String ENV_END = "</soap-env:Body></soap-env:Envelope>";
    private static final String SOAP12 = "http://www.w3.org/2003/05/soap-envelope";

    private static String confirmation(String document, String fiscalYear, String companyCode, String severity, String notes) {
        return "<n0:JournalEntryBulkCreateConfirmation xmlns:n0=\"http://sap.com/xi/SAPSCORE/SFIN\">"
                + "<MessageHeader><ID>A1</ID><ReferenceID>B2</ReferenceID></MessageHeader>"
                + "<JournalEntryCreateConfirmation><MessageHeader><ReferenceID>C3</ReferenceID></MessageHeader>"
                + "<JournalEntryCreateConfirmation>" + document
                + (companyCode == null ? "" : "<CompanyCode>" + companyCode + "</CompanyCode>")
                + (fiscalYear == null ? "" : "<FiscalYear>" + fiscalYear + "</FiscalYear>")
                + "</JournalEntryCreateConfirmation><Log><MaximumLogItemSeverityCode>" + severity
                + "</MaximumLogItemSeverityCode>" + notes + "</Log></JournalEntryCreateConfirmation>"
                + "</n0:JournalEntryBulkCreateConfirmation>";
    }

    private static String doc(String n) {
        return "<AccountingDocument>" + n + "</AccountingDocument>";
    }

    private static String fault11(String code, String text) {
        return ENV + "<soap-env:Fault><faultcode>" + code + "</faultcode><faultstring>" + text + "</faultstring></soap-env:Fault>" + ENV_END;
    }

    private static String fault12(String code, String text) {
        return "<env:Envelope xmlns:env=\"" + SOAP12 + "\"><env:Body><env:Fault><env:Code><env:Value>" + code
                + "</env:Value></env:Code><env:Reason><env:Text xml:lang=\"en\">" + text
                + "</env:Text></env:Reason></env:Fault></env:Body></env:Envelope>";
    }

    private static final String LAUGHS = "<?xml version=\"1.0\"?><!DOCTYPE lolz [<!ENTITY lol \"lol\">"
            + "<!ENTITY lol1 \"&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;\">"
            + "<!ENTITY lol2 \"&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;\">"
            + "<!ENTITY lol3 \"&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;\">"
            + "<!ENTITY lol4 \"&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;\">"
            + "<!ENTITY lol5 \"&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;\">"
            + "<!ENTITY lol6 \"&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;\">"
            + "<!ENTITY lol7 \"&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;\">"
            + "<!ENTITY lol8 \"&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;\">"
            + "<!ENTITY lol9 \"&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;\">]>";

    private void generateErpCorpus() {
        String ok = confirmation(doc("5100000001"), "2025", "1010", "1", "<Item><Note>posted</Note></Item>");
        List<String> passwd = List.of("root:", "daemon:", "/bin/sh", "nologin");
        String html = "<!DOCTYPE html><html><head><title>Error</title></head><body><h1>Service temporarily unavailable</h1>"
                + "<p>The server encountered an error</p></body></html>";

        // entity expansion and external entities: the parser must refuse the DTD and never expand or fetch anything
        erp("billion-laughs", "billion-laughs-in-confirmation", 200, LAUGHS + ENV + confirmation(doc("&lol9;"), "2025", "1010", "1", "") + ENV_END,
                "PERMANENT", "DOCTYPE", null);
        erp("billion-laughs", "billion-laughs-in-fault-http-500", 500, LAUGHS + fault11("soap-env:Server", "&lol9;"), "TRANSIENT", null, null);
        erp("billion-laughs", "billion-laughs-in-client-fault-http-200", 200, LAUGHS + fault11("soap-env:Client", "&lol9;"), "PERMANENT", "DOCTYPE", null);
        erp("billion-laughs", "quadratic-blowup-internal-entity", 200, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \""
                + "a".repeat(50_000) + "\">]>" + ENV + confirmation(doc("&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;"), "2025", "1010", "1", "") + ENV_END,
                "PERMANENT", "DOCTYPE", null);
        erp("xxe", "xxe-file-etc-passwd-in-document", 200, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                + ENV + confirmation(doc("&xxe;"), "2025", "1010", "1", "") + ENV_END, "PERMANENT", "DOCTYPE", passwd);
        erp("xxe", "xxe-file-etc-passwd-in-fault", 500, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                + fault11("soap-env:Client", "&xxe;"), "TRANSIENT", null, passwd);
        erp("xxe", "xxe-file-etc-passwd-in-note", 200, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"file:///etc/passwd\">]>"
                + ENV + confirmation(doc("0000000000"), "0000", "1010", "3", "<Item><Note>&xxe;</Note></Item>") + ENV_END, "PERMANENT", null, passwd);
        erp("xxe", "xxe-http-canary", 200, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY xxe SYSTEM \"{canary}/entity\">]>"
                + ENV + confirmation(doc("&xxe;"), "2025", "1010", "1", "") + ENV_END, "PERMANENT", "DOCTYPE", passwd);
        erp("xxe", "xxe-parameter-entity-external-dtd", 200, "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY % dtd SYSTEM \"{canary}/dtd\">%dtd;]>"
                + ENV + ok + ENV_END, "PERMANENT", "DOCTYPE", passwd);
        erp("xxe", "xxe-external-dtd-system-id", 200, "<?xml version=\"1.0\"?><!DOCTYPE soap-env:Envelope SYSTEM \"{canary}/system.dtd\">"
                + ENV + ok + ENV_END, "PERMANENT", "DOCTYPE", passwd);
        erp("xxe", "xxe-public-id-file", 200, "<?xml version=\"1.0\"?><!DOCTYPE x PUBLIC \"-//X//Y\" \"file:///etc/passwd\">"
                + ENV + ok + ENV_END, "PERMANENT", "DOCTYPE", passwd);
        erp("xxe", "xinclude-file-in-document", 200, ENV + confirmation("<AccountingDocument><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
                + "href=\"file:///etc/passwd\" parse=\"text\"/></AccountingDocument>", "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, passwd);
        erp("xxe", "xinclude-http-canary", 200, ENV + confirmation("<AccountingDocument><xi:include xmlns:xi=\"http://www.w3.org/2001/XInclude\" "
                + "href=\"{canary}/xinclude\" parse=\"text\"/></AccountingDocument>", "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, passwd);
        erp("xxe", "xsl-stylesheet-pi-canary", 200, "<?xml version=\"1.0\"?><?xml-stylesheet type=\"text/xsl\" href=\"{canary}/xsl\"?>"
                + ENV + confirmation(doc(""), "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, passwd);
        erp("xxe", "schema-location-canary", 200, ENV.replace("<soap-env:Envelope ", "<soap-env:Envelope xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\" "
                + "xsi:schemaLocation=\"urn:x {canary}/schema.xsd\" ") + confirmation(doc(""), "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, passwd);
        erp("doctype", "harmless-internal-doctype", 200, "<?xml version=\"1.0\"?><!DOCTYPE soap-env:Envelope []>" + ENV + ok + ENV_END,
                "PERMANENT", "DOCTYPE", null);
        erp("doctype", "doctype-html-200", 200, html, "PERMANENT", null, null);
        erp("doctype", "doctype-fault-http-500", 500, "<?xml version=\"1.0\"?><!DOCTYPE x []>" + fault11("soap-env:Client", "bad"), "TRANSIENT", null, null);

        // truncated envelopes delivered whole: the ERP answered, but not readably; the outcome is unknown, so no retry
        String full = ENV + ok + ENV_END;
        for (int cut : new int[]{10, full.length() / 3, full.length() / 2, full.length() - 20, full.length() - 1}) {
            erp("truncated", "truncated-envelope-200-at-" + cut, 200, full.substring(0, cut), "PERMANENT", "not SOAP XML", null);
        }
        erp("truncated", "truncated-envelope-500", 500, full.substring(0, full.length() / 2), "TRANSIENT", null, null);
        erp("truncated", "truncated-envelope-503", 503, full.substring(0, full.length() / 2), "TRANSIENT", null, null);
        // truncated on the wire: the connection drops before the declared length arrived
        for (int cut : new int[]{0, 40, full.length() - 5}) {
            erp("truncated-transport", "connection-dropped-after-" + cut + "-bytes", 200, full, "TRANSIENT", null, null)
                    .put("mode", "truncated").put("writeBytes", cut);
        }
        erp("stall", "stall-after-headers", 200, full, "TRANSIENT", null, null).put("mode", "stall").put("writeBytes", 0);
        erp("stall", "stall-mid-body", 200, full, "TRANSIENT", null, null).put("mode", "stall").put("writeBytes", full.length() / 2);

        erp("html", "html-error-page-200", 200, html, "PERMANENT", null, null).put("contentType", "text/html");
        erp("html", "html-error-page-502", 502, html, "TRANSIENT", "HTTP 502", null).put("contentType", "text/html");
        erp("html", "html-error-page-503", 503, html, "TRANSIENT", "HTTP 503", null).put("contentType", "text/html");
        erp("html", "html-error-page-500", 500, html, "TRANSIENT", "HTTP 500", null).put("contentType", "text/html");
        erp("html", "html-error-page-504", 504, html, "TRANSIENT", "HTTP 504", null).put("contentType", "text/html");
        erp("html", "html-not-found-404", 404, html.replace("Service temporarily unavailable", "Not Found"), "PERMANENT", "HTTP 404", null)
                .put("contentType", "text/html");
        erp("html", "xhtml-well-formed-200", 200, "<html xmlns=\"http://www.w3.org/1999/xhtml\"><body><p>Login</p></body></html>", "PERMANENT", null, null)
                .put("contentType", "text/html");

        erp("empty", "empty-200", 200, "", "PERMANENT", null, null);
        erp("empty", "empty-204", 204, "", "PERMANENT", null, null);
        erp("empty", "empty-202", 202, "", "PERMANENT", null, null);
        erp("empty", "empty-500", 500, "", "TRANSIENT", null, null);
        erp("empty", "whitespace-200", 200, "   \r\n  ", "PERMANENT", null, null);

        erp("wrong-root", "legacy-response-from-s4", 200, ENV + "<l:PostJournalResponse xmlns:l=\"urn:interchange:legacy-erp:ledger:v1\">"
                + "<l:DocumentNumber>1</l:DocumentNumber></l:PostJournalResponse>" + ENV_END, "PERMANENT", "instead of", null);
        erp("wrong-root", "root-not-envelope", 200, "<JournalEntryBulkCreateConfirmation>" + doc("5100000001") + "</JournalEntryBulkCreateConfirmation>",
                "PERMANENT", null, null);
        erp("wrong-root", "json-body-200", 200, "{\"AccountingDocument\":\"5100000001\"}", "PERMANENT", null, null).put("contentType", "application/json");
        erp("wrong-root", "envelope-without-body", 200, "<soap-env:Envelope xmlns:soap-env=\"http://schemas.xmlsoap.org/soap/envelope/\"><soap-env:Header/></soap-env:Envelope>",
                "PERMANENT", null, null);
        erp("wrong-root", "empty-soap-body", 200, ENV + ENV_END, "PERMANENT", "empty SOAP Body", null);
        erp("wrong-root", "envelope-wrong-namespace", 200, "<soap-env:Envelope xmlns:soap-env=\"urn:not-soap\"><soap-env:Body>" + ok
                + "</soap-env:Body></soap-env:Envelope>", "PERMANENT", null, null);
        erp("wrong-root", "two-roots", 200, ENV + ok + ENV_END + ENV + ok + ENV_END, "PERMANENT", null, null);

        erp("soap12", "soap12-receiver-fault-500", 500, fault12("env:Receiver", "Try again later"), "TRANSIENT", null, null)
                .put("contentType", "application/soap+xml; charset=utf-8");
        erp("soap12", "soap12-sender-fault-400", 400, fault12("env:Sender", "Invalid journal entry"), "PERMANENT", "Invalid journal entry", null)
                .put("contentType", "application/soap+xml; charset=utf-8");
        erp("soap12", "soap12-sender-fault-500", 500, fault12("env:Sender", "Invalid journal entry"), "PERMANENT", "Invalid journal entry", null)
                .put("contentType", "application/soap+xml; charset=utf-8");
        erp("soap12", "soap12-version-mismatch-500", 500, fault12("env:VersionMismatch", "SOAP 1.1 not supported"), "PERMANENT", "VersionMismatch", null)
                .put("contentType", "application/soap+xml; charset=utf-8");
        erp("soap12", "soap12-success-envelope-200", 200, "<env:Envelope xmlns:env=\"" + SOAP12 + "\"><env:Body>" + ok + "</env:Body></env:Envelope>",
                "PERMANENT", "SOAP 1.2", null).put("contentType", "application/soap+xml; charset=utf-8");

        erp("fault", "client-fault-500", 500, fault11("soap-env:Client", "Element JournalEntry missing"), "PERMANENT", "Element JournalEntry missing", null);
        erp("fault", "server-fault-500", 500, fault11("soap-env:Server", "Internal error, try again"), "TRANSIENT", "Internal error", null);
        erp("fault", "server-fault-200", 200, fault11("soap-env:Server", "Lock table overflow"), "TRANSIENT", "Lock table overflow", null);
        erp("fault", "client-fault-200", 200, fault11("soap-env:Client", "Value 'x' is not a valid xsd:decimal"), "PERMANENT", "xsd:decimal", null);
        erp("fault", "server-subcode-fault-500", 500, fault11("soap-env:Server.Timeout", "Timed out"), "TRANSIENT", "Timed out", null);
        erp("fault", "client-subcode-fault-500", 500, fault11("soap-env:Client.Authentication", "Not authorised"), "PERMANENT", "Not authorised", null);
        erp("fault", "version-mismatch-fault", 500, fault11("soap-env:VersionMismatch", "Wrong envelope"), "PERMANENT", "VersionMismatch", null);
        erp("fault", "must-understand-fault", 500, fault11("soap-env:MustUnderstand", "Header not understood"), "PERMANENT", "MustUnderstand", null);
        erp("fault", "fault-without-faultcode", 500, ENV + "<soap-env:Fault><faultstring>no code</faultstring></soap-env:Fault>" + ENV_END,
                "PERMANENT", "no code", null);
        erp("fault", "fault-with-empty-body", 500, ENV + "<soap-env:Fault/>" + ENV_END, "PERMANENT", null, null);
        String bf = fault11("soap-env:Client", "FAULTMARKER");
        int at = bf.indexOf("FAULTMARKER");
        erp("fault", "fault-with-1mb-faultstring", 500, null, "PERMANENT", "EEEE", null)
                .set("bodyRecipe", parts(textPart(bf.substring(0, at)), repeatPart("E", 1_000_000), textPart(bf.substring(at + 11))));

        erp("status", "http-401", 401, "Unauthorized", "PERMANENT", "credentials", null).put("contentType", "text/plain");
        erp("status", "http-403", 403, "Forbidden", "PERMANENT", "credentials", null).put("contentType", "text/plain");
        erp("status", "http-408", 408, "Request Timeout", "TRANSIENT", "HTTP 408", null).put("contentType", "text/plain");
        erp("status", "http-429-retry-after", 429, "Too Many Requests", "TRANSIENT", "HTTP 429", null).put("contentType", "text/plain")
                .set("headers", JSON.createObjectNode().put("Retry-After", "3600"));
        erp("status", "http-302-redirect", 302, "", "PERMANENT", "HTTP 302", null)
                .set("headers", JSON.createObjectNode().put("Location", "{canary}/redirected"));
        erp("status", "http-418-with-success-body", 418, full, "PERMANENT", "HTTP 418", null);
        erp("status", "http-201-with-success-body-no-document", 201, ENV + confirmation("", "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, null);

        erp("huge", "junk-5mb-200", 200, null, "PERMANENT", null, null).set("bodyRecipe", repeatPart("<", 5_000_000));
        erp("huge", "whitespace-12mb-inside-envelope-200", 200, null, "PERMANENT", null, null)
                .set("bodyRecipe", parts(textPart(ENV + confirmation(doc(""), "2025", "1010", "1", "")), repeatPart(" ", 12_000_000), textPart(ENV_END)));
        erp("huge", "html-10mb-502", 502, null, "TRANSIENT", "HTTP 502", null)
                .set("bodyRecipe", parts(textPart("<html><body>"), repeatPart("<p>error</p>", 800_000), textPart("</body></html>")));
        String rejected = ENV + confirmation(doc("0000000000"), "0000", "1010", "3", "") + ENV_END;
        int logEnd = rejected.indexOf("</Log>");
        erp("huge", "100000-severity-3-notes", 200, null, "PERMANENT", "rejected the journal entry", null)
                .set("bodyRecipe", parts(textPart(rejected.substring(0, logEnd)),
                        repeatPart("<Item><SeverityCode>3</SeverityCode><Note>Balance not zero</Note></Item>", 100_000),
                        textPart(rejected.substring(logEnd))));
        String note = ENV + confirmation(doc("0000000000"), "0000", "1010", "3", "<Item><SeverityCode>3</SeverityCode><Note>NOTEMARKER</Note></Item>") + ENV_END;
        int noteAt = note.indexOf("NOTEMARKER");
        erp("huge", "severity-3-note-of-1000000-chars", 200, null, "PERMANENT", "characters", null)
                .set("bodyRecipe", parts(textPart(note.substring(0, noteAt)), repeatPart("N", 1_000_000), textPart(note.substring(noteAt + 10))));
        erp("huge", "deeply-nested-elements-200", 200, null, "PERMANENT", null, null)
                .set("bodyRecipe", parts(textPart(ENV), repeatPart("<a>", 100_000), repeatPart("</a>", 100_000), textPart(ENV_END)));

        String marked = ENV + confirmation(doc("51UTF8MARKER"), "2025", "1010", "1", "") + ENV_END;
        erp("invalid-utf8", "invalid-utf8-in-document", 200, null, "PERMANENT", null, null)
                .put("bodyBase64", b64(replace(marked.getBytes(StandardCharsets.UTF_8), "UTF8MARKER".getBytes(StandardCharsets.US_ASCII),
                        new byte[]{(byte) 0xFF, (byte) 0xC0, (byte) 0x80})));
        erp("invalid-utf8", "declared-utf16-sent-utf8", 200, "<?xml version=\"1.0\" encoding=\"UTF-16\"?>" + full, "PERMANENT", null, null);
        erp("invalid-utf8", "latin1-bytes-declared-utf8", 200, null, "PERMANENT", null, null)
                .put("bodyBase64", b64((ENV + confirmation(doc("5100000001"), "2025", "1010", "1", "<Item><Note>Buchung für Müller</Note></Item>") + ENV_END)
                        .getBytes(StandardCharsets.ISO_8859_1)));

        erp("severity", "severity-3-no-document", 200, ENV + confirmation(doc("0000000000"), "0000", "1010", "3",
                "<Item><TypeID>702(F5)</TypeID><SeverityCode>3</SeverityCode><Note>Balance in transaction currency EUR not zero</Note></Item>") + ENV_END,
                "PERMANENT", "Balance in transaction currency", null);
        erp("severity", "severity-4-abort", 200, ENV + confirmation(doc("0000000000"), "0000", "1010", "4",
                "<Item><SeverityCode>4</SeverityCode><Note>Posting period closed</Note></Item>") + ENV_END, "PERMANENT", "Posting period closed", null);
        erp("severity", "severity-3-with-document-number", 200, ENV + confirmation(doc("5100000009"), "2025", "1010", "3",
                "<Item><SeverityCode>3</SeverityCode><Note>Company code 1010 does not exist</Note></Item>") + ENV_END, "PERMANENT", "does not exist", null);
        erp("severity", "severity-3-without-notes", 200, ENV + confirmation(doc("0000000000"), "0000", "1010", "3", "") + ENV_END,
                "PERMANENT", "no reason given", null);

        erp("missing-document", "no-accounting-document", 200, ENV + confirmation("", "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, null);
        erp("missing-document", "empty-accounting-document", 200, ENV + confirmation(doc(""), "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, null);
        erp("missing-document", "whitespace-accounting-document", 200, ENV + confirmation(doc("  \n "), "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, null);
        erp("missing-document", "zero-accounting-document-severity-1", 200, ENV + confirmation(doc("0000000000"), "2025", "1010", "1", "") + ENV_END, "PERMANENT", null, null);
        erp("missing-document", "document-in-comment-only", 200, ENV + confirmation("<!-- <AccountingDocument>5100000001</AccountingDocument> -->", "2025", "1010", "1", "") + ENV_END,
                "PERMANENT", null, null);

        erp("bad-confirmation-values", "accounting-document-1000-chars", 200, ENV + confirmation(doc("9".repeat(1000)), "2025", "1010", "1", "") + ENV_END,
                "PERMANENT", "AccountingDocument", null);
        erp("bad-confirmation-values", "fiscal-year-5-digits", 200, ENV + confirmation(doc("5100000001"), "20255", "1010", "1", "") + ENV_END,
                "PERMANENT", "FiscalYear", null);
        erp("bad-confirmation-values", "fiscal-year-not-a-year", 200, ENV + confirmation(doc("5100000001"), "abcd", "1010", "1", "") + ENV_END,
                "PERMANENT", "FiscalYear", null);
        erp("bad-confirmation-values", "company-code-100-chars", 200, ENV + confirmation(doc("5100000001"), "2025", "C".repeat(100), "1", "") + ENV_END,
                "PERMANENT", "CompanyCode", null);
        erp("bad-confirmation-values", "accounting-document-with-markup", 200, ENV + confirmation(doc("<![CDATA[51000<script>]]>"), "2025", "1010", "1", "") + ENV_END,
                "PERMANENT", "AccountingDocument", null);
        erp("bad-confirmation-values", "accounting-document-control-characters", 200, ENV + confirmation(doc("5100&#x9;0001&#xA;"), "2025", "1010", "1", "") + ENV_END,
                "PERMANENT", "AccountingDocument", null);
    }

    private ObjectNode erp(String category, String name, int status, String body, String kind, String reason, List<String> forbidden) {
        if (!names.add(name)) throw new IllegalStateException("duplicate corpus name " + name);
        ObjectNode e = JSON.createObjectNode();
        e.put("name", name).put("category", category).put("status", status).put("contentType", "text/xml; charset=utf-8")
                .put("mode", "complete").put("expectKind", kind);
        if (reason != null) e.put("expectReason", reason);
        ArrayNode f = e.putArray("forbidden");
        if (forbidden != null) forbidden.forEach(f::add);
        if (body != null) e.put("bodyBase64", b64(body.getBytes(StandardCharsets.UTF_8)));
        entries.add(e);
        return e;
    }

    // =============================================================================================== helpers

    private ObjectNode paid() {
        return event(PAID, "DE01");
    }

    private ObjectNode finalized() {
        return event(FINALIZED, "DE01");
    }

    private ObjectNode refund() {
        return event(REFUNDED, "DE01");
    }

    /** A fixture event with a new id and the legal entity set. */
    private ObjectNode event(String kind, String legalEntity) {
        ObjectNode e = bases.get(kind).deepCopy();
        String id = newEventId();
        e.put("id", id);
        // business ids of its own, so no two corpus events are the same invoice, charge or refund to an ERP
        String n = id.substring("evt_".length());
        ObjectNode obj = (ObjectNode) e.path("data").path("object");
        if (kind.equals(REFUNDED)) {
            obj.put("id", "re_" + n).put("charge", "ch_" + n).put("payment_intent", "pi_" + n);
        } else if (kind.equals(CHARGE_REFUNDED)) {
            obj.put("id", "ch_" + n).put("invoice", "in_" + n).put("payment_intent", "pi_" + n);
        } else {
            obj.put("id", "in_" + n).put("number", "HX-" + n);
            if (obj.path("charge").isTextual()) obj.put("charge", "ch_" + n).put("payment_intent", "pi_" + n);
        }
        obj.put("currency", switch (legalEntity) {
            case "US01" -> "usd";
            case "GB01" -> "gbp";
            default -> "eur";
        });
        ((ObjectNode) obj.path("metadata")).put("legal_entity", legalEntity);
        return e;
    }

    private String newEventId() {
        StringBuilder sb = new StringBuilder("evt_h").append(String.format("%04d", ++eventCounter));
        for (int i = 0; i < 18; i++) sb.append(ALNUM.charAt(random.nextInt(ALNUM.length())));
        return sb.toString();
    }

    private static String id(ObjectNode ev) {
        JsonNode id = ev.get("id");
        return id != null && id.isTextual() ? id.asText() : null;
    }

    private ObjectNode entry(String category, String name, String expect, String eventId, String sign) {
        if (!names.add(name)) throw new IllegalStateException("duplicate corpus name " + name);
        ObjectNode e = JSON.createObjectNode();
        e.put("name", name).put("category", category).put("expect", expect);
        if (eventId != null) e.put("eventId", eventId);
        e.put("sign", sign);
        entries.add(e);
        return e;
    }

    private ObjectNode refuse(String category, String name, ObjectNode event, String sign, Integer status, String reason,
                              Consumer<ObjectNode> extra) {
        ObjectNode e = entry(category, name, "4xx", id(event), sign);
        if (status != null) e.put("expectStatus", status);
        if (reason != null) e.put("expectReason", reason);
        if (extra != null) extra.accept(e);
        body(e, bytes(event));
        return e;
    }

    private void refuseRaw(String category, String name, byte[] body, String eventId, int status, String reason) {
        ObjectNode e = entry(category, name, "4xx", eventId, "valid").put("expectStatus", status);
        if (reason != null) e.put("expectReason", reason);
        body(e, body);
    }

    private ObjectNode refuseRecipe(String category, String name, String eventId, ObjectNode recipe, int status, String reason) {
        ObjectNode e = entry(category, name, "4xx", eventId, "valid").put("expectStatus", status);
        if (build(recipe).length > MAX_BODY) {
            // refused by the HTTP server's body limit before the route runs
            e.put("httpLayer", true);
            if (reason == null) reason = BODY_TOO_LARGE;
        }
        if (reason != null) e.put("expectReason", reason);
        e.set("bodyRecipe", recipe);
        return e;
    }

    private ObjectNode accept(String category, String name, ObjectNode event, String sign, Consumer<ObjectNode> extra) {
        return accept(category, name, event, sign, extra, false);
    }

    private ObjectNode accept(String category, String name, ObjectNode event, String sign, Consumer<ObjectNode> extra,
                              boolean prettyPrinted) {
        ObjectNode e = entry(category, name, "accepted", id(event), sign).put("expectOutcome", "accepted");
        if (extra != null) extra.accept(e);
        body(e, prettyPrinted ? pretty(event) : bytes(event));
        return e;
    }

    private ObjectNode deadLetter(String category, String name, ObjectNode event, String reason) {
        ObjectNode e = entry(category, name, "accepted-then-dead-letter", id(event), "valid").put("expectReason", reason);
        body(e, bytes(event));
        return e;
    }

    /** A genuine event that cannot be processed: 200 parked, one dead letter of billing.stripe-event with the reason. */
    private ObjectNode park(String category, String name, ObjectNode event, String reason) {
        if (reason == null || reason.isBlank()) throw new IllegalArgumentException(name + ": a parked entry needs its reason");
        ObjectNode e = entry(category, name, "parked", id(event), "valid").put("expectReason", reason);
        body(e, bytes(event));
        return e;
    }

    /** An event of a type without effect: 200 ignored, nothing stored. */
    private ObjectNode ignore(String category, String name, ObjectNode event) {
        ObjectNode e = entry(category, name, "ignored", id(event), "valid");
        body(e, bytes(event));
        return e;
    }

    /** What an event should get: {@code expect} as in the file, with its status (4xx) or reason (4xx, parked). */
    private record Expect(String expect, Integer status, String reason) {
        static Expect refused(String reason) {
            return new Expect("4xx", 400, reason);
        }

        static Expect parked(String reason) {
            return new Expect("parked", null, reason);
        }

        static final Expect ACCEPTED = new Expect("accepted", null, null);
        static final Expect IGNORED = new Expect("ignored", null, null);
    }

    private ObjectNode expect(String category, String name, ObjectNode event, Expect x) {
        return switch (x.expect()) {
            case "4xx" -> refuse(category, name, event, "valid", x.status(), x.reason(), null);
            case "parked" -> park(category, name, event, x.reason());
            case "ignored" -> ignore(category, name, event);
            case "accepted" -> accept(category, name, event, "valid", null);
            default -> throw new IllegalArgumentException(x.expect());
        };
    }

    private static final String MARKER = "\"@@CORPUS-MARKER@@\"";

    /** A recipe for the event's JSON with the value at {@code path} replaced by {@code value} (recipe parts). */
    private static ObjectNode withValueAt(ObjectNode event, String path, ObjectNode... value) {
        ObjectNode copy = set(event.deepCopy(), path, new TextNode(MARKER.substring(1, MARKER.length() - 1)));
        String json = new String(bytes(copy), StandardCharsets.UTF_8);
        int at = json.indexOf(MARKER);
        ObjectNode[] all = new ObjectNode[value.length + 2];
        all[0] = textPart(json.substring(0, at));
        System.arraycopy(value, 0, all, 1, value.length);
        all[all.length - 1] = textPart(json.substring(at + MARKER.length()));
        return parts(all);
    }

    /** A recipe for the event's JSON with the string at {@code path} made of the given parts. */
    private static ObjectNode withStringAt(ObjectNode event, String path, ObjectNode... content) {
        ObjectNode[] quoted = new ObjectNode[content.length + 2];
        quoted[0] = textPart("\"");
        System.arraycopy(content, 0, quoted, 1, content.length);
        quoted[quoted.length - 1] = textPart("\"");
        return withValueAt(event, path, quoted);
    }

    private static ObjectNode headers(ObjectNode e) {
        return e.has("headers") ? (ObjectNode) e.get("headers") : e.putObject("headers");
    }

    private static void body(ObjectNode e, byte[] body) {
        e.put("bodyBase64", b64(body));
    }

    private static ObjectNode recipe(String repeat, int times) {
        return JSON.createObjectNode().put("repeat", repeat).put("times", times);
    }

    private static ObjectNode textPart(String text) {
        return JSON.createObjectNode().put("text", text);
    }

    private static ObjectNode repeatPart(String repeat, int times) {
        return recipe(repeat, times);
    }

    private static ObjectNode base64Part(byte[] bytes, int times) {
        return JSON.createObjectNode().put("base64", b64(bytes)).put("times", times);
    }

    private static ObjectNode parts(ObjectNode... parts) {
        ObjectNode r = JSON.createObjectNode();
        ArrayNode a = r.putArray("parts");
        for (ObjectNode p : parts) a.add(p);
        return r;
    }

    /** Builds the bytes a recipe describes (shared with the tests). */
    public static byte[] build(JsonNode recipe) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        JsonNode parts = recipe.has("parts") ? recipe.get("parts") : JSON.createArrayNode().add(recipe);
        for (JsonNode p : parts) {
            byte[] unit = p.has("text") ? p.get("text").asText().getBytes(StandardCharsets.UTF_8)
                    : p.has("base64") ? Base64.getDecoder().decode(p.get("base64").asText())
                    : p.get("repeat").asText().getBytes(StandardCharsets.UTF_8);
            int times = p.path("times").asInt(1);
            for (int i = 0; i < times; i++) out.write(unit, 0, unit.length);
        }
        return out.toByteArray();
    }

    private static boolean readable(byte[] b) {
        try {
            String text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(b)).toString();
            JsonNode n = STRICT.readTree(text);
            return n != null && n.isObject();
        } catch (CharacterCodingException e) {
            return false;
        } catch (IOException e) {
            return false;
        }
    }

    static byte[] bytes(JsonNode n) {
        try {
            return JSON.writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static byte[] pretty(JsonNode n) {
        try {
            return JSON.writerWithDefaultPrettyPrinter().writeValueAsBytes(n);
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static ObjectNode read(Path p) throws IOException {
        return (ObjectNode) JSON.readTree(p.toFile());
    }

    private static String b64(byte[] b) {
        return Base64.getEncoder().encodeToString(b);
    }

    private static byte[] concat(byte[] a, byte[] b) {
        byte[] out = java.util.Arrays.copyOf(a, a.length + b.length);
        System.arraycopy(b, 0, out, a.length, b.length);
        return out;
    }

    private static byte[] replace(byte[] haystack, byte[] needle, byte[] with) {
        for (int i = 0; i + needle.length <= haystack.length; i++) {
            if (java.util.Arrays.equals(haystack, i, i + needle.length, needle, 0, needle.length)) {
                byte[] out = new byte[haystack.length - needle.length + with.length];
                System.arraycopy(haystack, 0, out, 0, i);
                System.arraycopy(with, 0, out, i, with.length);
                System.arraycopy(haystack, i + needle.length, out, i + with.length, haystack.length - i - needle.length);
                return out;
            }
        }
        throw new IllegalStateException("marker not found");
    }

    private static byte[] gzip(byte[] b) {
        try {
            ByteArrayOutputStream bo = new ByteArrayOutputStream();
            try (GZIPOutputStream g = new GZIPOutputStream(bo)) {
                g.write(b);
            }
            byte[] out = bo.toByteArray();
            out[4] = out[5] = out[6] = out[7] = 0; // no timestamp: deterministic
            return out;
        } catch (IOException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String slug(String s) {
        StringBuilder sb = new StringBuilder();
        for (char ch : s.toCharArray()) {
            if (ch < 128 && Character.isLetterOrDigit(ch)) sb.append(Character.toLowerCase(ch));
            else if (sb.length() > 0 && sb.charAt(sb.length() - 1) != '-') sb.append('-');
        }
        String out = sb.toString().replaceAll("-+$", "");
        return out.isEmpty() ? "x" + Integer.toHexString(s.hashCode()) : out;
    }

    // ---- JSON paths: "data.object.lines.data[0].amount"

    static JsonNode get(JsonNode root, String path) {
        JsonNode n = root;
        for (String seg : segments(path)) {
            n = seg.startsWith("[") ? n.path(Integer.parseInt(seg.substring(1, seg.length() - 1))) : n.path(seg);
        }
        return n;
    }

    static ObjectNode set(ObjectNode root, String path, JsonNode value) {
        List<String> segs = segments(path);
        JsonNode parent = root;
        for (int i = 0; i < segs.size() - 1; i++) {
            String seg = segs.get(i);
            JsonNode next = seg.startsWith("[") ? parent.path(Integer.parseInt(seg.substring(1, seg.length() - 1))) : parent.path(seg);
            if (next.isMissingNode() || next.isNull()) {
                if (!(parent instanceof ObjectNode o)) throw new IllegalStateException("cannot create " + path);
                next = segs.get(i + 1).startsWith("[") ? o.putArray(seg) : o.putObject(seg);
            }
            parent = next;
        }
        String last = segs.get(segs.size() - 1);
        if (last.startsWith("[")) {
            ((ArrayNode) parent).set(Integer.parseInt(last.substring(1, last.length() - 1)), value);
        } else {
            ((ObjectNode) parent).set(last, value);
        }
        return root;
    }

    static ObjectNode remove(ObjectNode root, String path) {
        List<String> segs = segments(path);
        JsonNode parent = get(root, String.join(".", segs.subList(0, segs.size() - 1)).replace(".[", "["));
        String last = segs.get(segs.size() - 1);
        if (last.startsWith("[")) ((ArrayNode) parent).remove(Integer.parseInt(last.substring(1, last.length() - 1)));
        else ((ObjectNode) parent).remove(last);
        return root;
    }

    private static List<String> segments(String path) {
        List<String> out = new ArrayList<>();
        if (path.isEmpty()) return out;
        for (String part : path.split("\\.")) {
            int b = part.indexOf('[');
            if (b < 0) {
                out.add(part);
            } else {
                if (b > 0) out.add(part.substring(0, b));
                for (String idx : part.substring(b).split("(?=\\[)")) out.add(idx);
            }
        }
        return out;
    }
}
