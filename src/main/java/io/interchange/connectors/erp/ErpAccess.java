package io.interchange.connectors.erp;

import io.interchange.config.Config;
import io.interchange.ledger.ErpBreakers;
import io.interchange.mapping.LegalEntity;
import io.interchange.model.Customer;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.apache.camel.Exchange;
import org.apache.camel.Message;
import org.apache.camel.ProducerTemplate;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.function.BiConsumer;

/**
 * Every request of this instance to an ERP, whichever flow makes it: per target one HTTP client configurer (the
 * credentials), one circuit breaker ({@link ErpBreakers}) and one route {@code erp.<target>.call} whose throttle holds
 * the ERP's rate limit ({@code interchange.erp.<erp>.max-rate}) for all of them. The ledger flow's postings and reads
 * and the customer sync's partner and customer requests therefore share one limit and one breaker per ERP: a backlog
 * of either cannot push the ERP over its limit, and an ERP the breaker found failing is spared by both.
 *
 * <p>Built once per runtime when a flow that calls an ERP runs. {@link #bind} puts the configurers and breakers in
 * Camel's registry; the route class {@code ErpCallRoute} builds the call routes and the customer service routes
 * ({@link #customerEndpoint}); the ledger route builds its posting and read routes on {@link #callEndpoint}.
 *
 * <p>The customer services are called with {@link #sendPartners} (S/4HANA) and {@link #upsertLegacyCustomer} (legacy
 * ERP). Each call runs inside the target's circuit breaker: a transient failure (unreachable, timeout, 408/429/5xx,
 * a SOAP {@code Server} fault) counts against it, an answer (a rejection included) counts as a success, and while it
 * is open nothing is sent and the call fails with a {@link TransientFailure} saying so, never a permanent one: the
 * customer is as good as before, only the ERP is not being asked.
 */
public final class ErpAccess {

    /**
     * Exchange property telling {@code erp.<target>.call} which service to call: {@link #READ_CALL}, {@link #POST_CALL}
     * or {@link #CUSTOMER_CALL}.
     */
    public static final String CALL = "InterchangeErpCall";
    /** The ledger read service ({@link ErpConnector#readUri}). */
    public static final String READ_CALL = "read";
    /** The posting service ({@link ErpConnector#endpointUri}); also what a call without {@link #CALL} goes to. */
    public static final String POST_CALL = "post";
    /** The customer service ({@link ErpConnector#customerUri}). */
    public static final String CUSTOMER_CALL = "customer";
    /** The read API of the ERP's customers ({@link ErpConnector#partnerReadUri}). */
    public static final String PARTNERS_CALL = "partners";
    /** Exchange property the customer route sets to what {@link #readCustomerAnswer} read from the ERP's answer. */
    public static final String CUSTOMER_ANSWER = "InterchangeErpCustomerAnswer";

    private final Map<String, ErpConnector> connectors = new LinkedHashMap<>();
    private final ErpBreakers breakers;
    private final S4BusinessPartners partners;
    private final LegacyCustomers legacyCustomers;

    /**
     * {@code connectors}: the ERPs, one per target. {@code partners} and {@code legacyCustomers} build the customer
     * requests of S/4HANA and the legacy ERP.
     */
    public ErpAccess(Config config, List<ErpConnector> connectors, S4BusinessPartners partners,
                     LegacyCustomers legacyCustomers) {
        for (ErpConnector erp : connectors) {
            if (this.connectors.putIfAbsent(erp.target(), erp) != null) {
                throw new IllegalArgumentException("two ERP connectors for target " + erp.target());
            }
        }
        this.breakers = new ErpBreakers(config, this.connectors.keySet());
        this.partners = partners;
        this.legacyCustomers = legacyCustomers;
    }

    /** The ERPs, one per target, in the order given. */
    public List<ErpConnector> connectors() {
        return List.copyOf(connectors.values());
    }

    /** Whether an ERP is configured for the target ({@code S4HANA}, {@code LEGACY}). */
    public boolean serves(String target) {
        return connectors.containsKey(target);
    }

    /** The target's ERP. */
    public ErpConnector connector(String target) {
        ErpConnector erp = connectors.get(target);
        if (erp == null) throw new IllegalArgumentException("no ERP connector for target " + target);
        return erp;
    }

    /** The targets' circuit breakers, one per ERP, shared by every flow that calls it. */
    public ErpBreakers breakers() {
        return breakers;
    }

