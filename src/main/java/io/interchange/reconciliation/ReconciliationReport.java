package io.interchange.reconciliation;

import io.interchange.management.PersonalData;
import io.interchange.store.ReconciliationRuns;
import io.interchange.store.ReconciliationRuns.Difference;
import io.interchange.store.ReconciliationRuns.Kind;
import io.interchange.store.ReconciliationRuns.Record;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;
import java.util.Map;

/**
 * A run's report: a self-contained HTML page (the run, totals per entity and currency on each side, the differences
 * table, and for each difference an anchor with its records on every side, their ids and correlation ids; every value
 * escaped; a customer's name and e-mail masked unless the reader may see personal data) and a CSV file of the differences (RFC 4180: fields quoted where they hold a comma, quote or line break,
 * quotes doubled, lines ended by CRLF). Both are streamed from the store, difference by difference.
 */
final class ReconciliationReport {

    private final ReconciliationRuns runs;
    private final Comparison comparison;
    /** The two sides whose amounts a difference holds, and their labels. */
    private final Comparison.Side first;
    private final Comparison.Side second;

    private final boolean reveal;

    /**
     * The report of runs of {@code comparison} (null: one this instance no longer runs, named by its sides' ids);
     * personal data in the differences' and records' details (a customer's name and e-mail) masked unless
     * {@code reveal}.
     */
    ReconciliationReport(ReconciliationRuns runs, Comparison comparison, boolean reveal) {
        this.runs = runs;
        this.comparison = comparison;
        this.reveal = reveal;
        List<Comparison.Side> sides = comparison == null ? List.of() : comparison.sides();
        this.first = sides.size() > 0 ? sides.get(0) : new Comparison.Side(ReconciliationRuns.BILLING, "first side");
        this.second = sides.size() > 1 ? sides.get(1) : new Comparison.Side(ReconciliationRuns.ERP, "second side");
    }

