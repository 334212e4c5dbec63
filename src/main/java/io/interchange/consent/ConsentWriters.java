package io.interchange.consent;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.connectors.crm.HubSpotCommunicationPreferences;
import io.interchange.connectors.crm.HubSpotCrm;
import io.interchange.connectors.crm.SalesforceCrm;
import io.interchange.connectors.mailchimp.MailchimpMembers;
import io.interchange.connectors.mailchimp.MailchimpWebhook;
import io.interchange.connectors.rest.RestBody;
import io.interchange.connectors.rest.RestClient;
import io.interchange.connectors.rest.RestRequest;
import io.interchange.customer.LoyaltyMemberTarget;
import io.interchange.model.ConsentChange;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.ConsentStates;
import io.interchange.store.CrossReferences;

import java.util.List;
import java.util.Map;

/** How the consent in force is written to each system (the systems' own fields, named once here). */
public final class ConsentWriters {

    /**
     * HubSpot's contact property "Unsubscribed from all email" (true = opted out), set by HubSpot itself and read-only
     * to the CRM API: read, never written.
     */
    public static final String HUBSPOT_OPT_OUT = "hs_email_optout";
    /** Salesforce's Contact field "Email Opt Out" (true = opted out). */
    public static final String SALESFORCE_OPT_OUT = "HasOptedOutOfEmail";
    /**
     * The loyalty platform's customer metadata (Voucherify documents no consent object in its current API): whether
     * the customer accepts marketing e-mail, and when that was stated (ISO-8601), set by the loyalty app and by us.
     */
    public static final String LOYALTY_OPT_IN = "email_marketing_optin";
    public static final String LOYALTY_OPT_IN_AT = "email_marketing_optin_at";

    private static final ObjectMapper JSON = new ObjectMapper();

    private ConsentWriters() {
    }

    /** Mailchimp: the member's status in its audience (link scope = list id, id = subscriber hash). */
    public static ConsentSync.Writer mailchimp(MailchimpMembers members) {
        return new ConsentSync.Writer() {
            @Override
            public String system() {
                return MailchimpWebhook.SYSTEM;
            }

            @Override
            public String field() {
                return MailchimpWebhook.STATUS_FIELD;
            }

            @Override
            public String value(boolean granted) {
                return granted ? MailchimpMembers.SUBSCRIBED : MailchimpMembers.UNSUBSCRIBED;
            }

            @Override
            public void write(CrossReferences.Link link, ConsentStates.State state) {
                members.setStatus(link.scope(), link.externalId(), value(state.granted()));
            }
        };
    }

    /**
     * HubSpot: the contact's status of the configured subscription type, through the Communication Preferences API
     * (contacts only: a company has no consent). That API takes the e-mail address, the link holds the contact id, and
     * the consent state carries no address: one read of the contact's {@code email} (and {@code hs_email_optout}, in
     * the same GET) comes first. A contact unsubscribed from all e-mail cannot be subscribed again by an integration
     * (only by the contact, on HubSpot's preferences page): granting it is a permanent failure saying so, not a retry.
     * The echo field is the subscription type's own contact property, which HubSpot changes with the status.
     */
    public static ConsentSync.Writer hubSpot(HubSpotCrm hubSpot, HubSpotCommunicationPreferences preferences) {
        return new ConsentSync.Writer() {
            @Override
            public String system() {
                return "hubspot";
            }

            @Override
            public boolean writes(CrossReferences.Link link) {
                return link.scope().endsWith("/contact");
            }

            @Override
            public String field() {
                return preferences.optOutProperty();
            }

            @Override
            public String value(boolean granted) {
                return String.valueOf(!granted);
            }

            @Override
            public void write(CrossReferences.Link link, ConsentStates.State state) {
                if (!preferences.configured()) preferences.set(null, state.granted(), null); // refuses, naming the setting
                JsonNode contact = hubSpot.read("contacts", link.externalId(), List.of("email", HUBSPOT_OPT_OUT));
                String email = contact.path("email").asText("").strip();
                if (email.isEmpty()) {
                    throw new PermanentFailure("HubSpot contact " + link.externalId() + " has no e-mail address: its "
                            + "subscription status cannot be written");
                }
                if (state.granted() && "true".equalsIgnoreCase(contact.path(HUBSPOT_OPT_OUT).asText())) {
                    throw new PermanentFailure("HubSpot contact " + link.externalId() + " is unsubscribed from all e-mail ("
                            + HUBSPOT_OPT_OUT + "): HubSpot lets no integration subscribe it again; only the contact can, "
                            + "on HubSpot's subscription preferences page");
                }
                preferences.set(email, state.granted(), "(" + state.source() + ", "
                        + ConsentChange.time(state.sourceTime()) + ")");
            }
        };
    }

    /** Salesforce: the Contact's {@code HasOptedOutOfEmail}, with the runtime's call options (its echo tag). */
    public static ConsentSync.Writer salesforce(SalesforceCrm salesforce) {
        return new ConsentSync.Writer() {
            @Override
            public String system() {
                return "salesforce";
            }

            @Override
            public boolean writes(CrossReferences.Link link) {
                return link.scope().endsWith("/contact");
            }

            @Override
            public String field() {
                return SALESFORCE_OPT_OUT;
            }

            @Override
            public String value(boolean granted) {
                return String.valueOf(!granted);
            }

            @Override
            public void write(CrossReferences.Link link, ConsentStates.State state) {
                List<SalesforceCrm.Result> results = salesforce.update("Contact",
                        Map.of(link.externalId(), Map.of(SALESFORCE_OPT_OUT, !state.granted())));
                if (results.isEmpty() || !results.get(0).success()) {
                    throw new PermanentFailure("Salesforce refused " + SALESFORCE_OPT_OUT + " of Contact "
                            + link.externalId() + ": " + (results.isEmpty() ? "no result" : results.get(0).reason()));
                }
            }
        };
    }

    /**
     * The loyalty platform: the customer's metadata by Voucherify's upsert by {@code source_id} (the global id), which
     * changes only the keys sent. Its echo record is the global id, which its {@code customer.updated} events carry.
     */
    public static ConsentSync.Writer loyalty(RestClient loyalty) {
        return new ConsentSync.Writer() {
            @Override
            public String system() {
                return LoyaltyMemberTarget.SYSTEM;
            }

            @Override
            public String echoRecord(CrossReferences.Link link) {
                return link.globalId();
            }

            @Override
            public String field() {
                return LOYALTY_OPT_IN;
            }

            @Override
            public String value(boolean granted) {
                return String.valueOf(granted);
            }

            @Override
            public void write(CrossReferences.Link link, ConsentStates.State state) {
                ObjectNode body = JSON.createObjectNode().put("source_id", link.globalId());
                body.putObject("metadata").put(LOYALTY_OPT_IN, state.granted())
                        .put(LOYALTY_OPT_IN_AT, ConsentChange.time(state.sourceTime()));
                loyalty.call(RestRequest.post("/v1/customers", RestBody.json(body)));
            }
        };
    }

}
