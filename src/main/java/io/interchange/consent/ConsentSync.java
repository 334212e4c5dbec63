package io.interchange.consent;

import com.fasterxml.jackson.databind.ObjectMapper;
import io.interchange.model.ConsentChange;
import io.interchange.reliability.PermanentFailure;
import io.interchange.store.ConsentStates;
import io.interchange.store.CrossReferences;
import io.interchange.store.EchoLedger;
import org.apache.camel.Exchange;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Flow {@code consent}, in one sentence: apply each consent change under the rule ({@link ConsentStates}: newer wins,
 * a revocation wins a tie, every change recorded), then bring every system where the customer has a record in line
 * with the consent in force. A change that lost (older) is not ignored: its source now holds an older value than the
 * one in force, so it is written back there too. The source of an applied change holds it already and is not written,
 * unless the runtime wrote another value there since the change was made (two changes on their way at once, the
 * loser applied first and written everywhere else, the source included).
 * A system that holds the value already (the echo ledger says the runtime wrote it there, and no change since said
 * otherwise) is not written again, and each write is recorded in the echo ledger (ahead of the call, since a system may
 * announce the change before the call returns), so the change events our writes cause are recognised as echoes at
 * their edge and change nothing. Every step is safe to repeat: a change delivered
 * again is in force already and its writes are skipped or repeated harmlessly.
 */
public final class ConsentSync {

    private static final Logger LOG = LoggerFactory.getLogger(ConsentSync.class);
    private static final ObjectMapper JSON = new ObjectMapper();

    /** A system the consent is written to: its records are the customer's links in the cross-reference. */
    public interface Writer {
        /** The system's name in the cross-reference. */
        String system();

        /** Whether the link is a record this writer writes to (e.g. HubSpot contacts, not companies). */
        default boolean writes(CrossReferences.Link link) {
            return true;
        }

        /** The record's id in the echo ledger (the id the system's change events name). */
        default String echoRecord(CrossReferences.Link link) {
            return link.externalId();
        }

        /** The field the echo ledger keeps, as the system's change events name it. */
        String field();

        /** The field's value for the consent, as the system's change events carry it. */
        String value(boolean granted);

        /** Writes the consent to the record; throws a transient or permanent failure. */
        void write(CrossReferences.Link link, ConsentStates.State state);
    }

    private final ConsentStates states;
    private final CrossReferences crossReferences;
    private final EchoLedger echoes;
    private final Map<String, Writer> writers = new LinkedHashMap<>();

    public ConsentSync(ConsentStates states, CrossReferences crossReferences, EchoLedger echoes, List<Writer> writers) {
        this.states = states;
        this.crossReferences = crossReferences;
        this.echoes = echoes;
        writers.forEach(w -> this.writers.put(w.system(), w));
    }

    public List<String> systems() {
        return List.copyOf(writers.keySet());
    }

    /** The idempotency key of a consent record, from its CloudEvents id. */
    public static String key(String ceId) {
        return "consent:apply:" + ceId;
    }

    /** A poll's consent records, one by one in their order (one customer's stay in order on its partition). */
    public List<RuntimeException> handle(List<Exchange> records) {
        List<RuntimeException> out = new ArrayList<>(records.size());
        for (Exchange record : records) {
            try {
                process(record);
                out.add(null);
            } catch (RuntimeException e) {
                out.add(e);
            }
        }
        return out;
    }

    /** One consent record (the single-record route's step). */
    public void process(Exchange record) {
        ConsentChange change;
        try {
            change = JSON.readValue(record.getMessage().getBody(byte[].class), ConsentChange.class);
        } catch (IOException | RuntimeException e) {
            throw new PermanentFailure("not a consent change: " + e.getMessage());
        }
        apply(change);
    }

    /** Applies the change and brings the customer's systems in line with the consent in force. */
    public ConsentStates.Result apply(ConsentChange change) {
        if (change.customer() == null || change.channel() == null || change.sourceTime() == null || change.source() == null) {
            throw new PermanentFailure("consent change " + change.changeId() + " lacks its customer, channel, source or time");
        }
        ConsentStates.Result result = states.apply(change);
        ConsentStates.State state = result.state();
        LOG.info("Consent of customer {} ({}): {} from {} at {} {}; in force: {} from {} at {}", change.customer(),
                change.channel(), change.granted() ? "granted" : "revoked", change.source(), change.sourceTime(),
                result.outcome(), state.granted() ? "granted" : "revoked", state.source(), state.sourceTime());
        if (!ConsentChange.EMAIL_MARKETING.equals(change.channel())) return result;
        RuntimeException failed = null;
        for (CrossReferences.Link link : crossReferences.linksOf(change.customer())) {
            Writer writer = writers.get(link.system());
            if (writer == null || !writer.writes(link) || link.externalId() == null || link.externalId().isEmpty()) continue;
            String value = writer.value(state.granted());
            String record = writer.echoRecord(link);
            boolean source = link.system().equals(state.source())
                    && (link.externalId().equals(state.sourceRecord()) || record.equals(state.sourceRecord()));
            // a system the runtime wrote this value to holds it; the applied change's source holds it too, unless
            // the runtime wrote another value there since (a change that lost, applied while this one was on its way,
            // written to every system but its own: without this write the source would keep the losing value)
            if (echoes.wrote(link.system(), record, writer.field(), value)) continue;
            if (source && !echoes.wroteOther(link.system(), record, writer.field(), value)) continue;
            // recorded ahead of the call: a system may send the change event of the write (its echo) before the call
            // returns (Mailchimp posts its webhook as the status changes); forgotten again if the call fails
            echoes.written(link.system(), record, writer.field(), value);
            try {
                writer.write(link, state);
                LOG.info("Consent of customer {} written to {} record {}: {}", change.customer(), link.system(),
                        link.externalId(), value);
            } catch (RuntimeException e) {
                echoes.forget(link.system(), record, writer.field(), value);
                LOG.warn("Consent of customer {} not written to {} record {}: {}", change.customer(), link.system(),
                        link.externalId(), e.getMessage());
                if (failed == null) failed = e;
            }
        }
        // the others are written and recorded; a retry writes only what failed
        if (failed != null) throw failed;
        return result;
    }
}