    void html(Reconciliation.Summary s, Writer out) throws IOException {
        ReconciliationRuns.Run r = s.run();
        String title = "Reconciliation #" + r.id() + " " + r.legalEntity() + " " + r.from() + " to " + r.to();
        out.write("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>" + esc(title) + "</title>\n"
                + "<style>body{font-family:sans-serif;margin:2em;color:#222}table{border-collapse:collapse;margin:1em 0}"
                + "th,td{border:1px solid #bbb;padding:4px 8px;text-align:left;vertical-align:top}"
                + "td.num{text-align:right;font-variant-numeric:tabular-nums}th{background:#eee}"
                + "section{margin:1.5em 0;padding-top:.5em;border-top:1px solid #ddd}.clean{color:#070}.diff{color:#a00}"
                + "tr.acknowledged{color:#666}"
                + "</style></head><body>\n");
        out.write("<h1>" + esc(title) + "</h1>\n<table id=\"run\">");
        row(out, "Run", "#" + r.id());
        row(out, "Comparison", r.comparison() + (comparison == null ? "" : ": " + comparison.description()));
        row(out, "Legal entity", r.legalEntity());
        row(out, "Period", r.from() + " up to, not including, " + r.to());
        row(out, "Status", r.status());
        row(out, "Started", String.valueOf(r.startedAt()));
        row(out, "Finished", String.valueOf(r.finishedAt()));
        row(out, "Read", s.read() + (r.unreadableRecords() > 0 ? ", records not compared " + r.unreadableRecords() : ""));
        row(out, "Matched", String.valueOf(r.matched()));
        long acknowledged = runs.acknowledgedCount(r.id());
        row(out, "Differences", r.differences() + (acknowledged > 0 ? " (" + acknowledged + " acknowledged)" : ""));
        if (r.detail() != null) row(out, "Note", r.detail());
        out.write("</table>\n");

        List<ReconciliationRuns.Total> totals = runs.totals(r.id());
        if (totals.stream().allMatch(t -> t.currency() == null)) {
            // a comparison of records without amounts (customers): how many each side held in the period
            out.write("<h2>Records in the period</h2>\n<table id=\"totals\"><tr><th>Entity</th>");
            for (ReconciliationRuns.Total t : totals) out.write("<th>" + esc(sideLabel(t.side())) + " records</th>");
            out.write("</tr>\n<tr><td>" + esc(r.legalEntity()) + "</td>");
            for (ReconciliationRuns.Total t : totals) out.write("<td class=\"num\">" + t.count() + "</td>");
            out.write("</tr>\n");
        } else {
            out.write("<h2>Totals in the period</h2>\n<table id=\"totals\"><tr><th>Entity</th><th>Currency</th>"
                    + "<th>" + esc(capital(first.label())) + " records</th><th>" + esc(capital(first.label())) + " amount</th>"
                    + "<th>" + esc(capital(second.label())) + " records</th><th>" + esc(capital(second.label())) + " amount</th>"
                    + "<th>Difference</th></tr>\n");
            for (String currency : totals.stream().map(ReconciliationRuns.Total::currency).distinct().toList()) {
                ReconciliationRuns.Total b = total(totals, first.id(), currency);
                ReconciliationRuns.Total e = total(totals, second.id(), currency);
                out.write("<tr><td>" + esc(r.legalEntity()) + "</td><td>" + esc(currency) + "</td><td class=\"num\">"
                        + b.count() + "</td><td class=\"num\">" + esc(Money.format(b.amountMinor(), currency))
                        + "</td><td class=\"num\">" + e.count() + "</td><td class=\"num\">"
                        + esc(Money.format(e.amountMinor(), currency)) + "</td><td class=\"num\">"
                        + esc(Money.format(b.amountMinor() - e.amountMinor(), currency)) + "</td></tr>\n");
            }
        }
        out.write("</table>\n<h2>Differences by kind</h2>\n<table id=\"kinds\"><tr><th>Kind</th><th>Meaning</th>"
                + "<th>Count</th></tr>\n");
        for (Map.Entry<Kind, Long> k : Reconciliation.allKinds(comparison, s.differences()).entrySet()) {
            out.write("<tr><td>" + esc(k.getKey().name()) + "</td><td>" + esc(comparison == null ? k.getKey().meaning() : comparison.meaning(k.getKey()))
                    + "</td><td class=\"num\">" + k.getValue() + "</td></tr>\n");
        }
        out.write("</table>\n");

        if (r.differences() == 0) {
            out.write("<p class=\"clean\">No differences: every document in the period agrees on every side.</p>\n");
        } else {
            out.write("<h2>Differences</h2>\n<table id=\"differences\"><tr><th>#</th><th>Kind</th><th>Side</th>"
                    + "<th>Document</th><th>ERP document</th><th>Currency</th><th>" + esc(capital(first.label()))
                    + "</th><th>" + esc(capital(second.label())) + "</th>"
                    + "<th>Detail</th><th>Open dead letters</th><th>Acknowledged</th></tr>\n");
            // the links of the whole run in one query; a run's links are few beside its records
            Map<Long, List<Long>> deadLetters = runs.deadLetters(r.id(), 0, Long.MAX_VALUE);
            try {
                runs.eachDifference(r.id(), d -> write(out, "<tr class=\"diff" + (d.acknowledgement() == null ? ""
                        : " acknowledged") + "\" id=\"row-d" + d.id() + "\"><td><a href=\"#d" + d.id() + "\">"
                        + d.id() + "</a></td><td>" + esc(d.kind().name()) + "</td><td>" + esc(d.side()) + "</td><td>"
                        + esc(d.key()) + "</td><td>" + esc(d.erpDocument()) + "</td><td>" + esc(d.currency())
                        + "</td><td class=\"num\">" + esc(Money.format(d.billingAmountMinor(), d.currency()))
                        + "</td><td class=\"num\">" + esc(Money.format(d.erpAmountMinor(), d.currency())) + "</td><td>"
                        + esc(shown(d.detail())) + "</td><td class=\"dead-letters\">" + esc(deadLetterIds(deadLetters.get(d.id())))
                        + "</td><td class=\"acknowledgement\">" + esc(acknowledgement(d)) + "</td></tr>\n"));
                out.write("</table>\n<h2>Records of each difference</h2>\n");
                runs.eachDifference(r.id(), d -> {
                    write(out, "<section id=\"d" + d.id() + "\"><h3>#" + d.id() + " " + esc(d.kind().name()) + " "
                            + esc(d.key()) + "</h3>\n");
                    if (d.acknowledgement() != null) {
                        write(out, "<p class=\"acknowledgement\">" + esc(acknowledgement(d)) + "</p>\n");
                    }
                    List<Long> letters = deadLetters.get(d.id());
                    if (letters != null) {
                        write(out, "<p class=\"dead-letters\">Open dead letters of these records when the run completed: "
                                + esc(deadLetterIds(letters)) + " (DeadLetters show &lt;id&gt; over JMX)</p>\n");
                    }
                    write(out, "<table><tr><th>Side</th><th>Kind</th><th>Id</th>"
                            + "<th>Correlation id</th><th>ERP document</th><th>Date</th><th>In period</th>"
                            + "<th>Currency</th><th>Amount</th><th>Detail</th></tr>\n");
                    for (Record rec : runs.records(r.id(), d)) {
                        write(out, "<tr><td>" + esc(rec.side()) + "</td><td>" + esc(rec.kind()) + "</td><td>"
                                + esc(rec.recordId()) + "</td><td>" + esc(rec.correlationId()) + "</td><td>"
                                + esc(rec.erpDocument()) + "</td><td>" + esc(String.valueOf(rec.occurredOn()))
                                + "</td><td>" + (rec.inPeriod() ? "yes" : "no") + "</td><td>" + esc(rec.currency())
                                + "</td><td class=\"num\">" + esc(Money.format(rec.amountMinor(), rec.currency()))
                                + "</td><td>" + esc(shown(rec.detail())) + "</td></tr>\n");
                    }
                    write(out, "</table><p><a href=\"#differences\">back to the differences</a></p></section>\n");
                });
            } catch (UncheckedIOException e) {
                throw e.getCause();
            }
        }
        out.write("</body></html>\n");
    }

