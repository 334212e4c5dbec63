package io.interchange.connectors.mailchimp;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.connectors.http.WebhookRejection;
import io.interchange.connectors.rest.FormBody;
import io.interchange.connectors.webhook.InboundEvent;
import io.interchange.connectors.webhook.ParkedEvents;
import io.interchange.connectors.webhook.SignatureVerifier;
import io.interchange.connectors.webhook.WebhookSource;
import io.interchange.mapping.IdentityRules;
import io.interchange.model.CanonicalType;
import io.interchange.model.ConsentChange;
import io.interchange.model.Envelope;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.CrossReferenceConflict;
import io.interchange.store.CrossReferences;
import io.interchange.store.DeadLetterStore;
import io.interchange.store.EchoLedger;
import io.interchange.store.IdempotencyStore;
import io.interchange.store.IdentityIndex;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.time.LocalDateTime;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * The e-mail marketing platform's webhooks (Mailchimp Marketing, audience webhooks): {@code POST /webhooks/mailchimp},
 * a form ({@code application/x-www-form-urlencoded}) with {@code type} ({@code subscribe}, {@code unsubscribe},
 * {@code profile}, {@code upemail}, {@code cleaned}, {@code campaign}), {@code fired_at} ({@code YYYY-MM-DD HH:MM:SS},
 * UTC) and {@code data[...]} ({@code data[email]}, {@code data[list_id]}, {@code data[reason]}, {@code data[action]}, ...).
 * Mailchimp checks the URL with a GET when the webhook is saved (answered 200) and signs nothing: the URL carries a
 * secret ({@link MailchimpSecretVerifier}).
 *
 * <p>{@code subscribe} becomes a granted, {@code unsubscribe} and {@code cleaned} a revoked {@link ConsentChange} on
 * the consent topic (channel {@code email-marketing}), source time {@code fired_at}; the other types are acknowledged
 * without effect. The customer is found by the e-mail address among the customers' decisive identity keys
 * ({@code mappings/identity/match-rules.csv}), and the member (audience, subscriber hash) linked to it in the
 * cross-reference, so the consent flow writes to it later. A status the runtime set itself coming back (Mailchimp also
 * sends webhooks for API changes when the webhook's {@code api} source is on) is acknowledged without effect
 * ({@link EchoLedger}). An address no customer has, or several have, is parked as a dead letter of
 * {@link #EVENT_ROUTE_ID} (replay it once the customer exists): never dropped, since it may be a revocation.
 */
public final class MailchimpWebhook implements WebhookSource {

    public static final String SYSTEM = "mailchimp";
    public static final String ROUTE_ID = "consent.mailchimp-webhook";
    public static final String EVENT_ROUTE_ID = "consent.mailchimp-event";
    public static final String PATH = "/webhooks/mailchimp";
    public static final String SOURCE = "/consent/mailchimp";
    /** The member's field the consent flow writes (and whose echoes come back). */
    public static final String STATUS_FIELD = "status";
    public static final String ACKNOWLEDGED_METRIC = "micrometer:counter:interchange.consent.events.acknowledged";
    static final DateTimeFormatter FIRED_AT = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss");
    private static final Set<String> TYPES = Set.of("subscribe", "unsubscribe", "profile", "upemail", "cleaned", "campaign");

    private static final Logger LOG = LoggerFactory.getLogger(MailchimpWebhook.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    private final MailchimpSecretVerifier verifier;
    private final String listId;
    private final IdentityRules rules;
    private final IdentityIndex index;
    private final CrossReferences crossReferences;
    private final EchoLedger echoes;
    private final ParkedEvents parked;

    /** @param listId the audience synchronised; webhooks of other audiences are acknowledged without effect (blank: any) */
    public MailchimpWebhook(MailchimpSecretVerifier verifier, String listId, IdentityRules rules, IdentityIndex index,
                            CrossReferences crossReferences, EchoLedger echoes, IdempotencyStore idempotency,
                            DeadLetterStore deadLetters) {
        this.verifier = verifier;
        this.listId = listId == null ? "" : listId.strip();
        this.rules = rules;
        this.index = index;
        this.crossReferences = crossReferences;
        this.echoes = echoes;
        this.parked = new ParkedEvents(idempotency, deadLetters, EVENT_ROUTE_ID, "Mailchimp event", PermanentFailure.class);
    }

    @Override
    public String system() {
        return SYSTEM;
    }

    @Override
    public String routeId() {
        return ROUTE_ID;
    }

    @Override
    public String path() {
        return PATH;
    }

    @Override
    public String steps() {
        return "consent";
    }

    @Override
    public String publishStep() {
        return "kafka.publish-consent-change";
    }

    @Override
    public String acknowledgedMetric() {
        return ACKNOWLEDGED_METRIC;
    }

    @Override
    public String expected() {
        return "a Mailchimp webhook as a form";
    }

    @Override
    public String contentType() {
        return FORM;
    }

    @Override
    public boolean answersValidation() {
        return true;
    }

    @Override
    public String label() {
        return "Mailchimp event";
    }

    @Override
    public boolean batch() {
        return false;
    }

    @Override
    public SignatureVerifier verifier() {
        return verifier;
    }

    @Override
    public List<InboundEvent> read(byte[] body, String correlationId) {
        // the only place the form is parsed: the edge hands over the bytes as sent and reads no field of them
        Map<String, String> form;
        try {
            form = FormBody.parse(new String(body, StandardCharsets.UTF_8));
        } catch (IllegalArgumentException e) {
            throw new WebhookRejection(400, "malformed form body (expected " + expected() + "): " + e.getMessage());
        }
        return List.of(read(form, correlationId));
    }

    @Override
    public InboundEvent readOne(byte[] event, String correlationId) {
        InboundEvent e;
        try {
            e = read(event, correlationId).get(0);
        } catch (WebhookRejection r) {
            throw new PermanentFailure(r.getMessage());
        }
        if (e.kind() == InboundEvent.Kind.PARKED) throw new PermanentFailure(e.reason());
        return e;
    }

    @Override
    public Long park(InboundEvent event, byte[] body, String correlationId) {
        return parked.park(event, body, correlationId);
    }

    @Override
    public String eventRouteId() {
        return EVENT_ROUTE_ID;
    }

    @Override
    public String metricType(String type) {
        return TYPES.contains(type) ? type : "other";
    }

    private InboundEvent read(Map<String, String> form, String correlationId) {
        String type = required(form, "type");
        String firedAt = required(form, "fired_at");
        Instant time;
        try {
            time = LocalDateTime.parse(firedAt.strip(), FIRED_AT).toInstant(ZoneOffset.UTC);
        } catch (DateTimeParseException e) {
            throw new WebhookRejection(400, "fired_at '" + firedAt + "' is not YYYY-MM-DD HH:MM:SS");
        }
        String list = form.getOrDefault("data[list_id]", "");
        String email = form.getOrDefault("data[email]", "");
        String hash = email.isBlank() ? "" : MailchimpMembers.subscriberHash(email);
        String id = type + ":" + list + ":" + hash + ":" + firedAt.strip().replace(' ', 'T');
        String key = "consent:mailchimp:" + id;
        Boolean granted = switch (type) {
            case "subscribe" -> true;
            case "unsubscribe", "cleaned" -> false;
            default -> null;
        };
        if (granted == null) {
            return InboundEvent.ignored(id, key, type, "a " + (TYPES.contains(type) ? type : "unknown") + " event has "
                    + "no effect on consent");
        }
        if (list.isBlank() || email.isBlank()) {
            throw new WebhookRejection(400, "a " + type + " event without data[list_id] or data[email]");
        }
        if (!listId.isEmpty() && !listId.equals(list)) {
            return InboundEvent.ignored(id, key, type, "audience " + list + " is not the one synchronised "
                    + "(interchange.mailchimp.list-id)");
        }
        String status = granted ? MailchimpMembers.SUBSCRIBED : MailchimpMembers.UNSUBSCRIBED;
        if (echoes.isEcho(SYSTEM, hash, STATUS_FIELD, status, time)) {
            return InboundEvent.ignored(id, key, type, "the member's status is the one this runtime set");
        }
        String globalId = customerOf(list, hash, email);
        if (globalId == null) {
            return InboundEvent.parked(id, key, type, "no single customer has the e-mail address of member " + hash
                    + " (none or several); replay once the customer sync knows it");
        }
        String reason = form.get("data[reason]") != null ? form.get("data[reason]") : form.get("data[action]");
        ConsentChange change = new ConsentChange("mailchimp:" + id, globalId, ConsentChange.EMAIL_MARKETING, granted,
                SYSTEM, ConsentChange.time(time),
                hash, type + (reason == null || reason.isBlank() ? "" : ": " + reason));
        return InboundEvent.publish(id, key, type, envelope(change, correlationId), json(change),
                "(" + type + ") for customer " + globalId);
    }

    /** The customer whose decisive e-mail key the address is, linking the member to it; null if none or several. */
    private String customerOf(String list, String hash, String email) {
        String linked = crossReferences.resolve(SYSTEM, list, hash).orElse(null);
        if (linked != null) return linked;
        Set<String> found = customersWithEmail(rules, index, list, email);
        if (found.size() != 1) return null;
        String globalId = found.iterator().next();
        try {
            crossReferences.link(globalId, SYSTEM, list, hash);
        } catch (CrossReferenceConflict e) {
            // the customer has another member in this audience (or the member another customer): the consent still
            // counts for the customer; an operator sorts out the records
            LOG.warn("Mailchimp member {} not linked to customer {}: {}", hash, globalId, e.getMessage());
        }
        return globalId;
    }

    /**
     * The customers whose decisive e-mail key (the identity rules' for a Mailchimp member) the address is: the one a
     * member of the audience {@code list} with that address is linked to when there is exactly one.
     */
    public static Set<String> customersWithEmail(IdentityRules rules, IdentityIndex index, String list, String email) {
        Set<String> found = new TreeSet<>();
        String hash = MailchimpMembers.subscriberHash(email);
        for (IdentityRules.Key k : rules.keys(new IdentityRules.Record(SYSTEM, list, hash, Map.of("email", email)))) {
            if (k.decisive()) found.addAll(index.customersWithKey(k.rule(), k.hash()));
        }
        return found;
    }

    /** The CloudEvents envelope of a consent change. */
    public static Envelope envelope(ConsentChange c, String correlationId) {
        return new Envelope(c.changeId(), "/consent/" + c.source(), CanonicalType.CONSENT_CHANGED.ceType(), c.customer(),
                c.sourceTime(), CanonicalType.CONSENT_CHANGED.dataSchema(), correlationId, null);
    }

    public static byte[] json(ConsentChange c) {
        try {
            return JSON.writeValueAsBytes(c);
        } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static String required(Map<String, String> form, String field) {
        String v = form.get(field);
        if (v == null || v.isBlank()) throw new WebhookRejection(400, "missing " + field + ": expected a Mailchimp webhook");
        return v;
    }
}
