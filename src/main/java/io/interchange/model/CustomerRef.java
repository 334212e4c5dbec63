package io.interchange.model;

/**
 * Who a business object belongs to: the global customer id and the id in the system that sent it.
 *
 * @param globalId global customer id (Kafka key of every event about this customer)
 * @param system   source system, e.g. {@code billing}
 * @param systemId the customer's id in that system
 */
public record CustomerRef(String globalId, String system, String systemId) {
}
