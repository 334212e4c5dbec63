package io.interchange.model;

import java.util.List;

/**
 * Canonical confirmation of a business partner (the ERP side of a customer) replicated to an ERP, version 1, as the
 * ERP sent it back asynchronously. The customer sync links {@code partnerNumber} to the customer whose partner UUID
 * this is.
 *
 * @param erp              the ERP target, e.g. {@code S4HANA}
 * @param partnerUuid      our UUID of the partner, derived from the customer's global id
 * @param partnerNumber    the number the ERP gave the partner; null when it was not saved
 * @param erpPartnerUuid   the ERP's own UUID of the partner, where it sends one
 * @param requestMessageId the ID of our request message it confirms
 * @param saved            false when the ERP reports an error
 * @param notes            the ERP's log notes, for an operator
 */
public record PartnerConfirmation(String erp, String partnerUuid, String partnerNumber, String erpPartnerUuid,
                                  String requestMessageId, boolean saved, List<String> notes) {
}
