package io.interchange.model;

import java.util.Map;

/**
 * Canonical "reconciliation completed" event, version 1: a run of a comparison for a legal entity and a period
 * {@code [periodFrom, periodTo)}, what each side held and the differences found per kind (none corrected).
 *
 * @param status         COMPLETED, or FAILED with {@code detail} the reason
 * @param billingRecords the records read of the comparison's first side (billing, for {@code billing-erp}); the
 *                       names are those of the first comparison, kept for its consumers
 * @param erpRecords     of its second side
 * @param confirmationRecords of its third side, if any
 * @param recordsBySide  the same counts by the sides' names ({@code billing}, {@code ERP ledger}, ...): added in the
 *                       same version, absent from events of runtimes before it
 */
public record ReconciliationCompleted(long runId, String comparison, String legalEntity, String periodFrom,
                                      String periodTo, String status, String startedAt, String finishedAt,
                                      long billingRecords, long erpRecords, long confirmationRecords,
                                      long unreadableRecords, long matched, long differences,
                                      Map<String, Long> differencesByKind, String detail,
                                      Map<String, Long> recordsBySide) {
}
