package io.interchange.connectors.erp;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * S/4HANA's released read API of business partners, {@code API_BUSINESS_PARTNER} (OData V2, communication scenario
 * SAP_COM_0008), entity set {@value #ENTITY_SET}, its property and navigation names as in SAP's published service
 * definition: {@code BusinessPartner} (the number), {@code BusinessPartnerFullName}, {@code BusinessPartnerUUID},
 * {@code BusinessPartnerCategory}, {@code CreationDate}; the addresses {@code to_BusinessPartnerAddress}
 * ({@code A_BusinessPartnerAddress}: {@code Country}) with their e-mail addresses {@code to_EmailAddress}
 * ({@code A_AddressEmailAddress}: {@code EmailAddress}, {@code IsDefaultEmailAddress}); the customer role
 * {@code to_Customer} with its company codes {@code to_CustomerCompany} ({@code A_CustomerCompany}:
 * {@code CompanyCode}). OData V2 cannot filter a partner by a company code of its 1:n navigation, so a read asks for
 * the partners created up to a date, expanded, ordered by number and paged with {@code $top}/{@code $skip} (or SAP's
 * own {@code __next} link), and the caller keeps those of its company code.
 */
public final class S4PartnerReads {

    /** The service root's path on the S/4HANA host. */
    public static final String SERVICE = "/sap/opu/odata/sap/API_BUSINESS_PARTNER";
    public static final String ENTITY_SET = "A_BusinessPartner";
    static final String SELECT = "BusinessPartner,BusinessPartnerFullName,BusinessPartnerUUID,BusinessPartnerCategory,"
            + "CreationDate,to_BusinessPartnerAddress/Country,to_BusinessPartnerAddress/to_EmailAddress/EmailAddress,"
            + "to_BusinessPartnerAddress/to_EmailAddress/IsDefaultEmailAddress,to_Customer/to_CustomerCompany/CompanyCode";
    static final String EXPAND = "to_BusinessPartnerAddress,to_BusinessPartnerAddress/to_EmailAddress,"
            + "to_Customer/to_CustomerCompany";
    private static final ObjectMapper JSON = new ObjectMapper();

    private S4PartnerReads() {
    }

    /**
     * The request of one page of the partners created before {@code createdBefore} (CreationDate, a date), ordered by
     * number: the first page when {@code cursor} is null, else the {@code $skip} or {@code __next} query the page
     * before named.
     */
    public static ErpConnector.ReadRequest request(LocalDate createdBefore, String cursor, int pageSize) {
        String[] json = {"Accept", "application/json"};
        if (cursor != null && cursor.startsWith("?")) return new ErpConnector.ReadRequest(cursor.substring(1), json, null);
        String filter = "CreationDate lt datetime'" + createdBefore + "T00:00:00'";
        return new ErpConnector.ReadRequest("$filter=" + encode(filter) + "&$select=" + encode(SELECT) + "&$expand="
                + encode(EXPAND) + "&$orderby=BusinessPartner&$top=" + pageSize + "&$skip="
                + (cursor == null ? "0" : cursor) + "&$format=json", json, null);
    }

    /** Reads one page's answer: its partners and the cursor of the next page (null on the last). */
    public static ErpConnector.PartnerPage read(int httpStatus, byte[] body, String cursor, int pageSize) {
        if (httpStatus == 401 || httpStatus == 403) {
            throw new PermanentFailure("S/4HANA's business partner API refused the credentials (HTTP " + httpStatus
                    + "); the communication user needs API_BUSINESS_PARTNER (SAP_COM_0008)");
        }
        if (httpStatus == 408 || httpStatus == 429 || httpStatus >= 500) {
            throw new TransientFailure("S/4HANA's business partner API unavailable (HTTP " + httpStatus + ")"
                    + SoapSupport.snippet(body));
        }
        if (httpStatus != 200) {
            throw new PermanentFailure("S/4HANA's business partner API answered HTTP " + httpStatus + SoapSupport.snippet(body));
        }
        JsonNode d;
        try {
            d = JSON.readTree(body).path("d");
            if (!d.path("results").isArray()) throw new IllegalArgumentException("no d.results array");
        } catch (java.io.IOException | IllegalArgumentException e) {
            throw new PermanentFailure("S/4HANA's business partner API answered something that is not OData JSON ("
                    + e.getMessage() + ")" + SoapSupport.snippet(body));
        }
        List<ErpConnector.Partner> partners = new ArrayList<>();
        for (JsonNode bp : d.path("results")) {
            String email = null;
            String country = null;
            for (JsonNode address : results(bp.path("to_BusinessPartnerAddress"))) {
                if (country == null) country = text(address.path("Country"));
                for (JsonNode mail : results(address.path("to_EmailAddress"))) {
                    if (email == null || mail.path("IsDefaultEmailAddress").asBoolean(false)) {
                        email = text(mail.path("EmailAddress"));
                    }
                }
            }
            Set<String> companies = new LinkedHashSet<>();
            for (JsonNode company : results(bp.path("to_Customer").path("to_CustomerCompany"))) {
                String code = text(company.path("CompanyCode"));
                if (code != null) companies.add(code);
            }
            String created = text(bp.path("CreationDate"));
            partners.add(new ErpConnector.Partner(bp.path("BusinessPartner").asText(),
                    text(bp.path("BusinessPartnerFullName")), email, country, companies,
                    created == null ? null : S4HanaConnector.odataDate(created)));
        }
        long skip = cursor == null ? 0 : cursor.startsWith("?") ? S4HanaConnector.queryNumber(cursor, "$skip", -1) : Long.parseLong(cursor);
        long top = cursor != null && cursor.startsWith("?") ? S4HanaConnector.queryNumber(cursor, "$top", -1) : pageSize;
        String next;
        if (d.hasNonNull("__next")) {
            String link = d.path("__next").asText();
            int q = link.indexOf('?');
            next = q < 0 ? null : link.substring(q);
        } else if (skip < 0 || top < 0) {
            next = null;
        } else {
            next = partners.size() >= top ? String.valueOf(skip + partners.size()) : null;
        }
        return new ErpConnector.PartnerPage(partners, next);
    }

    /** A navigation's entities: V2 JSON gives a 1:n one as {@code {"results": [...]}}, a 0..1 one as the object. */
    private static List<JsonNode> results(JsonNode navigation) {
        List<JsonNode> out = new ArrayList<>();
        if (navigation.path("results").isArray()) navigation.path("results").forEach(out::add);
        else if (navigation.isObject() && !navigation.has("__deferred")) out.add(navigation);
        return out;
    }

    private static String text(JsonNode n) {
        return n.isTextual() && !n.asText().isBlank() ? n.asText().strip() : null;
    }

    private static String encode(String value) {
        return URLEncoder.encode(value, StandardCharsets.UTF_8).replace("+", "%20");
    }
}
