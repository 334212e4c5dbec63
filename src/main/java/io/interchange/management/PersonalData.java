package io.interchange.management;

import java.util.regex.Pattern;

/**
 * Masks personal data in text shown to operators and written to logs: e-mail addresses anywhere, and the values of
 * JSON fields that name a person or a way to reach one. Ids stay visible; they are what operators search by.
 */
public final class PersonalData {

    // Anchored at a word start with bounded, possessive parts: linear time even on megabytes without an '@'.
    private static final Pattern EMAIL = Pattern.compile(
            "(?<![A-Za-z0-9._%+\\-])[A-Za-z0-9._%+\\-]{1,64}+@(?:[A-Za-z0-9\\-]{1,63}+\\.){1,8}[A-Za-z]{2,24}+");
    /** Longest text masked; longer text is cut first (log lines and operator views need no more). */
    static final int MAX_CHARS = 64_000;
    private static final Pattern PERSONAL_FIELD = Pattern.compile(
            "(\"(?:[a-z_]*_)?(?:email|name|phone|address|line1|line2|postal_code|tax_id)\"\\s*:\\s*)\"(?:[^\"\\\\]|\\\\.)*\"",
            Pattern.CASE_INSENSITIVE);

    private PersonalData() {
    }

    public static String mask(String text) {
        if (text == null) return null;
        if (text.length() > MAX_CHARS) {
            text = text.substring(0, MAX_CHARS) + "… (" + text.length() + " characters)";
        }
        String masked = PERSONAL_FIELD.matcher(text).replaceAll("$1\"***\"");
        return EMAIL.matcher(masked).replaceAll("***@***");
    }
}
