package io.interchange.model;

/**
 * Canonical customer, version 1: the current state of one customer as the runtime holds it, each field as the system
 * that owns it last set it. Targets that take whole records (an ERP's business partner replication, which treats
 * what a message leaves out as removed) are written from it; change events ({@link CustomerChange}) update it.
 * Every field but the global id may be null: a field no system has set yet. Field names are those of
 * {@code mappings/customer/ownership.csv}, which says which system may set each.
 *
 * @param globalId         the customer's global id
 * @param kind             {@code person} or {@code organisation}
 * @param firstName         of a person
 * @param lastName          of a person
 * @param companyName       of an organisation
 * @param email             the customer's main e-mail address
 * @param phone             the customer's main telephone number, as given (E.164 where the source has it)
 * @param billingAddress    the customer's billing address
 * @param taxId             the customer's VAT or tax registration number, as given
 * @param preferredLanguage correspondence language, ISO 639-1 (e.g. {@code de})
 */
public record Customer(String globalId, String kind, String firstName, String lastName, String companyName,
                       String email, String phone, PostalAddress billingAddress, String taxId,
                       String preferredLanguage) {

    /**
     * A postal address.
     *
     * @param country ISO 3166-1 alpha-2
     * @param region  ISO 3166-2 subdivision code without the country (e.g. {@code CA}), where the country has them
     */
    public record PostalAddress(String street, String houseNumber, String postalCode, String city, String region,
                                String country) {
    }
}
