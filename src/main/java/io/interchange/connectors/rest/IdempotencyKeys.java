package io.interchange.connectors.rest;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Idempotency keys derived from what a request creates, never random: the same creation asked again (a retry, a
 * replay after a crash, another instance taking over) carries the same key, and the target performs it once.
 */
public final class IdempotencyKeys {

    private IdempotencyKeys() {
    }

    /**
     * {@code <purpose>-<hash>}: the purpose readable in the target's logs (e.g. {@code customer-create}), the hash over
     * the parts (each length-prefixed, so {@code ("ab","c")} and {@code ("a","bc")} differ). 64 hex characters of
     * SHA-256 keep the key under Stripe's 255 characters.
     */
    public static String derive(String purpose, String... parts) {
        try {
            MessageDigest sha = MessageDigest.getInstance("SHA-256");
            for (String part : parts) {
                byte[] bytes = (part == null ? "" : part).getBytes(StandardCharsets.UTF_8);
                sha.update((bytes.length + ":").getBytes(StandardCharsets.US_ASCII));
                sha.update(bytes);
            }
            return purpose + "-" + HexFormat.of().formatHex(sha.digest());
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every JVM", e);
        }
    }
}
