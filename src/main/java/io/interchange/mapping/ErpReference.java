package io.interchange.mapping;

/**
 * The reference a posting carries into an ERP's ledger and is found again by: 16 characters (SAP's
 * {@code DocumentReferenceID}, XBLNR, is CHAR 16, and {@code OriginalReferenceDocument} holds 20), upper case (SAP
 * stores both upper-cased, so two billing ids differing only in case must not meet there), and one per posting
 * (a payment and the invoice it pays, a void and the invoice it voids, are different entries: an ERP that refuses a
 * second entry under one reference must not take them for duplicates).
 *
 * <p>It is the first 80 bits of the SHA-256 of the source event id in Crockford's base32: the same event always gives
 * the same reference, and two events share one with a probability of about n²/2⁸¹ (below 10⁻⁹ for 10⁹ postings).
 */
public final class ErpReference {

    private static final char[] CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ".toCharArray();
    public static final int LENGTH = 16;

    private ErpReference() {
    }

    public static String of(String sourceEventId) {
        if (sourceEventId == null || sourceEventId.isEmpty()) {
            throw new IllegalArgumentException("an ERP reference needs the posting's source event id");
        }
        byte[] hash = Fingerprint.sha256(sourceEventId);
        char[] out = new char[LENGTH];
        long bits = 0;
        int held = 0;
        int next = 0;
        for (int i = 0; i < LENGTH; i++) {
            while (held < 5) {
                bits = (bits << 8) | (hash[next++] & 0xff);
                held += 8;
            }
            out[i] = CROCKFORD[(int) (bits >>> (held - 5)) & 31];
            held -= 5;
        }
        return new String(out);
    }
}
