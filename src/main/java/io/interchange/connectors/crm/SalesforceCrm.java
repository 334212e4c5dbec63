package io.interchange.connectors.crm;

import com.fasterxml.jackson.annotation.JsonAnyGetter;
import io.interchange.config.Config;
import io.interchange.config.Settings;
import io.interchange.reliability.FailureClassifier;
import io.interchange.reliability.PermanentFailure;
import io.interchange.reliability.TransientFailure;
import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.salesforce.SalesforceEndpointConfig;
import org.apache.camel.component.salesforce.api.SalesforceException;
import org.apache.camel.component.salesforce.api.dto.AbstractDescribedSObjectBase;
import org.apache.camel.component.salesforce.api.dto.RestError;
import org.apache.camel.component.salesforce.api.dto.SObjectDescription;
import org.apache.camel.component.salesforce.api.dto.SaveSObjectResult;
import org.apache.camel.component.salesforce.api.dto.UpsertSObjectResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Salesforce as the runtime writes it: records created or updated by an external id with sObject Collections upsert
 * ({@code PATCH /services/data/vNN.0/composite/sobjects/{SObject}/{ExternalIdField}}, {@code allOrNone} false, at most
 * {@link #MAX_RECORDS} records a request), so writing the same record again updates it and a retry never creates a
 * second one. Every request carries {@code Sforce-Call-Options: client=<interchange.salesforce.client-id>}, so the
 * change events of our own writes name us in {@code changeOrigin} and {@link SalesforceChangeEvents} drops them as
 * echoes instead of publishing them as customer changes.
 *
 * <p>It goes through camel-salesforce (the component {@link SalesforceConnection#component} builds, logged in with the
 * connected app's client credentials), not the REST kit: camel-salesforce 4.18 has the operation
 * ({@code compositeUpsertSObjectCollections}: {@code DefaultCompositeSObjectCollectionsApiClient.upsertCompositeCollections}
 * sends exactly that PATCH with the {@code allOrNone} and {@code records} body), copies every exchange header whose
 * name starts with {@code sforce} or {@code x-sfdc} into the request ({@code AbstractClientBase.determineHeaders}), and
 * on a 401 logs in again and repeats the request itself ({@code SalesforceSecurityHandler}). Salesforce documents the
 * call options header for sObject Rows, Query, Search and the Bulk APIs, not for sObject Collections; that
 * {@code client=} reaches {@code changeOrigin} from a collections request is what the peer does and what must be
 * checked once against a real org.
 *
 * <p>Outcomes: a record Salesforce refuses ({@code DUPLICATE_EXTERNAL_ID}, {@code REQUIRED_FIELD_MISSING},
 * {@code INVALID_FIELD}, a missing external id value, ...) is a permanent failure of that record only, in its
 * {@link Result}, and the other records are written. A request Salesforce refuses as a whole is thrown, classified:
 * {@link TransientFailure} for no answer (timeout, connection), 5xx (503 among them), 408, 429 and 403
 * {@code REQUEST_LIMIT_EXCEEDED} (the org's API allowance, which recovers); {@link PermanentFailure} for the rest
 * (400 malformed, 401 still after a new login, 403 without the permission, 404 no such object or field).
 *
 * <p>{@code Sforce-Limit-Info: api-usage=n/m} (the org's rolling 24-hour API allowance, which camel-salesforce copies
 * from the answer to the exchange) is kept as {@link #apiUsage()} and logged as a warning from 90% on; nothing waits on
 * it, since an exhausted allowance is answered with the transient 403 and the caller's retry policy waits instead.
 */
public final class SalesforceCrm {

    /** sObject Collections take at most 200 records a request. */
    public static final int MAX_RECORDS = 200;
    public static final String CALL_OPTIONS = "Sforce-Call-Options";
    static final String ENDPOINT = SalesforceConnection.COMPONENT + ":compositeUpsertSObjectCollections";
    static final String UPDATE_ENDPOINT = SalesforceConnection.COMPONENT + ":compositeUpdateSObjectCollections";
    static final String QUERY_ENDPOINT = SalesforceConnection.COMPONENT + ":query?rawPayload=true";
    private static final com.fasterxml.jackson.databind.ObjectMapper QUERY_JSON = new com.fasterxml.jackson.databind.ObjectMapper();

    /**
     * Creates the client's endpoints now, which starts camel-salesforce's component (its HTTP client and login): left
     * to the first write, several threads writing at once each started it, and all but one failed with a
     * RejectedExecutionException from its half-started HTTP client. Call once Camel runs.
     */
    public static void start(org.apache.camel.CamelContext context) {
        context.getEndpoint(ENDPOINT);
        context.getEndpoint(UPDATE_ENDPOINT);
        context.getEndpoint(QUERY_ENDPOINT);
    }

    /** Object and field API names: letters, digits, underscores ({@code Account}, {@code Ext_Id__c}, {@code ns__X__c}). */
    private static final Pattern API_NAME = Pattern.compile("[A-Za-z][A-Za-z0-9_]*");
    /** Fields camel-salesforce's sObject base class holds itself; Name and OwnerId are writable, the rest are not. */
    private static final Set<String> BASE_FIELDS = Set.of("attributes", "Id", "OwnerId", "IsDeleted", "Name",
            "CreatedDate", "CreatedById", "LastModifiedDate", "LastModifiedById", "SystemModstamp", "LastActivityDate",
            "LastViewedDate", "LastReferencedDate", "fieldsToNull");

    /** One error of a record: Salesforce's status code (e.g. {@code DUPLICATE_EXTERNAL_ID}), message and fields. */
    public record Error(String statusCode, String message, List<String> fields) {
        public Error {
            fields = fields == null ? List.of() : List.copyOf(fields);
        }
    }

    /**
     * One record's outcome, in the order the records were given: its Salesforce id (null when it failed), whether it
     * was created (false for an update or a failure), whether it was written, and Salesforce's errors when not.
     */
    public record Result(String id, boolean created, boolean success, List<Error> errors) {
        public Result {
            errors = errors == null ? List.of() : List.copyOf(errors);
        }

        /** Why the record was not written ({@code STATUS: message [fields]; ...}), or empty when it was. */
        public String reason() {
            StringBuilder sb = new StringBuilder();
            for (Error e : errors) {
                if (!sb.isEmpty()) sb.append("; ");
                sb.append(e.statusCode()).append(": ").append(e.message());
                if (!e.fields().isEmpty()) sb.append(" ").append(e.fields());
            }
            return sb.toString();
        }
    }


    /** The org's API use as the last answer reported it: requests made in the last 24 hours, and the allowance. */
    public record ApiUsage(long used, long limit) {
        public boolean nearlyExhausted() {
            return limit > 0 && used * 10 >= limit * 9;
        }
    }

    private static final Logger LOG = LoggerFactory.getLogger(SalesforceCrm.class);
    private static final Pattern API_USAGE = Pattern.compile("api-usage=(\\d+)/(\\d+)");

    private final ProducerTemplate template;
    private final String callOptions;
    private volatile ApiUsage apiUsage;

    /**
     * @param template a producer template of the Camel context in which {@link SalesforceConnection#component} is
     *                 bound as {@code salesforce}
     * @param clientId the call options client the runtime names itself by ({@code interchange.salesforce.client-id})
     */
    public SalesforceCrm(ProducerTemplate template, String clientId) {
        this.template = Objects.requireNonNull(template);
        if (clientId == null || clientId.isBlank() || clientId.contains(";") || clientId.contains(",")) {
            throw new IllegalArgumentException("call options client id must be a non-blank token: " + clientId);
        }
        this.callOptions = "client=" + clientId.strip();
    }

    public static SalesforceCrm from(ProducerTemplate template, Config config) {
        return new SalesforceCrm(template, config.get(Settings.SALESFORCE_CLIENT_ID));
    }

    /** The org's API use from the last answer's {@code Sforce-Limit-Info}, or null before any answer carried it. */
    public ApiUsage apiUsage() {
        return apiUsage;
    }

    /** The {@code Sforce-Call-Options} value every request carries. */
    public String callOptions() {
        return callOptions;
    }

    /**
     * Creates or updates the records of {@code sObject} matched by {@code externalIdField}, {@link #MAX_RECORDS} a
     * request; one {@link Result} per record, in the order given. Each record maps field API names to values (strings,
     * numbers, booleans; null clears the field) and holds its external id value under {@code externalIdField}; it
     * must not hold {@code Id} or other system fields. A failure of a whole request after earlier requests were
     * written leaves those written: asking again with the same records updates them to the same values, so the caller
     * may simply retry.
     */
    public List<Result> upsert(String sObject, String externalIdField, List<Map<String, Object>> records) {
        if (sObject == null || !API_NAME.matcher(sObject).matches()) {
            throw new IllegalArgumentException("not a Salesforce object API name: " + sObject);
        }
        if (externalIdField == null || !API_NAME.matcher(externalIdField).matches()) {
            throw new IllegalArgumentException("not a Salesforce field API name: " + externalIdField);
        }
        List<WriteRecord> all = new ArrayList<>(records.size());
        for (Map<String, Object> r : records) all.add(new WriteRecord(sObject, r));
        List<Result> results = new ArrayList<>(records.size());
        for (int from = 0; from < all.size(); from += MAX_RECORDS) {
            List<WriteRecord> chunk = all.subList(from, Math.min(all.size(), from + MAX_RECORDS));
            results.addAll(send(sObject, externalIdField, new ArrayList<>(chunk)));
        }
        return results;
    }

    /**
     * Updates records of {@code sObject} by their Salesforce ids (sObject Collections update,
     * {@code PATCH /composite/sobjects}), {@link #MAX_RECORDS} a request; one {@link Result} per record, in the order
     * given. How the runtime writes to records that exist in Salesforce (a user's account, its ids written back):
     * an upsert takes external ids only, and one by a field the record does not hold yet would create a second record.
     */
    public List<Result> update(String sObject, Map<String, Map<String, Object>> fieldsById) {
        if (sObject == null || !API_NAME.matcher(sObject).matches()) {
            throw new IllegalArgumentException("not a Salesforce object API name: " + sObject);
        }
        List<WriteRecord> all = new ArrayList<>(fieldsById.size());
        fieldsById.forEach((id, fields) -> {
            WriteRecord r = new WriteRecord(sObject, fields);
            r.setId(id);
            all.add(r);
        });
        List<Result> results = new ArrayList<>(all.size());
        for (int from = 0; from < all.size(); from += MAX_RECORDS) {
            List<WriteRecord> chunk = all.subList(from, Math.min(all.size(), from + MAX_RECORDS));
            String what = "Salesforce update of " + chunk.size() + " " + sObject;
            Exchange answer = template.request(UPDATE_ENDPOINT, e -> {
                e.getIn().setHeader(SalesforceEndpointConfig.ALL_OR_NONE, "false");
                e.getIn().setHeader(CALL_OPTIONS, callOptions);
                e.getIn().setBody(new ArrayList<>(chunk));
            });
            observeLimits(answer.getMessage().getHeader("Sforce-Limit-Info", String.class));
            if (answer.getException() != null) throw classify(what, answer.getException());
            List<?> list = answer.getMessage().getBody(List.class);
            if (list == null || list.size() != chunk.size()) {
                throw new TransientFailure(what + " answered " + (list == null ? "no" : list.size()) + " results");
            }
            for (Object o : list) {
                if (!(o instanceof SaveSObjectResult r)) {
                    throw new TransientFailure(what + " answered a result that is not a SaveResult: " + o);
                }
                List<Error> errors = new ArrayList<>();
                if (r.getErrors() != null) {
                    for (RestError e : r.getErrors()) errors.add(new Error(e.getErrorCode(), e.getMessage(), e.getFields()));
                }
                boolean success = Boolean.TRUE.equals(r.getSuccess());
                results.add(new Result(success ? r.getId() : null, false, success, errors));
            }
        }
        return results;
    }

    /**
     * The records a SOQL query answers (its first page, up to 2,000: for queries that select a few records by id or
     * by an external id), through camel-salesforce's {@code query} with the raw JSON answer. A whole request's failure
     * is classified as the writes' are.
     */
    public List<com.fasterxml.jackson.databind.JsonNode> query(String soql) {
        String what = "Salesforce query " + soql;
        Exchange answer = template.request(QUERY_ENDPOINT, e -> {
            e.getIn().setHeader(SalesforceEndpointConfig.SOBJECT_QUERY, soql);
            e.getIn().setBody(soql);
        });
        observeLimits(answer.getMessage().getHeader("Sforce-Limit-Info", String.class));
        if (answer.getException() != null) throw classify(what, answer.getException());
        try {
            com.fasterxml.jackson.databind.JsonNode page = QUERY_JSON.readTree(answer.getMessage().getBody(String.class));
            List<com.fasterxml.jackson.databind.JsonNode> out = new ArrayList<>();
            page.path("records").forEach(out::add);
            return out;
        } catch (java.io.IOException | RuntimeException e) {
            throw new TransientFailure(what + " answered what is not a query result: " + e.getMessage(), e);
        }
    }

    /** A text value quoted for SOQL (backslash and quote escaped). */
    public static String soqlText(String value) {
        return "'" + value.replace("\\", "\\\\").replace("'", "\\'") + "'";
    }

    private List<Result> send(String sObject, String externalIdField, List<WriteRecord> chunk) {
        String what = "Salesforce upsert of " + chunk.size() + " " + sObject + " by " + externalIdField;
        Exchange answer = template.request(ENDPOINT, e -> {
            e.getIn().setHeader(SalesforceEndpointConfig.SOBJECT_NAME, sObject);
            e.getIn().setHeader(SalesforceEndpointConfig.SOBJECT_EXT_ID_NAME, externalIdField);
            e.getIn().setHeader(SalesforceEndpointConfig.ALL_OR_NONE, "false");
            e.getIn().setHeader(CALL_OPTIONS, callOptions);
            e.getIn().setBody(chunk);
        });
        observeLimits(answer.getMessage().getHeader("Sforce-Limit-Info", String.class));
        if (answer.getException() != null) throw classify(what, answer.getException());
        List<?> list = answer.getMessage().getBody(List.class);
        if (list == null || list.size() != chunk.size()) {
            // which records were written is not known: asking again (an upsert) is right
            throw new TransientFailure(what + " answered " + (list == null ? "no" : list.size()) + " results");
        }
        List<Result> out = new ArrayList<>(list.size());
        for (Object o : list) {
            if (!(o instanceof UpsertSObjectResult r)) {
                throw new TransientFailure(what + " answered a result that is not an UpsertResult: " + o);
            }
            List<Error> errors = new ArrayList<>();
            if (r.getErrors() != null) {
                for (RestError e : r.getErrors()) errors.add(new Error(e.getErrorCode(), e.getMessage(), e.getFields()));
            }
            boolean success = Boolean.TRUE.equals(r.getSuccess());
            out.add(new Result(success ? r.getId() : null, success && Boolean.TRUE.equals(r.getCreated()), success,
                    errors));
        }
        return out;
    }

    private void observeLimits(String limitInfo) {
        if (limitInfo == null) return;
        Matcher m = API_USAGE.matcher(limitInfo);
        if (!m.find()) return;
        ApiUsage usage = new ApiUsage(Long.parseLong(m.group(1)), Long.parseLong(m.group(2)));
        ApiUsage before = apiUsage;
        apiUsage = usage;
        if (usage.nearlyExhausted() && (before == null || !before.nearlyExhausted())) {
            LOG.warn("Salesforce API allowance nearly used up: {} of {} requests in the last 24 hours", usage.used(),
                    usage.limit());
        }
    }

    /** A whole request's failure as the runtime's transient or permanent failure, with Salesforce's reason. */
    static RuntimeException classify(String what, Throwable failure) {
        SalesforceException sf = null;
        for (Throwable t = failure; t != null && sf == null; t = t.getCause() == t ? null : t.getCause()) {
            if (t instanceof SalesforceException s) sf = s;
        }
        if (sf == null || sf.getStatusCode() <= 0) {
            // no HTTP answer: timeout, refused connection (transient), or a failure on our side (permanent)
            String reason = what + " failed: " + FailureClassifier.reason(failure);
            return FailureClassifier.isTransient(failure) ? new TransientFailure(reason, failure)
                    : new PermanentFailure(reason, failure);
        }
        int status = sf.getStatusCode();
        List<RestError> errors = sf.getErrors() == null ? List.of() : sf.getErrors();
        StringBuilder reason = new StringBuilder(what).append(" answered ").append(status);
        for (RestError e : errors) reason.append(": ").append(e.getErrorCode()).append(" ").append(e.getMessage());
        if (errors.isEmpty() && sf.getMessage() != null) reason.append(": ").append(sf.getMessage());
        boolean limit = errors.stream().anyMatch(e -> "REQUEST_LIMIT_EXCEEDED".equals(e.getErrorCode()));
        if (status >= 500 || status == 408 || status == 429 || (status == 403 && limit)) {
            return new TransientFailure(reason.toString(), failure);
        }
        return new PermanentFailure(reason.toString(), failure);
    }

    /**
     * One record as camel-salesforce's collections operation takes it (a list of its sObject base class): the type in
     * {@code attributes}, the fields as given. {@code Name} and {@code OwnerId} go through the base class's own
     * properties, since its serialisation filter would otherwise drop a map entry of that name.
     */
    static final class WriteRecord extends AbstractDescribedSObjectBase {

        private final Map<String, Object> interchangeFields = new LinkedHashMap<>();
        private final String sObject;

        WriteRecord(String sObject, Map<String, Object> fields) {
            this.sObject = sObject;
            getAttributes().setType(sObject);
            fields.forEach((name, value) -> {
                if (name == null || !API_NAME.matcher(name).matches()) {
                    throw new IllegalArgumentException("not a Salesforce field API name: " + name);
                }
                if (name.equals("Name") || name.equals("OwnerId")) {
                    if (value == null) getFieldsToNull().add(name);
                    else if (name.equals("Name")) setName(String.valueOf(value));
                    else setOwnerId(String.valueOf(value));
                } else if (BASE_FIELDS.contains(name)) {
                    throw new IllegalArgumentException(name + " is maintained by Salesforce (or, for Id, not allowed in "
                            + "an upsert by external id) and cannot be written");
                } else {
                    interchangeFields.put(name, value);
                }
            });
        }

        @JsonAnyGetter
        Map<String, Object> interchangeFields() {
            return Collections.unmodifiableMap(interchangeFields);
        }

        @Override
        public SObjectDescription description() {
            SObjectDescription d = new SObjectDescription();
            d.setName(sObject);
            return d;
        }
    }
}
