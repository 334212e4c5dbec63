package io.interchange.bench.e2e;

import io.interchange.mapping.LegalEntity;
import io.interchange.mapping.LegalEntityTable;
import io.interchange.mapping.MappingSource;
import io.interchange.sandbox.LegacyErpPeer;
import io.interchange.sandbox.S4HanaPeer;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The S/4HANA of one post run: the runtime's own simulated "Journal Entry – Post" service ({@link S4HanaPeer}) in
 * the harness JVM on a free port, fresh per run (its postings, request count and idempotency store start empty),
 * knowing the company codes of the legal-entity table. SAP's idempotency window stays as shipped (24 h): a journal
 * entry sent again with the same UUID is answered from it, not posted twice, and counted as a replay.
 *
 * <p>An idle legacy ERP peer runs beside it: no bench entity posts there, but the runtime's health (its readiness)
 * includes the legacy ERP's, as in production, where both are up.
 */
final class ErpPeer implements AutoCloseable {

    static {
        // The peers run on the JDK's HttpServer, which writes a response's headers and body as two segments without
        // TCP_NODELAY: against a client's delayed ACK each answer to back-to-back requests would wait about 40 ms, a
        // peer artefact no ERP has, and the variant sending the most requests would measure the kernel's ACK timer.
        System.setProperty("sun.net.httpserver.nodelay", "true");
    }


    static final String USER = "BENCH_COMM";
    static final String PASSWORD = "bench-s4-password";

    private final S4HanaPeer peer;
    private final LegacyErpPeer legacy;

    ErpPeer() throws IOException {
        Map<String, String> companies = new HashMap<>();
        Map<String, String> legacyCompanies = new HashMap<>();
        for (LegalEntity e : LegalEntityTable.load(MappingSource.bundled()).all().values()) {
            companies.put(e.companyCode(), e.currency());
            legacyCompanies.put(e.legacyCompany(), e.currency());
        }
        peer = new S4HanaPeer(0, USER, PASSWORD, companies);
        peer.start();
        legacy = new LegacyErpPeer(0, USER, PASSWORD, legacyCompanies);
        legacy.start();
    }

    String url() {
        return peer.endpointUrl();
    }

    String legacyUrl() {
        return legacy.endpointUrl();
    }

    /** Entries the legacy ERP took: must stay 0, every bench entity posts to S/4HANA. */
    int legacyPostings() {
        return legacy.postings().size();
    }

    /** Journal entries posted so far. */
    int postings() {
        return peer.postings().size();
    }

    /** HTTP requests received, whatever their answer: one per SOAP call, so it shows how much was batched. */
    int requests() {
        return peer.requestCount();
    }

    /** Entries sent again with a UUID already posted, answered from the idempotency store. */
    int replays() {
        return peer.idempotentReplays();
    }

    int rejections() {
        return peer.rejections().size();
    }

    /** Distinct MessageHeader UUIDs among the postings (one per canonical posting: a name-based UUID of its id). */
    int distinctUuids() {
        List<S4HanaPeer.Posting> all = peer.postings();
        Set<String> ids = new HashSet<>(all.size() * 2);
        for (S4HanaPeer.Posting p : all) ids.add(p.uuid());
        return ids.size();
    }

    /** Lines posted so far, over every entry (a loyalty transaction posts one pair, in its own entry or a filing's). */
    int lines() {
        int n = 0;
        for (S4HanaPeer.Posting p : peer.postings()) n += p.lines().size();
        return n;
    }

    private static final Pattern ENTRY = Pattern.compile("<JournalEntryCreateRequest(?:\\s[^>]*)?>(.*?)</JournalEntryCreateRequest>",
            Pattern.DOTALL);
    private static final Pattern UUID_TAG = Pattern.compile("<UUID>([^<]*)</UUID>");
    private static final Pattern ITEM_TEXT = Pattern.compile("<DocumentItemText>([^<]*)</DocumentItemText>");
    private static final Pattern TRANSACTION = Pattern.compile("vtx_[A-Za-z0-9]+");

    /**
     * Exactly once for loyalty transactions: every one of {@code expected} named by exactly two line texts (its line
     * pair), both in one journal entry, and no other transaction named. The peer keeps the whole request an entry
     * arrived in; the entry is found in it by its MessageHeader UUID. Returns a line for the checks, ending in
     * "exactly once" or "MISMATCH".
     */
    String linePairs(Set<String> expected) {
        Map<String, String> entryByUuid = new HashMap<>();
        Set<String> parsed = java.util.Collections.newSetFromMap(new java.util.IdentityHashMap<>());
        List<S4HanaPeer.Posting> all = peer.postings();
        for (S4HanaPeer.Posting p : all) {
            if (!parsed.add(p.rawXml())) continue;
            Matcher m = ENTRY.matcher(p.rawXml());
            while (m.find()) {
                Matcher u = UUID_TAG.matcher(m.group(1));
                if (u.find()) entryByUuid.put(u.group(1), m.group(1));
            }
        }
        Map<String, Integer> lines = new HashMap<>();
        Map<String, Set<String>> entries = new HashMap<>();
        int unknownEntries = 0;
        for (S4HanaPeer.Posting p : all) {
            String xml = entryByUuid.get(p.uuid());
            if (xml == null) {
                unknownEntries++;
                continue;
            }
            Matcher t = ITEM_TEXT.matcher(xml);
            while (t.find()) {
                Matcher tx = TRANSACTION.matcher(t.group(1));
                while (tx.find()) {
                    lines.merge(tx.group(), 1, Integer::sum);
                    entries.computeIfAbsent(tx.group(), k -> new HashSet<>()).add(p.uuid());
                }
            }
        }
        int missing = 0;
        int notPair = 0;
        int inSeveral = 0;
        for (String id : expected) {
            Integer n = lines.get(id);
            if (n == null) missing++;
            else if (n != 2) notPair++;
            else if (entries.get(id).size() != 1) inSeveral++;
        }
        int strangers = 0;
        for (String id : lines.keySet()) if (!expected.contains(id)) strangers++;
        boolean ok = missing == 0 && notPair == 0 && inSeveral == 0 && strangers == 0 && unknownEntries == 0;
        return String.format("%d transactions in %d journal entries (%d lines): %d missing, %d not named by exactly "
                        + "one line pair, %d split over entries, %d unknown named, %d entries not found in their request "
                        + "-> %s", lines.size(), all.size(), lines(), missing, notPair, inSeveral, strangers,
                unknownEntries, ok ? "exactly once" : "MISMATCH");
    }

    @Override
    public void close() {
        legacy.close();
        peer.close();
    }
}
