package io.interchange.model;

import java.util.Arrays;
import java.util.Optional;

/** Every canonical event type: its CloudEvents {@code type}, the object it carries and that object's schema version. */
public enum CanonicalType {
    INVOICE_FINALIZED("io.interchange.billing.invoice.finalized", Invoice.class, "urn:interchange:canonical:invoice:1"),
    INVOICE_VOIDED("io.interchange.billing.invoice.voided", Invoice.class, "urn:interchange:canonical:invoice:1"),
    INVOICE_OVERPAID("io.interchange.billing.invoice.overpaid", Invoice.class, "urn:interchange:canonical:invoice:1"),
    INVOICE_UNCOLLECTIBLE("io.interchange.billing.invoice.uncollectible", Invoice.class,
            "urn:interchange:canonical:invoice:1"),
    PAYMENT_SUCCEEDED("io.interchange.billing.payment.succeeded", Payment.class, "urn:interchange:canonical:payment:1"),
    PAYMENT_FAILED("io.interchange.billing.payment.failed", Payment.class, "urn:interchange:canonical:payment:1"),
    REFUND_CREATED("io.interchange.billing.refund.created", Refund.class, "urn:interchange:canonical:refund:1"),
    REFUND_UPDATED("io.interchange.billing.refund.updated", Refund.class, "urn:interchange:canonical:refund:1"),
    REFUND_FAILED("io.interchange.billing.refund.failed", Refund.class, "urn:interchange:canonical:refund:1"),
    CREDIT_NOTE_ISSUED("io.interchange.billing.credit-note.issued", CreditMemo.class,
            "urn:interchange:canonical:credit-memo:1"),
    CREDIT_NOTE_VOIDED("io.interchange.billing.credit-note.voided", CreditMemo.class,
            "urn:interchange:canonical:credit-memo:1"),
    DISPUTE_OPENED("io.interchange.billing.dispute.opened", Dispute.class, "urn:interchange:canonical:dispute:1"),
    DISPUTE_FUNDS_WITHDRAWN("io.interchange.billing.dispute.funds-withdrawn", Dispute.class,
            "urn:interchange:canonical:dispute:1"),
    DISPUTE_FUNDS_REINSTATED("io.interchange.billing.dispute.funds-reinstated", Dispute.class,
            "urn:interchange:canonical:dispute:1"),
    DISPUTE_CLOSED("io.interchange.billing.dispute.closed", Dispute.class, "urn:interchange:canonical:dispute:1"),
    LEDGER_POSTED("io.interchange.ledger.posting.confirmed", LedgerConfirmation.class,
            "urn:interchange:canonical:ledger-confirmation:1"),
    CUSTOMER_CREATED("io.interchange.customer.created", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    CUSTOMER_PROPERTY_CHANGED("io.interchange.customer.property-changed", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    CUSTOMER_UPDATED("io.interchange.customer.updated", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    CUSTOMER_DELETED("io.interchange.customer.deleted", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    CUSTOMER_PRIVACY_DELETED("io.interchange.customer.privacy-deleted", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    CUSTOMER_RESTORED("io.interchange.customer.restored", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    CUSTOMER_MERGED("io.interchange.customer.merged", CustomerChange.class,
            "urn:interchange:canonical:customer-change:1"),
    ERP_PARTNER_SAVED("io.interchange.customer.erp-partner.saved", PartnerConfirmation.class,
            "urn:interchange:canonical:partner-confirmation:1"),
    ERP_PARTNER_REJECTED("io.interchange.customer.erp-partner.rejected", PartnerConfirmation.class,
            "urn:interchange:canonical:partner-confirmation:1"),
    LOYALTY_TRANSACTION("io.interchange.loyalty.transaction.created", LoyaltyTransaction.class,
            "urn:interchange:canonical:loyalty-transaction:1"),
    LOYALTY_TIER_CHANGED("io.interchange.loyalty.tier.changed", LoyaltyTierChange.class,
            "urn:interchange:canonical:loyalty-tier-change:1"),
    LOYALTY_FILING_CLOSED("io.interchange.loyalty.filing.closed", LoyaltyFiling.class,
            "urn:interchange:canonical:loyalty-filing:1"),
    CONSENT_CHANGED("io.interchange.consent.changed", ConsentChange.class,
            "urn:interchange:canonical:consent-change:1"),
    RECONCILIATION_COMPLETED("io.interchange.reconciliation.completed", ReconciliationCompleted.class,
            "urn:interchange:canonical:reconciliation-completed:1");

    private final String ceType;
    private final Class<?> dataClass;
    private final String dataSchema;

    CanonicalType(String ceType, Class<?> dataClass, String dataSchema) {
        this.ceType = ceType;
        this.dataClass = dataClass;
        this.dataSchema = dataSchema;
    }

    public String ceType() {
        return ceType;
    }

    public Class<?> dataClass() {
        return dataClass;
    }

    public String dataSchema() {
        return dataSchema;
    }

    public static Optional<CanonicalType> byCeType(String type) {
        return Arrays.stream(values()).filter(t -> t.ceType.equals(type)).findFirst();
    }
}
