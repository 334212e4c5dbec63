package io.interchange.model;

/**
 * One line of a ledger posting: a GL account debited or credited by a positive amount in minor units.
 *
 * @param side      {@code DEBIT} or {@code CREDIT}
 * @param tax       true for a tax line (then {@code taxCode} and {@code taxBaseMinor} are set)
 */
public record LedgerLine(String account, String side, long amountMinor, boolean tax, String taxCode,
                         long taxBaseMinor, String text) {

    public static final String DEBIT = "DEBIT";
    public static final String CREDIT = "CREDIT";
}
