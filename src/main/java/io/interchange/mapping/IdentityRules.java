package io.interchange.mapping;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.UnaryOperator;

/**
 * Identity matching as data ({@code mappings/identity/match-rules.csv}): which customer an incoming CRM record is.
 * Each rule normalises one canonical field into a key; the keys of linked records are indexed (as SHA-256) in the
 * store. The answer is a new customer, one customer, or ambiguous (several candidates, rules naming different
 * customers, or only a non-decisive rule matching), which is parked for an operator and never merged by guess.
 */
public final class IdentityRules {

    public static final String FILE = "identity/match-rules.csv";

    /** An incoming record: where it lives and its canonical identity fields (absent or blank fields have no key). */
    public record Record(String system, String scope, String externalId, Map<String, String> fields) {
    }

    /** One identity key of a record: the rule, the SHA-256 of the normalised value, and whether a match decides. */
    public record Key(String rule, String hash, boolean decisive) {
    }

    /** What the decision needs from the store. */
    public interface Lookup {
        /** The customer the record is linked to already, if any. */
        Optional<String> linkedCustomer(String system, String scope, String externalId);

        /** The customers whose linked records have this key. */
        Set<String> customersWithKey(String rule, String hash);

        /** The customer's record in a system and scope, if it has one (linked or being created). */
        Optional<String> recordOf(String globalId, String system, String scope);
    }

    public enum Outcome { NEW, MATCHED, AMBIGUOUS }

    /**
     * The answer: for MATCHED the customer and the rule that named it ({@code linked} when the record was linked
     * already); for AMBIGUOUS every candidate and why; for NEW no customer (the one minted for it, once
     * {@code customer/CustomerIdentities} has). {@code matches} lists each rule that found customers, in rule order.
     */
    public record Decision(Outcome outcome, String globalId, String rule, List<String> candidates,
                           Map<String, Set<String>> matches, String reason) {
    }

    private record Rule(int order, String name, String field, String normalisation, UnaryOperator<String> normalise,
                        boolean decisive) {
    }

    private static final Map<String, UnaryOperator<String>> NORMALISATIONS = Map.of(
            "email", IdentityRules::email,
            "tax-id", IdentityRules::taxId,
            "phone", IdentityRules::phone,
            "exact", v -> nonEmpty(Normalizer.normalize(v, Normalizer.Form.NFC).strip()));

    private final List<Rule> rules;

    private IdentityRules(List<Rule> rules) {
        this.rules = rules;
    }

    public static IdentityRules load(MappingSource source) {
        return parse(source.read(FILE));
    }

    public static IdentityRules parse(String csv) {
        List<Rule> rules = new ArrayList<>();
        Set<String> names = new TreeSet<>();
        for (CsvTable.Row row : CsvTable.parse(FILE, csv, "order", "rule", "field", "normalisation", "decisive")) {
            String where = "mappings/" + FILE + " line " + row.line() + ": ";
            int order;
            try {
                order = Integer.parseInt(row.get("order"));
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException(where + "order '" + row.get("order") + "' is not a number");
            }
            UnaryOperator<String> normalise = NORMALISATIONS.get(row.get("normalisation"));
            if (normalise == null) {
                throw new IllegalArgumentException(where + "normalisation '" + row.get("normalisation")
                        + "' is not one of " + new TreeSet<>(NORMALISATIONS.keySet()));
            }
            String decisive = row.get("decisive");
            if (!decisive.equals("yes") && !decisive.equals("no")) {
                throw new IllegalArgumentException(where + "decisive is yes or no, not '" + decisive + "'");
            }
            if (!row.get("rule").matches("[a-z][a-z0-9-]{0,39}")) {
                throw new IllegalArgumentException(where + "rule '" + row.get("rule") + "' is not a rule name");
            }
            if (!names.add(row.get("rule"))) throw new IllegalArgumentException(where + "rule " + row.get("rule") + " twice");
            rules.add(new Rule(order, row.get("rule"), row.get("field"), row.get("normalisation"), normalise,
                    decisive.equals("yes")));
        }
        if (rules.stream().noneMatch(Rule::decisive)) {
            throw new IllegalArgumentException("mappings/" + FILE + ": no decisive rule, so no record could ever match");
        }
        rules.sort(Comparator.comparingInt(Rule::order));
        return new IdentityRules(List.copyOf(rules));
    }

    /** The record's identity keys, in rule order; a field that is absent or normalises to nothing has none. */
    public List<Key> keys(Record record) {
        List<Key> keys = new ArrayList<>();
        for (Rule r : rules) {
            String value = record.fields().get(r.field());
            String normalised = value == null ? null : r.normalise().apply(value);
            // the rule's name is part of what is hashed: an e-mail and a tax id never share a key
            if (normalised != null) keys.add(new Key(r.name(), Fingerprint.hex(r.name() + "\n" + normalised), r.decisive()));
        }
        return keys;
    }

