package io.interchange.connectors.crm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.connectors.rest.RestBody;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.reliability.PermanentFailure;

import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Set;

/**
 * HubSpot's Communication Preferences API v3, how a contact's e-mail consent is written in a real portal (the contact
 * property {@code hs_email_optout}, "Unsubscribed from all email", is HubSpot's own and read-only to the CRM API): an
 * address subscribed to or unsubscribed from one subscription type ({@code POST /communication-preferences/v3/subscribe}
 * and {@code /unsubscribe}, with a legal basis), its statuses read by {@code GET
 * /communication-preferences/v3/status/email/{emailAddress}}. It sends through the HubSpot CRM client's target
 * ({@link HubSpotCrm#client()}): the same token, rate limit, retry and failure classification.
 */
public final class HubSpotCommunicationPreferences {

    public static final String SUBSCRIBED = "SUBSCRIBED";
    public static final String NOT_SUBSCRIBED = "NOT_SUBSCRIBED";
    /** HubSpot's legal bases of a subscription status (its {@code legalBasis} enum). */
    public static final Set<String> LEGAL_BASES = Set.of("LEGITIMATE_INTEREST_PQL", "LEGITIMATE_INTEREST_CLIENT",
            "PERFORMANCE_OF_CONTRACT", "CONSENT_WITH_NOTICE", "NON_GDPR", "PROCESS_AND_STORE",
            "LEGITIMATE_INTEREST_OTHER");
    /**
     * The contact property HubSpot keeps per subscription type ("Opted out of email: <type>", internal name
     * {@code hs_email_optout_<subscription id>}), true when the contact is not subscribed to it. As far as we know it
     * follows the subscription status and is named in {@code contact.propertyChange} webhooks like any contact
     * property; check it in the portal's property settings before relying on it.
     */
    public static final String OPT_OUT_PROPERTY_PREFIX = "hs_email_optout_";

    private static final ObjectMapper JSON = new ObjectMapper();

    /** One subscription status of an address ({@code PublicSubscriptionStatus}). */
    public record Status(String id, String name, String status, String sourceOfStatus, String legalBasis) {
        public boolean subscribed() {
            return SUBSCRIBED.equals(status);
        }
    }

    private final RestClient client;
    private final String subscriptionId;
    private final String legalBasis;
    private final String legalBasisExplanation;

    public HubSpotCommunicationPreferences(HubSpotCrm crm, String subscriptionId, String legalBasis,
                                           String legalBasisExplanation) {
        if (!LEGAL_BASES.contains(legalBasis)) {
            throw new IllegalArgumentException("HubSpot legal basis " + legalBasis + " is not one of " + LEGAL_BASES);
        }
        this.client = crm.client();
        this.subscriptionId = subscriptionId == null ? "" : subscriptionId.strip();
        this.legalBasis = legalBasis;
        this.legalBasisExplanation = legalBasisExplanation;
    }

    /** The consent settings of the configuration, on the runtime's one HubSpot client. */
    public static HubSpotCommunicationPreferences from(HubSpotCrm crm, Config config) {
        return new HubSpotCommunicationPreferences(crm, config.get(Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID),
                config.get(Settings.HUBSPOT_CONSENT_LEGAL_BASIS), config.get(Settings.HUBSPOT_CONSENT_LEGAL_BASIS_EXPLANATION));
    }

    /** The subscription type consent is written to; empty while not configured. */
    public String subscriptionId() {
        return subscriptionId;
    }

    public boolean configured() {
        return !subscriptionId.isEmpty();
    }

    /** The contact property HubSpot keeps for the subscription type (see {@link #OPT_OUT_PROPERTY_PREFIX}). */
    public String optOutProperty() {
        return OPT_OUT_PROPERTY_PREFIX + subscriptionId;
    }

    /** The address's status of every subscription type HubSpot reports for it. */
    public List<Status> statuses(String emailAddress) {
        JsonNode answer = client.call(RestRequest.get("/communication-preferences/v3/status/email/"
                + pathSegment(emailAddress))).json();
        java.util.List<Status> out = new java.util.ArrayList<>();
        for (JsonNode s : answer.path("subscriptionStatuses")) out.add(status(s));
        return out;
    }

    /** The address's status of the configured subscription type, or null when HubSpot reports none. */
    public Status status(String emailAddress) {
        return statuses(emailAddress).stream().filter(s -> subscriptionId.equals(s.id())).findFirst().orElse(null);
    }

    /**
     * Subscribes the address to the configured subscription type, or unsubscribes it; {@code explanation} is added to
     * the configured legal-basis explanation. An address already in the wanted state is success: HubSpot refuses to
     * unsubscribe an address that is not subscribed with a 400 whose only tell is its prose, so a refused call is
     * followed by one status read, and a status that is the wanted one means done (also when another writer got there
     * first). Why not read first: the common write changes the status, and reading only after a refusal costs one
     * request instead of two. Any other refusal stays a permanent failure with HubSpot's reason.
     */
    public Status set(String emailAddress, boolean subscribed, String explanation) {
        if (!configured()) {
            throw new PermanentFailure("HubSpot consent not written: " + Settings.HUBSPOT_CONSENT_SUBSCRIPTION_ID.key()
                    + " is empty (the id of the portal's marketing subscription type)");
        }
        ObjectNode body = JSON.createObjectNode().put("emailAddress", emailAddress).put("subscriptionId", subscriptionId)
                .put("legalBasis", legalBasis).put("legalBasisExplanation", (legalBasisExplanation.isBlank() ? ""
                        : legalBasisExplanation.strip() + " ") + (explanation == null ? "" : explanation).strip());
        try {
            return status(client.call(RestRequest.post("/communication-preferences/v3/"
                    + (subscribed ? "subscribe" : "unsubscribe"), RestBody.json(body))).json());
        } catch (PermanentFailure refused) {
            // only a 400 may mean "already so" (the kit's reason says "answered <status>"); 401, 403, 404 stay as they are
            if (refused.getMessage() == null || !refused.getMessage().contains(" answered 400")) throw refused;
            Status now;
            try {
                now = status(emailAddress);
            } catch (RuntimeException readFailed) {
                refused.addSuppressed(readFailed);
                throw refused;
            }
            if (now != null && now.subscribed() == subscribed) return now;
            throw refused;
        }
    }

    private static Status status(JsonNode s) {
        return new Status(s.path("id").asText(null), s.path("name").asText(null), s.path("status").asText(null),
                s.path("sourceOfStatus").asText(null), s.path("legalBasis").asText(null));
    }

    /** An e-mail address as one path segment: percent-encoded, with '@' kept (RFC 3986 allows it in a segment). */
    static String pathSegment(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8).replace("+", "%20").replace("%40", "@");
    }
}
