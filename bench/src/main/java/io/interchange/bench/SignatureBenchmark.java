package io.interchange.bench;

import io.interchange.connectors.billing.StripeSignatureVerifier;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.sandbox.StripeSigner;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;

import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;
import java.nio.charset.StandardCharsets;
import java.security.GeneralSecurityException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.Random;
import java.util.concurrent.TimeUnit;

/**
 * {@code Stripe-Signature} verification of a valid delivery: the product's {@link StripeSignatureVerifier} (which
 * obtains and keys a new {@code Mac} on every call) against a minimal hand-written check with a cached {@code Mac}
 * per thread. {@code verify_handMacPerCall} is a diagnostic: the minimal check with a new Mac per call, so the gap
 * splits into "Mac per call" and "everything else" (header split, hex parse, payload copy).
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Fork(value = 1, jvmArgsAppend = {"-Xms1g", "-Xmx1g"})
public class SignatureBenchmark {

    private static final String SECRET = "whsec_bench_0123456789abcdefghijklmnopqrstuv";
    private static final long TIMESTAMP = 1_763_802_001L;
    private static final Duration TOLERANCE = Duration.ofMinutes(5);

    @Param({"1024", "4096"})
    public int payloadBytes;

    private byte[] payload;
    private String header;
    private StripeSignatureVerifier ours;
    private HandVerifier handCached;
    private HandVerifier handPerCall;

    @Setup
    public void setUp() {
        payload = new byte[payloadBytes];
        Random random = new Random(42);
        for (int i = 0; i < payload.length; i++) {
            payload[i] = (byte) (' ' + random.nextInt(95)); // printable ASCII, like a JSON body
        }
        header = StripeSigner.header(SECRET, TIMESTAMP, payload);
        // clock a few seconds after signing, so every delivery is fresh for both verifiers
        Clock clock = Clock.fixed(Instant.ofEpochSecond(TIMESTAMP + 3), ZoneOffset.UTC);
        ours = new StripeSignatureVerifier(SECRET, TOLERANCE, clock);
        handCached = new HandVerifier(SECRET, TOLERANCE, clock, true);
        handPerCall = new HandVerifier(SECRET, TOLERANCE, clock, false);

        ours.verify(header, payload); // throws if it does not accept
        check(handCached.verify(header, payload) && handPerCall.verify(header, payload), "baseline refuses a valid signature");
        byte[] tampered = payload.clone();
        tampered[0] ^= 1;
        check(!handCached.verify(header, tampered) && !handPerCall.verify(header, tampered), "baseline accepts a tampered body");
        try {
            ours.verify(header, tampered);
            throw new IllegalStateException("product accepts a tampered body");
        } catch (WebhookRejection expected) {
            // as it should
        }
    }

    /** Returns normally or throws; the HMAC decides which, so the work cannot be eliminated. */
    @Benchmark
    public void verify_ours() {
        ours.verify(header, payload);
    }

    @Benchmark
    public boolean verify_handCachedMac() {
        return handCached.verify(header, payload);
    }

    @Benchmark
    public boolean verify_handMacPerCall() {
        return handPerCall.verify(header, payload);
    }

    /**
     * Minimal correct check: {@code t=} and every {@code v1=} of the header, HMAC-SHA256 over
     * {@code "<t>.<payload>"} without copying the payload, constant-time comparison against each v1 without decoding
     * it to an array, then the timestamp tolerance.
     */
    static final class HandVerifier {
        private final SecretKeySpec key;
        private final ThreadLocal<Mac> cached;
        private final boolean cacheMac;
        private final long toleranceSeconds;
        private final Clock clock;

        HandVerifier(String secret, Duration tolerance, Clock clock, boolean cacheMac) {
            this.key = new SecretKeySpec(secret.getBytes(StandardCharsets.UTF_8), "HmacSHA256");
            this.cached = ThreadLocal.withInitial(this::newMac);
            this.cacheMac = cacheMac;
            this.toleranceSeconds = tolerance.toSeconds();
            this.clock = clock;
        }

        boolean verify(String header, byte[] payload) {
            // t=<digits>
            int tStart = -1;
            int tEnd = -1;
            for (int i = 0; i < header.length(); i = next(header, i)) {
                if (header.startsWith("t=", i)) {
                    tStart = i + 2;
                    tEnd = end(header, tStart);
                    break;
                }
            }
            if (tStart < 0 || tEnd == tStart) return false;
            long timestamp = 0;
            for (int i = tStart; i < tEnd; i++) {
                char c = header.charAt(i);
                if (c < '0' || c > '9' || i - tStart > 18) return false;
                timestamp = timestamp * 10 + (c - '0');
            }

            Mac mac = cacheMac ? cached.get() : newMac();
            for (int i = tStart; i < tEnd; i++) mac.update((byte) header.charAt(i));
            mac.update((byte) '.');
            byte[] expected = mac.doFinal(payload);

            boolean match = false;
            for (int i = 0; i < header.length(); i = next(header, i)) {
                if (header.startsWith("v1=", i)) {
                    match |= equalsHex(expected, header, i + 3, end(header, i + 3));
                }
            }
            return match && clock.instant().getEpochSecond() - timestamp <= toleranceSeconds;
        }

        private Mac newMac() {
            try {
                Mac mac = Mac.getInstance("HmacSHA256");
                mac.init(key);
                return mac;
            } catch (GeneralSecurityException e) {
                throw new IllegalStateException(e);
            }
        }

        /** Constant time in the content: every hex digit is compared whatever the earlier ones were. */
        private static boolean equalsHex(byte[] expected, String s, int from, int to) {
            if (to - from != expected.length * 2) return false;
            int diff = 0;
            for (int k = 0; k < expected.length; k++) {
                int hi = Character.digit(s.charAt(from + 2 * k), 16);
                int lo = Character.digit(s.charAt(from + 2 * k + 1), 16);
                diff |= (hi | lo) >>> 31; // -1 for a non-hex digit
                diff |= ((hi << 4 | lo) ^ expected[k]) & 0xff;
            }
            return diff == 0;
        }

        private static int end(String s, int from) {
            int comma = s.indexOf(',', from);
            return comma < 0 ? s.length() : comma;
        }

        private static int next(String s, int from) {
            int comma = s.indexOf(',', from);
            return comma < 0 ? s.length() : comma + 1;
        }
    }

    private static void check(boolean ok, String message) {
        if (!ok) {
            throw new IllegalStateException(message);
        }
    }
}