    /** The header line, then one line per difference with its records flattened into the last field. */
    void csv(Reconciliation.Summary s, Writer out) throws IOException {
        ReconciliationRuns.Run r = s.run();
        // the amounts and counts are named after the comparison's first two sides: billing_amount, erp_amount, ...
        String a = first.id().toLowerCase(java.util.Locale.ROOT);
        String b = second.id().toLowerCase(java.util.Locale.ROOT);
        out.write("run,legal_entity,period_from,period_to,difference,kind,side,document,erp_document,currency,"
                + a + "_amount," + b + "_amount," + a + "_count," + b + "_count,detail,records,dead_letters,"
                + "acknowledged_by,acknowledged_at,acknowledged_reason\r\n");
        Map<Long, List<Long>> deadLetters = runs.deadLetters(r.id(), 0, Long.MAX_VALUE);
        try {
            runs.eachDifference(r.id(), d -> {
                StringBuilder records = new StringBuilder();
                for (Record rec : runs.records(r.id(), d)) {
                    if (records.length() > 0) records.append("; ");
                    records.append(rec.side()).append(' ').append(rec.recordId());
                    if (rec.correlationId() != null) records.append(" (").append(rec.correlationId()).append(')');
                    if (rec.amountMinor() != null) {
                        records.append(' ').append(Money.format(rec.amountMinor(), rec.currency())).append(' ')
                                .append(rec.currency());
                    }
                }
                write(out, String.join(",", field(String.valueOf(r.id())), field(r.legalEntity()),
                        field(String.valueOf(r.from())), field(String.valueOf(r.to())), field(String.valueOf(d.id())),
                        field(d.kind().name()), field(d.side()), field(d.key()), field(d.erpDocument()),
                        field(d.currency()), field(Money.format(d.billingAmountMinor(), d.currency())),
                        field(Money.format(d.erpAmountMinor(), d.currency())), field(String.valueOf(d.billingCount())),
                        field(String.valueOf(d.erpCount())), field(shown(d.detail())), field(records.toString()),
                        field(deadLetterIds(deadLetters.get(d.id()))),
                        field(d.acknowledgement() == null ? null : d.acknowledgement().by()),
                        field(d.acknowledgement() == null ? null : String.valueOf(d.acknowledgement().at())),
                        field(d.acknowledgement() == null ? null : d.acknowledgement().reason())) + "\r\n");
            });
        } catch (UncheckedIOException e) {
            throw e.getCause();
        }
    }

    /** Dead letter ids as an operator types them: {@code #7 #9}; empty for none. */
    static String deadLetterIds(List<Long> ids) {
        if (ids == null || ids.isEmpty()) return "";
        StringBuilder sb = new StringBuilder();
        for (Long id : ids) sb.append(sb.length() == 0 ? "#" : " #").append(id);
        return sb.toString();
    }

    /** "acknowledged by jmx:alice at ...: reason", or empty. */
    static String acknowledgement(Difference d) {
        ReconciliationRuns.Acknowledgement a = d.acknowledgement();
        return a == null ? "" : "acknowledged by " + a.by() + " at " + a.at() + ": " + a.reason();
    }

    private static ReconciliationRuns.Total total(List<ReconciliationRuns.Total> totals, String side, String currency) {
        return totals.stream().filter(t -> t.side().equals(side) && java.util.Objects.equals(t.currency(), currency))
                .findFirst().orElse(new ReconciliationRuns.Total(side, currency, 0, 0));
    }

    /** A side's label in this comparison ("billing"), capitalised, or its id where the comparison does not name it. */
    private String sideLabel(String side) {
        if (comparison != null) {
            for (Comparison.Side sd : comparison.sides()) if (sd.id().equals(side)) return capital(sd.label());
        }
        return side;
    }

    /** A detail as this report shows it: personal data masked unless the reader may see it. */
    private String shown(String detail) {
        return reveal ? detail : PersonalData.mask(detail);
    }

    private static String capital(String s) {
        return s.isEmpty() ? s : Character.toUpperCase(s.charAt(0)) + s.substring(1);
    }

    private static void row(Writer out, String name, String value) throws IOException {
        out.write("<tr><th>" + esc(name) + "</th><td>" + esc(value) + "</td></tr>");
    }

    private static void write(Writer out, String s) {
        try {
            out.write(s);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
    }

    /** HTML text and attribute escaping. */
    static String esc(String s) {
        if (s == null) return "";
        StringBuilder sb = new StringBuilder(s.length());
        for (char c : s.toCharArray()) {
            switch (c) {
                case '&' -> sb.append("&amp;");
                case '<' -> sb.append("&lt;");
                case '>' -> sb.append("&gt;");
                case '"' -> sb.append("&quot;");
                case '\'' -> sb.append("&#39;");
                default -> sb.append(c);
            }
        }
        return sb.toString();
    }

    /** One CSV field (RFC 4180): quoted when it holds a comma, a quote or a line break, its quotes doubled. */
    static String field(String s) {
        if (s == null) return "";
        if (s.indexOf(',') < 0 && s.indexOf('"') < 0 && s.indexOf('\n') < 0 && s.indexOf('\r') < 0) return s;
        return '"' + s.replace("\"", "\"\"") + '"';
    }
}