    /**
     * Binds what the routes name by reference: each ERP's HTTP client configurer (credentials, no automatic retries)
     * and each target's breaker, under {@link ErpBreakers#beanName}.
     */
    public void bind(BiConsumer<String, Object> registry) {
        for (ErpConnector erp : connectors.values()) {
            registry.accept(erp.endpoint().configurerBean(), erp.endpoint().clientConfigurer());
        }
        breakers.all().forEach((target, cb) -> registry.accept(ErpBreakers.beanName(target), cb));
    }

    /** The route every request to the target passes, through its throttle: {@code direct:erp.<target>.call}. */
    public static String callEndpoint(String target) {
        return "direct:erp." + target + ".call";
    }

    /** The route of the target's customer service, inside its breaker: {@code direct:erp.<target>.customer}. */
    public static String customerEndpoint(String target) {
        return "direct:erp." + target + ".customer";
    }

    /** Prefix of the target's route and processor ids: {@code erp.s4hana}, {@code erp.legacy}. */
    public static String idPrefix(String target) {
        return "erp." + target.toLowerCase(Locale.ROOT);
    }

    /**
     * Sends these partners to S/4HANA's business partner replication in one {@code BusinessPartnerSUITEBulkReplicateRequest}
     * (1 to {@value S4BusinessPartners#MAX_BULK}), within S/4HANA's rate limit and behind its breaker. Returns once
     * S/4HANA took the request (HTTP 202); the partners' numbers come later in its confirmation. Throws a
     * {@link TransientFailure} (unreachable, timeout, 408/429/5xx, SOAP Server fault, the breaker open: nothing was
     * sent) or a {@link PermanentFailure} (credentials refused, a SOAP Client fault); the request may be sent again
     * after either, as S/4HANA keys partners by their UUID.
     */
    public void sendPartners(ProducerTemplate template, List<S4BusinessPartners.PartnerRequest> requests) {
        if (requests.isEmpty() || requests.size() > S4BusinessPartners.MAX_BULK) {
            throw new IllegalArgumentException("a business partner request carries 1 to " + S4BusinessPartners.MAX_BULK
                    + " partners, not " + requests.size());
        }
        String body = partners.request(requests);
        call(template, LegalEntity.S4HANA, body, new String[0]);
    }

    /**
     * Creates or changes {@code customer} in the legacy company of {@code legalEntity} with {@code UpsertCustomer},
     * within the legacy ERP's rate limit and behind its breaker, and returns the customer's number there (the same on
     * every call for one customer and company). Failures as for {@link #sendPartners}; a request sent again after an
     * unknown outcome changes the customer it created, never makes a second one.
     */
    public LegacyCustomers.Answer upsertLegacyCustomer(ProducerTemplate template, Customer customer, String legalEntity,
                                                       String legacyCompany) {
        String body = legacyCustomers.request(customer, legalEntity, legacyCompany);
        return (LegacyCustomers.Answer) call(template, LegalEntity.LEGACY, body,
                new String[]{"SOAPAction", LegacyCustomers.SOAP_ACTION});
    }

    /**
     * Reads the answer of a target's customer service, inside its breaker (so a transient failure read here counts
     * against it): S/4HANA's acceptance ({@link S4BusinessPartners#readAcceptance}, {@code Boolean.TRUE}) or the legacy
     * ERP's {@link LegacyCustomers.Answer}.
     */
    public Object readCustomerAnswer(String target, int httpStatus, byte[] body) {
        if (LegalEntity.S4HANA.equals(target)) {
            S4BusinessPartners.readAcceptance(httpStatus, body);
            return Boolean.TRUE;
        }
        if (LegalEntity.LEGACY.equals(target)) return LegacyCustomers.read(httpStatus, body);
        throw new IllegalArgumentException("no customer service known for ERP target " + target);
    }

    /**
     * One page of the target's ledger over a range of posting dates ({@link ErpConnector#rangeRequest}), through the
     * target's throttle like every request to it, read by {@link ErpConnector#readRange}. It does not pass the breaker:
     * a reconciliation run is asked for by an operator or its schedule and fails as a whole with the first page it
     * cannot read, instead of waiting for an ERP that postings are sparing. Failures as for {@link #sendPartners}.
     */
    public ErpConnector.LedgerPage readLedgerPage(ProducerTemplate template, String target, String companyCode,
                                                  java.time.LocalDate from, java.time.LocalDate to, String cursor,
                                                  int pageSize) {
        ErpConnector erp = connector(target);
        ErpConnector.ReadRequest request = erp.rangeRequest(companyCode, from, to, cursor, pageSize);
        return read(template, target, READ_CALL, "ledger read", request,
                (status, body) -> erp.readRange(status, body, cursor, pageSize));
    }