    /** Which customer the record is (see {@link Decision}). */
    public Decision decide(Record record, Lookup lookup) {
        Map<String, Set<String>> matches = new LinkedHashMap<>();
        Set<String> decisive = new TreeSet<>();
        Set<String> possible = new TreeSet<>();
        String firstDecisiveRule = null;
        for (Key key : keys(record)) {
            Set<String> found = new TreeSet<>(lookup.customersWithKey(key.rule(), key.hash()));
            if (found.isEmpty()) continue;
            matches.put(key.rule(), found);
            if (key.decisive()) {
                decisive.addAll(found);
                if (firstDecisiveRule == null) firstDecisiveRule = key.rule();
            } else {
                possible.addAll(found);
            }
        }
        Optional<String> linked = lookup.linkedCustomer(record.system(), record.scope(), record.externalId());
        if (linked.isPresent()) {
            Set<String> others = new TreeSet<>(decisive);
            others.remove(linked.get());
            if (others.isEmpty()) return new Decision(Outcome.MATCHED, linked.get(), "linked", List.of(linked.get()),
                    matches, "the record is linked to the customer");
            Set<String> all = new TreeSet<>(others);
            all.add(linked.get());
            return ambiguous(all, matches, "the record is linked to customer " + linked.get() + " but " + rulesNaming(
                    matches, others) + " name(s) " + others);
        }
        if (decisive.size() > 1) {
            boolean oneRuleSeveral = matches.entrySet().stream().anyMatch(e -> isDecisive(e.getKey()) && e.getValue().size() > 1);
            return ambiguous(decisive, matches, (oneRuleSeveral ? "several customers share a decisive key" : "rules disagree")
                    + ": " + describe(matches));
        }
        if (decisive.size() == 1) {
            String customer = decisive.iterator().next();
            Optional<String> sameSystem = lookup.recordOf(customer, record.system(), record.scope());
            if (sameSystem.isPresent()) {
                return ambiguous(decisive, matches, "customer " + customer + " (" + firstDecisiveRule + ") has another "
                        + "record in " + record.system() + (blank(record.scope()) ? "" : "/" + record.scope())
                        + " already (" + (sameSystem.get().isEmpty() ? "being created" : sameSystem.get())
                        + "): a duplicate in that system");
            }
            return new Decision(Outcome.MATCHED, customer, firstDecisiveRule, List.of(customer), matches,
                    "matched by " + firstDecisiveRule);
        }
        if (!possible.isEmpty()) {
            return ambiguous(possible, matches, "only a non-decisive rule matched: " + describe(matches));
        }
        return new Decision(Outcome.NEW, null, null, List.of(), matches, "no rule matched a known customer");
    }

    private boolean isDecisive(String rule) {
        return rules.stream().anyMatch(r -> r.name().equals(rule) && r.decisive());
    }

    private static Decision ambiguous(Set<String> candidates, Map<String, Set<String>> matches, String reason) {
        return new Decision(Outcome.AMBIGUOUS, null, null, List.copyOf(candidates), matches, reason);
    }

    private static String describe(Map<String, Set<String>> matches) {
        StringBuilder s = new StringBuilder();
        matches.forEach((rule, ids) -> s.append(s.length() == 0 ? "" : "; ").append(rule).append(" -> ").append(ids));
        return s.toString();
    }

    private static String rulesNaming(Map<String, Set<String>> matches, Set<String> customers) {
        List<String> names = new ArrayList<>();
        matches.forEach((rule, ids) -> {
            if (ids.stream().anyMatch(customers::contains)) names.add(rule);
        });
        return String.join(", ", names);
    }

    // ------------------------------------------------------------------------------------- normalisations

    static String email(String value) {
        String v = Normalizer.normalize(value, Normalizer.Form.NFKC).strip().toLowerCase(Locale.ROOT);
        int at = v.indexOf('@');
        return at > 0 && at == v.lastIndexOf('@') && at < v.length() - 1 && v.chars().noneMatch(Character::isWhitespace)
                ? v : null;
    }

    static String taxId(String value) {
        StringBuilder s = new StringBuilder();
        Normalizer.normalize(value, Normalizer.Form.NFKC).codePoints().filter(Character::isLetterOrDigit)
                .forEach(s::appendCodePoint);
        return nonEmpty(s.toString().toUpperCase(Locale.ROOT));
    }

    static String phone(String value) {
        String v = Normalizer.normalize(value, Normalizer.Form.NFKC).strip();
        StringBuilder digits = new StringBuilder(v.startsWith("+") ? "+" : "");
        v.chars().filter(c -> c >= '0' && c <= '9').forEach(c -> digits.append((char) c));
        return digits.length() - (v.startsWith("+") ? 1 : 0) >= 7 ? digits.toString() : null;
    }

    private static String nonEmpty(String v) {
        return v.isEmpty() ? null : v;
    }

    private static boolean blank(String s) {
        return s == null || s.isEmpty();
    }
}
