package io.interchange.sandbox;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.interchange.mapping.LegalEntity;
import io.interchange.sandbox.hubspot.HubSpotPeer;
import io.interchange.sandbox.hubspot.HubSpotWebhookSender;
import io.interchange.sandbox.salesforce.SalesforcePeer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The sandbox's customer traffic: people at work in the two CRMs, one change at a time at a modest rate, so that the
 * customer sync has something to do and its effects can be watched in the other systems.
 *
 * <ul>
 *   <li>Salesforce (the system of record): new accounts (name, phone, billing address, tax id, a legal entity of the
 *       legal-entity table, so that both S/4HANA and legacy-ERP entities occur), new contacts (first and last name,
 *       e-mail), and edits of an account's phone or address. The org's change events carry them to the runtime; the
 *       runtime's own write-backs come back as change events with its client id (echoes the connector drops).</li>
 *   <li>HubSpot (marketing's CRM): a contact made in HubSpot, then its signed webhooks as HubSpot sends them, the
 *       creation first and the properties as events of their own (e-mail, then language and lifecycle stage). Some are
 *       the same person as a Salesforce contact (the same e-mail: one global customer with a record in each CRM).
 *       Some edits are of a field HubSpot does not own (phone: refused by the ownership table and counted).</li>
 *   <li>HubSpot echoes: when the runtime has written its ids back to a HubSpot record (seen in the HubSpot peer), the
 *       simulator sends the propertyChange webhooks HubSpot would send for them, to show they cause nothing.</li>
 * </ul>
 *
 * <p>What it does is decided by a {@link Random} of the given seed: the same seed makes the same sequence of changes
 * (names, e-mails, tax ids, legal entities). E-mail addresses, tax ids and phone numbers are unique within a run and
 * carry a token of the seed, so that runs on the same data directory do not meet each other's customers. The first
 * changes are fixed (an S/4HANA entity's account, a legacy entity's account, a contact, its HubSpot twin, a HubSpot-only
 * contact, an edit, a refused edit), so a short run shows every kind.
 */
public final class CustomerSimulator implements AutoCloseable {

    private static final Logger LOG = LoggerFactory.getLogger(CustomerSimulator.class);
    /** One change every 1.5 seconds: modest next to the billing traffic, quick enough to watch. */
    public static final Duration DEFAULT_INTERVAL = Duration.ofMillis(1500);
    /** The properties the runtime writes back to HubSpot records (mappings/hubspot/write-back.jslt). */
    static final List<String> WRITTEN_PROPERTIES = List.of("interchange_global_id", "billing_customer_id",
            "erp_partner_number", "loyalty_member_id", "interchange_sync_status");

    private static final String[] FIRST = {"Ana", "Jonas", "Li", "Sam", "Priya", "Mateo", "Chloé", "Oskar", "Amara",
            "Noah", "Elif", "Hiro", "Sofia", "Lukas", "Fatima", "Emma"};
    private static final String[] LAST = {"Silva", "Keller", "Wei", "Okafor", "Sharma", "García", "Martin", "Berg",
            "Mensah", "Smith", "Yılmaz", "Tanaka", "Rossi", "Weber", "Haddad", "Dubois"};
    private static final String[] COMPANY = {"Contoso", "Fabrikam", "Northwind", "Tailspin", "Wingtip", "Adatum",
            "Litware", "Proseware", "Lucerne", "Coho", "Alpine Ski", "Blue Yonder"};
    private static final String[] STREETS = {"Hauptstraße", "Market Street", "High Street", "Rue de Rivoli",
            "Bahnhofstraße", "Main Street", "Station Road", "Avenue Foch"};
    private static final String[] LANGUAGES = {"en", "de", "fr", "es", "pt-br"};
    private static final String[] STAGES = {"subscriber", "lead", "marketingqualifiedlead", "opportunity", "customer"};
    /** Per country (the legal entity id's first two letters): city, postal code, phone prefix, company suffix. */
    private static final Map<String, String[][]> PLACES = Map.of(
            "DE", new String[][]{{"München", "80331", "+49 89", "GmbH"}, {"Berlin", "10115", "+49 30", "GmbH"}},
            "US", new String[][]{{"San Francisco", "94105", "+1 415", "Inc."}, {"Austin", "78701", "+1 512", "Inc."}},
            "GB", new String[][]{{"London", "EC1A 1BB", "+44 20", "Ltd"}, {"Manchester", "M1 1AE", "+44 161", "Ltd"}},
            "FR", new String[][]{{"Paris", "75001", "+33 1", "SAS"}, {"Lyon", "69001", "+33 4", "SAS"}});
    private static final String[][] ELSEWHERE = {{"Springfield", "12345", "+1 555", "Corp."}};

    /** The kinds of change. */
    enum Kind { S4_ACCOUNT, LEGACY_ACCOUNT, ACCOUNT, CONTACT, HUBSPOT_TWIN, HUBSPOT_CONTACT, ACCOUNT_EDIT, HUBSPOT_PHONE }

    /** The first changes, one of each kind, so that a short run shows them all. */
    private static final List<Kind> OPENING = List.of(Kind.S4_ACCOUNT, Kind.LEGACY_ACCOUNT, Kind.CONTACT,
            Kind.HUBSPOT_TWIN, Kind.HUBSPOT_CONTACT, Kind.ACCOUNT_EDIT, Kind.HUBSPOT_PHONE);

    /** What the simulator has done so far. */
    public record Stats(long accounts, long accountEdits, long contacts, long hubSpotContacts, long samePerson,
                        long refusedEdits, long webhooks, long webhooksFailed, long echoes) {
    }

    private record Person(String first, String last, String email) {
    }

    private final SalesforcePeer salesforce;
    private final HubSpotPeer hubSpot;
    private final HubSpotWebhookSender webhooks;
    private final List<LegalEntity> entities;
    private final Duration interval;
    private final Random random;
    private final String token;
    private final long runNumber;
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "sandbox-customers");
        t.setDaemon(true);
        return t;
    });

    // the simulator's own records, touched by its one thread only
    private final List<String> accounts = new ArrayList<>();
    private final List<Person> contactsWithoutTwin = new ArrayList<>();
    private final List<String> hubSpotContacts = new ArrayList<>();
    /** Per HubSpot contact, the written-back properties whose webhooks were sent, with their values. */
    private final Map<String, Map<String, String>> echoed = new HashMap<>();
    private long steps;
    private long sequence;

    private final AtomicLong accountCount = new AtomicLong();
    private final AtomicLong accountEdits = new AtomicLong();
    private final AtomicLong contactCount = new AtomicLong();
    private final AtomicLong hubSpotCount = new AtomicLong();
    private final AtomicLong samePerson = new AtomicLong();
    private final AtomicLong refusedEdits = new AtomicLong();
    private final AtomicLong webhookCount = new AtomicLong();
    private final AtomicLong webhooksFailed = new AtomicLong();
    private final AtomicLong echoes = new AtomicLong();

    /**
     * @param entities the legal entities accounts are drawn from (mappings/legal-entities.csv)
     * @param seed     decides every change: the same seed makes the same sequence
     * @param interval time between two changes
     */
    public CustomerSimulator(SalesforcePeer salesforce, HubSpotPeer hubSpot, HubSpotWebhookSender webhooks,
                             List<LegalEntity> entities, long seed, Duration interval) {
        if (entities.isEmpty()) throw new IllegalArgumentException("the legal-entity table is empty");
        this.salesforce = salesforce;
        this.hubSpot = hubSpot;
        this.webhooks = webhooks;
        this.entities = entities.stream().sorted(Comparator.comparing(LegalEntity::id)).toList();
        this.interval = interval;
        this.random = new Random(seed);
        this.runNumber = Math.floorMod(seed, 46_656L);
        this.token = String.format("%3s", Long.toString(runNumber, 36)).replace(' ', '0');
    }

    /** Starts the changes, the first one at once. */
    public CustomerSimulator start() {
        scheduler.scheduleWithFixedDelay(this::stepSafely, 0, interval.toMillis(), TimeUnit.MILLISECONDS);
        return this;
    }

    public Stats stats() {
        return new Stats(accountCount.get(), accountEdits.get(), contactCount.get(), hubSpotCount.get(), samePerson.get(),
                refusedEdits.get(), webhookCount.get(), webhooksFailed.get(), echoes.get());
    }

    private void stepSafely() {
        try {
            step();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        } catch (RuntimeException e) {
            // a peer refusing one change must not end the traffic (a scheduled task that throws is never run again)
            LOG.warn("Sandbox customer change failed: {}", e.toString());
        }
    }

    /** One change, then the webhooks of the HubSpot records the runtime has written to since the last step. */
    void step() throws InterruptedException {
        Kind kind = next();
        switch (kind) {
            case S4_ACCOUNT -> newAccount(entity(LegalEntity.S4HANA));
            case LEGACY_ACCOUNT -> newAccount(entity(LegalEntity.LEGACY));
            case ACCOUNT -> newAccount(entities.get(random.nextInt(entities.size())));
            case CONTACT -> newContact();
            case HUBSPOT_TWIN ->
                    newHubSpotContact(contactsWithoutTwin.remove(random.nextInt(contactsWithoutTwin.size())), true);
            case HUBSPOT_CONTACT -> newHubSpotContact(person(), false);
            case ACCOUNT_EDIT -> editAccount();
            case HUBSPOT_PHONE -> editHubSpotPhone();
        }
        steps++;
        sendEchoes();
    }

    /** The next kind of change: the fixed opening, then drawn by weight among those possible now. */
    private Kind next() {
        if (steps < OPENING.size() && possible(OPENING.get((int) steps))) return OPENING.get((int) steps);
        while (true) {
            // after the opening, accounts take any entity of the table: both ERPs, by the table's cutover dates
            int r = random.nextInt(100);
            Kind k = r < 30 ? Kind.ACCOUNT : r < 45 ? Kind.CONTACT : r < 60 ? Kind.ACCOUNT_EDIT
                    : r < 75 ? Kind.HUBSPOT_CONTACT : r < 88 ? Kind.HUBSPOT_TWIN : Kind.HUBSPOT_PHONE;
            if (possible(k)) return k;
        }
    }

    private boolean possible(Kind k) {
        return switch (k) {
            case HUBSPOT_TWIN -> !contactsWithoutTwin.isEmpty();
            case ACCOUNT_EDIT -> !accounts.isEmpty();
            case HUBSPOT_PHONE -> !hubSpotContacts.isEmpty();
            default -> true;
        };
    }

    /** An entity whose ERP today is the one asked for (the first such of the table), or any when none is. */
    private LegalEntity entity(String erp) {
        for (LegalEntity e : entities) {
            if (e.erpTargetOn(LocalDate.now(e.timeZone())).equals(erp)) return e;
        }
        return entities.get(random.nextInt(entities.size()));
    }

    private void newAccount(LegalEntity entity) {
        String country = country(entity);
        String[] place = place(country);
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("Name", COMPANY[random.nextInt(COMPANY.length)] + " " + place[0] + " " + place[3]);
        fields.put("Phone", phone(place[2]));
        fields.put("BillingStreet", STREETS[random.nextInt(STREETS.length)] + " " + (1 + random.nextInt(120)));
        fields.put("BillingPostalCode", place[1]);
        fields.put("BillingCity", place[0]);
        fields.put("BillingCountry", country);
        fields.put("Tax_Id__c", String.format(Locale.ROOT, "%s%09d", country, (runNumber * 100_000 + ++sequence) % 1_000_000_000L));
        fields.put("Legal_Entity__c", entity.id());
        accounts.add(salesforce.create("Account", fields));
        accountCount.incrementAndGet();
    }

    private void newContact() {
        Person p = person();
        Map<String, Object> fields = new LinkedHashMap<>();
        fields.put("FirstName", p.first());
        fields.put("LastName", p.last());
        fields.put("Email", p.email());
        salesforce.create("Contact", fields);
        contactsWithoutTwin.add(p);
        contactCount.incrementAndGet();
    }

    /** An account's phone or billing address changed by a user in Salesforce. */
    private void editAccount() {
        String id = accounts.get(random.nextInt(accounts.size()));
        Map<String, Object> account = salesforce.get("Account", id);
        String country = String.valueOf(account.getOrDefault("BillingCountry", "DE"));
        String[] place = place(country);
        Map<String, Object> fields = new LinkedHashMap<>();
        if (random.nextBoolean()) {
            fields.put("Phone", phone(place[2]));
        } else {
            fields.put("BillingStreet", STREETS[random.nextInt(STREETS.length)] + " " + (1 + random.nextInt(120)));
            fields.put("BillingCity", place[0]);
            fields.put("BillingPostalCode", place[1]);
        }
        salesforce.update("Account", id, fields);
        accountEdits.incrementAndGet();
    }

    /**
     * A contact made in HubSpot, then announced as HubSpot does: the creation (no properties), the e-mail, then the
     * language and lifecycle stage. The e-mail identifies the person (Salesforce owns it, so it is not applied);
     * language and stage are HubSpot's to set.
     */
    private void newHubSpotContact(Person p, boolean twin) throws InterruptedException {
        Map<String, String> properties = new LinkedHashMap<>();
        properties.put("email", p.email());
        properties.put("firstname", p.first());
        properties.put("lastname", p.last());
        properties.put("hs_language", LANGUAGES[random.nextInt(LANGUAGES.length)]);
        properties.put("lifecyclestage", STAGES[random.nextInt(STAGES.length)]);
        String id = hubSpot.create("contacts", properties);
        hubSpotContacts.add(id);
        hubSpotCount.incrementAndGet();
        if (twin) samePerson.incrementAndGet();
        deliver(List.of(webhooks.creation("contact", id)));
        deliver(List.of(webhooks.propertyChange("contact", id, "email", p.email(), "CRM_UI")));
        deliver(List.of(webhooks.propertyChange("contact", id, "hs_language", properties.get("hs_language"), "CRM_UI"),
                webhooks.propertyChange("contact", id, "lifecyclestage", properties.get("lifecyclestage"), "CRM_UI")));
    }

    /** A phone number typed into HubSpot: Salesforce owns phone, so the runtime refuses it and counts the refusal. */
    private void editHubSpotPhone() throws InterruptedException {
        String id = hubSpotContacts.get(random.nextInt(hubSpotContacts.size()));
        String phone = phone("+1 617");
        hubSpot.update("contacts", id, Map.of("phone", phone));
        deliver(List.of(webhooks.propertyChange("contact", id, "phone", phone, "CRM_UI")));
        refusedEdits.incrementAndGet();
    }

    /**
     * The webhooks HubSpot sends when the runtime's batch update sets a record's properties: one propertyChange per
     * property whose value is new since the last look, as an integration's change. No customer field maps them, so
     * the runtime writes nothing in answer.
     */
    private void sendEchoes() throws InterruptedException {
        if (hubSpotContacts.isEmpty()) return;
        Map<String, JsonNode> records = new HashMap<>();
        for (ObjectNode r : hubSpot.records("contacts")) records.put(r.path("id").asText(), r.path("properties"));
        for (String id : hubSpotContacts) {
            JsonNode properties = records.get(id);
            if (properties == null) continue;
            Map<String, String> sent = echoed.computeIfAbsent(id, k -> new HashMap<>());
            List<ObjectNode> events = new ArrayList<>();
            for (String property : WRITTEN_PROPERTIES) {
                String value = properties.path(property).asText(null);
                if (value != null && !value.equals(sent.get(property))) {
                    events.add(webhooks.propertyChange("contact", id, property, value, "INTEGRATION"));
                    sent.put(property, value);
                }
            }
            if (!events.isEmpty()) {
                deliver(events);
                echoes.addAndGet(events.size());
            }
        }
    }

    private void deliver(List<ObjectNode> events) throws InterruptedException {
        int status = webhooks.deliver(events);
        webhookCount.incrementAndGet();
        if (status != 200) {
            webhooksFailed.incrementAndGet();
            LOG.warn("Sandbox HubSpot webhook of {} event(s) answered {}", events.size(), status);
        }
    }

    /** A new person, with an e-mail address unique in this run. */
    private Person person() {
        String first = FIRST[random.nextInt(FIRST.length)];
        String last = LAST[random.nextInt(LAST.length)];
        String local = (ascii(first) + "." + ascii(last)).toLowerCase(Locale.ROOT);
        return new Person(first, last, local + "." + token + (++sequence) + "@example.com");
    }

    /** A phone number unique in this run: the place's prefix and eight digits from the run and a counter. */
    private String phone(String prefix) {
        return prefix + " " + String.format(Locale.ROOT, "%08d", (runNumber * 1_000 + ++sequence) % 100_000_000L);
    }

    private static String country(LegalEntity e) {
        return e.id().length() >= 2 ? e.id().substring(0, 2).toUpperCase(Locale.ROOT) : "DE";
    }

    private String[] place(String country) {
        String[][] places = PLACES.getOrDefault(country, ELSEWHERE);
        return places[random.nextInt(places.length)];
    }

    private static String ascii(String s) {
        return java.text.Normalizer.normalize(s, java.text.Normalizer.Form.NFD).replaceAll("[^A-Za-z]", "");
    }

    @Override
    public void close() {
        scheduler.shutdownNow();
        try {
            scheduler.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
