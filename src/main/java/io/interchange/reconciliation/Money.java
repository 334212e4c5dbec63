package io.interchange.reconciliation;

import java.math.BigDecimal;
import java.util.Currency;

/** Amounts in minor units of their currency (cents), as billing counts them, so both sides compare to the cent. */
final class Money {

    private Money() {
    }

    /** Minor units of a currency: its ISO 4217 digits, 2 for a code the JDK does not know. */
    static int digits(String currency) {
        try {
            int d = Currency.getInstance(currency).getDefaultFractionDigits();
            return d < 0 ? 2 : d;
        } catch (IllegalArgumentException | NullPointerException e) {
            return 2;
        }
    }

    /** The amount in minor units; an amount finer than the currency's minor unit fails (it cannot be a cent figure). */
    static long minor(BigDecimal amount, String currency) {
        return amount.movePointRight(digits(currency)).longValueExact();
    }

    /** Minor units as a decimal amount of the currency, e.g. 14040 EUR as {@code 140.40}. */
    static String format(Long minor, String currency) {
        if (minor == null) return "";
        return BigDecimal.valueOf(minor, currency == null ? 2 : digits(currency)).toPlainString();
    }
}
