package io.interchange.mapping;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;
import java.util.HexFormat;

/**
 * SHA-256 of text, for keys and values the store keeps without holding them in clear: identity keys, the values the
 * runtime wrote to a system (echo ledger), and the references derived from event ids.
 */
public final class Fingerprint {

    /** What a field without value is fingerprinted as; no text normalises to it (it has a control character). */
    private static final String NO_VALUE = "\u0000null";

    private Fingerprint() {
    }

    public static byte[] sha256(String text) {
        try {
            return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
        } catch (NoSuchAlgorithmException e) {
            throw new IllegalStateException("SHA-256 is part of every Java runtime", e);
        }
    }

    /** The SHA-256 of the text as 64 lower-case hex digits. */
    public static String hex(String text) {
        return HexFormat.of().formatHex(sha256(text));
    }

    /**
     * The fingerprint of a field's value as a system holds it: Unicode NFC and surrounding white space stripped, so
     * a value a system gives back in another normal form or padded is still the value written; null has one of its
     * own.
     */
    public static String ofValue(String value) {
        return hex(value == null ? NO_VALUE : Normalizer.normalize(value, Normalizer.Form.NFC).strip());
    }
}