    /**
     * One page of the target's customers of {@code company} created before {@code createdBefore}
     * ({@link ErpConnector#partnerRequest}),
     * through the target's throttle, outside its breaker, as {@link #readLedgerPage} for the same reason. Failures as
     * for {@link #sendPartners}.
     */
    public ErpConnector.PartnerPage readPartnerPage(ProducerTemplate template, String target, String company,
                                                    java.time.LocalDate createdBefore, String cursor, int pageSize) {
        ErpConnector erp = connector(target);
        if (erp.partnerReadUri() == null) throw new PermanentFailure(target + " has no customer read API");
        ErpConnector.ReadRequest request = erp.partnerRequest(company, createdBefore, cursor, pageSize);
        return read(template, target, PARTNERS_CALL, "customer read", request,
                (status, body) -> erp.readPartners(status, body, cursor, pageSize));
    }

    /** How a read's answer (HTTP status, body) becomes its page. */
    private interface PageReader<P> {
        P read(int status, byte[] body);
    }

    /**
     * Sends a read request through the target's throttle as the {@code call} kind and reads its answer; a failure
     * is classified as the ERP call's, an answer that cannot be read is permanent, each named {@code what}.
     */
    private <P> P read(ProducerTemplate template, String target, String call, String what,
                       ErpConnector.ReadRequest request, PageReader<P> reader) {
        Exchange done = template.send(callEndpoint(target), exchange -> {
            exchange.setProperty(CALL, call);
            Message m = exchange.getMessage();
            m.getHeaders().clear();
            String[] headers = request.headers();
            for (int i = 0; i + 1 < headers.length; i += 2) m.setHeader(headers[i], headers[i + 1]);
            if (request.query() != null) m.setHeader(Exchange.HTTP_QUERY, request.query());
            if (request.body() != null) m.setHeader(Exchange.CONTENT_TYPE, SoapSupport.CONTENT_TYPE);
            m.setBody(request.body());
        });
        if (done.getException() != null) throw classified(target + " " + what, done.getException());
        try {
            return reader.read(done.getMessage().getHeader(Exchange.HTTP_RESPONSE_CODE, 0, Integer.class),
                    done.getMessage().getBody(byte[].class));
        } catch (TransientFailure | PermanentFailure e) {
            throw e;
        } catch (RuntimeException e) {
            throw new PermanentFailure(target + " " + what + ": " + e.getMessage(), e);
        }
    }

    /** One request to the target's customer service; its answer, or its failure classified. */
    private Object call(ProducerTemplate template, String target, String body, String[] headers) {
        connector(target);
        Exchange done = template.send(customerEndpoint(target), exchange -> {
            Message m = exchange.getMessage();
            m.getHeaders().clear();
            m.setHeader(Exchange.CONTENT_TYPE, SoapSupport.CONTENT_TYPE);
            for (int i = 0; i + 1 < headers.length; i += 2) m.setHeader(headers[i], headers[i + 1]);
            m.setBody(body);
        });
        Exception failure = done.getException();
        if (failure != null) throw classified(target + " customer service", failure);
        Object answer = done.getProperty(CUSTOMER_ANSWER);
        if (answer == null) {
            throw new IllegalStateException(target + " customer route gave neither an answer nor a failure");
        }
        return answer;
    }

    /** Our own failures as they are; anything else (an I/O error of the HTTP client) wrapped as its kind. */
    private static RuntimeException classified(String service, Exception failure) {
        if (failure instanceof TransientFailure t) return t;
        if (failure instanceof PermanentFailure p) return p;
        String reason = service + ": " + FailureClassifier.reason(failure);
        return FailureClassifier.isTransient(failure) ? new TransientFailure(reason, failure)
                : new PermanentFailure(reason, failure);
    }

    /** The failure a call refused by the target's open (or half-open and busy) breaker ends with. */
    public static TransientFailure breakerOpen(String target) {
        return new TransientFailure("the " + target + " ERP's circuit breaker is open: nothing was sent; the request "
                + "may be sent again once the breaker lets calls through");
    }
}
