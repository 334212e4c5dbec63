package io.interchange.store;

/**
 * A link the cross-reference store refuses because it would give a customer two records in one system and scope, or
 * a record two customers. Permanent: an operator decides which record is the customer's (a retry changes nothing).
 */
public class CrossReferenceConflict extends RuntimeException {

    public CrossReferenceConflict(String message) {
        super(message);
    }
}
