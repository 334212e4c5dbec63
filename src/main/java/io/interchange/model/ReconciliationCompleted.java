package io.interchange.model;

import java.util.Map;

/**
 * Canonical "reconciliation completed" event, version 1: a run of a comparison for a legal entity and a period
 * {@code [periodFrom, periodTo)}, what each side held and the differences found per kind (none corrected).
 *
 * @param status COMPLETED, or FAILED with {@code detail} the reason
 */
public record ReconciliationCompleted(long runId, String comparison, String legalEntity, String periodFrom,
                                      String periodTo, String status, String startedAt, String finishedAt,
                                      long billingRecords, long erpRecords, long confirmationRecords,
                                      long unreadableRecords, long matched, long differences,
                                      Map<String, Long> differencesByKind, String detail) {
}
