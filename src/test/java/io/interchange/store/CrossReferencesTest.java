package io.interchange.store;

import io.interchange.testkit.TestClock;
import io.interchange.config.Settings;
import io.interchange.store.CrossReferences.Claim;
import io.interchange.store.CrossReferences.Claimed;
import io.interchange.store.CrossReferences.InProgress;
import io.interchange.store.CrossReferences.Link;
import io.interchange.store.CrossReferences.Linked;
import io.interchange.testkit.Databases.Backend;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static io.interchange.store.StoreFixture.LEASE;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class CrossReferencesTest {

    private static final StoreFixture FIXTURE = new StoreFixture();
    private static final Duration WAIT = Duration.ofSeconds(30);

    @AfterAll
    static void closeStores() {
        FIXTURE.close();
    }

    /** A target that, like Stripe with an Idempotency-Key or an upsert by external id, answers a key it saw with its record. */
    static final class IdempotentTarget {
        final Map<String, String> recordByKey = new ConcurrentHashMap<>();
        final AtomicInteger calls = new AtomicInteger();
        private final AtomicInteger ids = new AtomicInteger();
        private final String prefix;

        IdempotentTarget(String prefix) {
            this.prefix = prefix;
        }

        String create(Claimed claim) {
            calls.incrementAndGet();
            return recordByKey.computeIfAbsent(claim.creationKey(), k -> prefix + ids.incrementAndGet());
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void countsCustomersAndEachSystemsLinkedAndPendingRecordsOverEveryScope(Backend backend) {
        CrossReferences xref = FIXTURE.fresh(backend).crossReferences();
        assertThat(xref.countCustomers()).isZero();
        assertThat(xref.countBySystem()).isEmpty();
        String anna = xref.mint();
        String bob = xref.mint();
        xref.mint(); // a customer with no record yet is a customer all the same
        xref.link(anna, "salesforce", "00D000000000001/company", "0015g00000AAAA1");
        xref.link(bob, "salesforce", "00D000000000001/contact", "0035g00000BBBB1");
        xref.link(anna, "erp-legacy", "GB01", "C-100");
        xref.link(anna, "erp-legacy", "FR01", "C-200");
        xref.createAndLink(bob, "billing", "", claim -> "cus_bob", WAIT);
        assertThat(xref.claimCreation(anna, "erp-s4hana", "")).isInstanceOf(Claimed.class);

        assertThat(xref.countCustomers()).isEqualTo(3);
        assertThat(xref.countBySystem()).containsExactly(
                Map.entry("billing", new CrossReferences.SystemCount(1, 0)),
                Map.entry("erp-legacy", new CrossReferences.SystemCount(2, 0)),
                Map.entry("erp-s4hana", new CrossReferences.SystemCount(0, 1)),
                Map.entry("salesforce", new CrossReferences.SystemCount(2, 0)));
        xref.completeCreation(anna, "erp-s4hana", "", "1000001");
        assertThat(xref.countBySystem().get("erp-s4hana")).isEqualTo(new CrossReferences.SystemCount(1, 0));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aRecordIsLinkedToOneCustomerAndACustomerHasOneRecordPerSystemAndScope(Backend backend) {
        CrossReferences xref = FIXTURE.fresh(backend).crossReferences();
        String anna = xref.mint();
        String bob = xref.mint();
        assertThat(anna).isNotEqualTo(bob);
        assertThat(UUID.fromString(anna).toString()).isEqualTo(anna);
        assertThat(xref.exists(anna)).isTrue();
        assertThat(xref.exists(UUID.randomUUID().toString())).isFalse();

        assertThat(xref.link(anna, "salesforce", "00D000000000001", "0035g00000AAAA1"))
                .isEqualTo(new Link(anna, "salesforce", "00D000000000001", "0035g00000AAAA1"));
        xref.link(anna, "billing", null, "cus_anna");
        assertThat(xref.link(anna, "salesforce", "00D000000000001", "0035g00000AAAA1")).as("linking again is nothing")
                .isEqualTo(new Link(anna, "salesforce", "00D000000000001", "0035g00000AAAA1"));

        assertThat(xref.resolve("salesforce", "00D000000000001", "0035g00000AAAA1")).contains(anna);
        assertThat(xref.resolve("billing", "", "cus_anna")).contains(anna);
        assertThat(xref.resolve("salesforce", "00D000000000002", "0035g00000AAAA1")).as("another org").isEmpty();
        assertThat(xref.linksOf(anna)).extracting(Link::system, Link::externalId)
                .containsExactly(org.assertj.core.groups.Tuple.tuple("billing", "cus_anna"),
                        org.assertj.core.groups.Tuple.tuple("salesforce", "0035g00000AAAA1"));

        assertThatThrownBy(() -> xref.link(bob, "salesforce", "00D000000000001", "0035g00000AAAA1"))
                .isInstanceOf(CrossReferenceConflict.class).hasMessageContaining("linked to customer " + anna);
        assertThatThrownBy(() -> xref.link(anna, "billing", "", "cus_other"))
                .isInstanceOf(CrossReferenceConflict.class).hasMessageContaining("has record cus_anna in billing already");
        // the same id in another scope is another record: an ERP business partner per legal entity
        xref.link(anna, "erp-s4hana", "DE01", "1000042");
        xref.link(bob, "erp-s4hana", "FR01", "1000042");
        assertThat(xref.resolve("erp-s4hana", "FR01", "1000042")).contains(bob);
        assertThat(xref.linksOf(bob)).hasSize(1);
        assertThatThrownBy(() -> xref.link(anna, "Sales Force", "", "x")).isInstanceOf(IllegalArgumentException.class);
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void ofManyConcurrentClaimsOfOneCreationExactlyOneHoldsItAndAllShareOneCreationKey(Backend backend) throws Exception {
        CrossReferences xref = FIXTURE.fresh(backend).crossReferences();
        String customer = xref.mint();

        List<Claim> claims = StoreFixture.race(12, () -> xref.claimCreation(customer, "hubspot", "portal-7"));

        assertThat(claims).filteredOn(c -> c instanceof Claimed).hasSize(1);
        assertThat(claims).filteredOn(c -> c instanceof InProgress).hasSize(11);
        String key = CrossReferences.creationKey(customer, "hubspot", "portal-7");
        assertThat(claims).allSatisfy(c -> assertThat(c instanceof Claimed cl ? cl.creationKey()
                : ((InProgress) c).creationKey()).isEqualTo(key));
        assertThat(((InProgress) claims.stream().filter(c -> c instanceof InProgress).findFirst().orElseThrow()).leaseEnds())
                .isEqualTo(StoreFixture.START.plus(LEASE));
        assertThat(xref.linksOf(customer)).as("a pending creation is not a link").isEmpty();

        xref.completeCreation(customer, "hubspot", "portal-7", "51");

        assertThat(xref.claimCreation(customer, "hubspot", "portal-7"))
                .isEqualTo(new Linked(new Link(customer, "hubspot", "portal-7", "51")));
        assertThat(xref.awaitLink(customer, "hubspot", "portal-7", Duration.ZERO)).map(Link::externalId).contains("51");
        assertThat(xref.resolve("hubspot", "portal-7", "51")).contains(customer);
    }

    /**
     * Two runtime instances (two stores on one database) and two threads on each create the same new customer in two
     * targets at once: one record per target, one link per target, every caller answered with it.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void concurrentCreationsOfOneNewCustomerOnTwoInstancesMakeOneRecordAndOneLinkPerTarget(Backend backend) throws Exception {
        TestClock clock = new TestClock(StoreFixture.START);
        var config = backend.config(Map.of(Settings.IDEMPOTENCY_LEASE.key(), LEASE.toString()));
        try (Store one = Store.open(config, clock); Store two = Store.open(config, clock)) {
            String customer = one.crossReferences().mint();
            for (String target : List.of("billing", "salesforce")) {
                IdempotentTarget peer = new IdempotentTarget(target + "-rec-");
                CountDownLatch creating = new CountDownLatch(1);
                CountDownLatch proceed = new CountDownLatch(1);
                CrossReferences.Creator slowCreator = claim -> {
                    creating.countDown();
                    try {
                        assertThat(proceed.await(30, TimeUnit.SECONDS)).isTrue();
                    } catch (InterruptedException e) {
                        throw new IllegalStateException(e);
                    }
                    return peer.create(claim);
                };
                ExecutorService pool = Executors.newFixedThreadPool(4);
                try {
                    List<Future<Link>> results = new ArrayList<>();
                    for (int i = 0; i < 4; i++) {
                        CrossReferences xref = (i % 2 == 0 ? one : two).crossReferences();
                        results.add(pool.submit(() -> xref.createAndLink(customer, target, "", slowCreator, WAIT)));
                    }
                    assertThat(creating.await(30, TimeUnit.SECONDS)).isTrue();
                    // while one caller creates, the claim is held on both instances
                    assertThat(one.crossReferences().claimCreation(customer, target, "")).isInstanceOf(InProgress.class);
                    assertThat(two.crossReferences().claimCreation(customer, target, "")).isInstanceOf(InProgress.class);
                    proceed.countDown();

                    List<Link> links = new ArrayList<>();
                    for (Future<Link> f : results) links.add(f.get(30, TimeUnit.SECONDS));
                    assertThat(links).as("every caller gets the one record").containsOnly(
                            new Link(customer, target, "", target + "-rec-1"));
                } finally {
                    pool.shutdownNow();
                }
                assertThat(peer.calls.get()).as("only the claim's holder called the target").isEqualTo(1);
                assertThat(peer.recordByKey).hasSize(1);
                assertThat(rowsOf(one, customer, target)).isEqualTo(1);
            }
            assertThat(two.crossReferences().linksOf(customer)).extracting(Link::system).containsExactly("billing", "salesforce");
        }
    }

    /**
     * An instance dies after the target created the record and before the link was written: its claim stays pending;
     * after the lease another instance takes it over under the same creation key, the target answers with the record
     * it made, and the customer has one record and one link.
     */
    @ParameterizedTest
    @EnumSource(Backend.class)
    void aCreationLeftPendingByACrashIsTakenOverAfterTheLeaseUnderTheSameKeyAndLinksTheSameRecord(Backend backend) {
        TestClock clock = new TestClock(StoreFixture.START);
        var config = backend.config(Map.of(Settings.IDEMPOTENCY_LEASE.key(), LEASE.toString()));
        IdempotentTarget stripe = new IdempotentTarget("cus_");
        String customer;
        String firstKey;
        try (Store crashed = Store.open(config, clock)) {
            customer = crashed.crossReferences().mint();
            Claim claim = crashed.crossReferences().claimCreation(customer, "billing", "");
            assertThat(claim).isInstanceOf(Claimed.class);
            firstKey = ((Claimed) claim).creationKey();
            assertThat(stripe.create((Claimed) claim)).isEqualTo("cus_1");
            // the process is gone before completeCreation
        }
        try (Store survivor = Store.open(config, clock)) {
            CrossReferences xref = survivor.crossReferences();
            clock.advance(LEASE.minusSeconds(1));
            assertThat(xref.claimCreation(customer, "billing", "")).as("within the lease").isInstanceOf(InProgress.class);
            assertThat(xref.awaitLink(customer, "billing", "", Duration.ZERO)).isEmpty();
            clock.advance(Duration.ofSeconds(2));

            List<Claimed> seen = new ArrayList<>();
            Link link = xref.createAndLink(customer, "billing", "", claim -> {
                seen.add(claim);
                return stripe.create(claim);
            }, WAIT);

            assertThat(seen).singleElement().satisfies(c -> {
                assertThat(c.creationKey()).isEqualTo(firstKey);
                assertThat(c.takenOver()).isTrue();
                assertThat(c.attempt()).isEqualTo(2);
            });
            assertThat(link).isEqualTo(new Link(customer, "billing", "", "cus_1"));
            assertThat(stripe.recordByKey).hasSize(1);
            assertThat(xref.linksOf(customer)).containsExactly(link);
            assertThat(rowsOf(survivor, customer, "billing")).isEqualTo(1);
        }
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aFailedCreationIsReleasedForTheNextAttemptAtOnce(Backend backend) {
        CrossReferences xref = FIXTURE.fresh(backend).crossReferences();
        String customer = xref.mint();

        assertThatThrownBy(() -> xref.createAndLink(customer, "loyalty", "", claim -> {
            throw new IllegalStateException("loyalty platform answered 503");
        }, WAIT)).hasMessageContaining("503");

        Claim retry = xref.claimCreation(customer, "loyalty", "");
        assertThat(retry).isInstanceOf(Claimed.class);
        assertThat(((Claimed) retry).takenOver()).as("the record may exist: the retry is told").isTrue();
        assertThat(((Claimed) retry).creationKey()).isEqualTo(CrossReferences.creationKey(customer, "loyalty", ""));
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aCreationAnsweredWithAnotherCustomersRecordIsAConflictAndReleasedNotLeftToBlockTheCustomer(Backend backend) {
        CrossReferences xref = FIXTURE.fresh(backend).crossReferences();
        String customer = xref.mint();
        String other = xref.mint();
        xref.link(other, "billing", "", "cus_TAKEN");

        assertThatThrownBy(() -> xref.createAndLink(customer, "billing", "", claim -> "cus_TAKEN", WAIT))
                .isInstanceOf(CrossReferenceConflict.class).hasMessageContaining(other);
        // the next attempt claims at once (and meets the conflict again), rather than waiting for a lease to run out
        Claim retry = xref.claimCreation(customer, "billing", "");
        assertThat(retry).isInstanceOf(Claimed.class);
        assertThat(((Claimed) retry).takenOver()).isTrue();
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void aSlowHolderCompletingAfterATakeoverKeepsOneLink(Backend backend) {
        CrossReferences xref = FIXTURE.fresh(backend).crossReferences();
        String customer = xref.mint();
        String other = xref.mint();
        xref.link(other, "hubspot", "portal-7", "99");
        assertThat(xref.claimCreation(customer, "hubspot", "portal-7")).isInstanceOf(Claimed.class);
        FIXTURE.clock.advance(LEASE.plusSeconds(1));
        assertThat(xref.claimCreation(customer, "hubspot", "portal-7")).isInstanceOf(Claimed.class);

        xref.completeCreation(customer, "hubspot", "portal-7", "51");
        // the first holder was slow, not dead: the target gave it the same record under the same key
        assertThat(xref.completeCreation(customer, "hubspot", "portal-7", "51")).extracting(Link::externalId).isEqualTo("51");
        assertThatThrownBy(() -> xref.completeCreation(customer, "hubspot", "portal-7", "52"))
                .isInstanceOf(CrossReferenceConflict.class).hasMessageContaining("linked to record 51");
        assertThat(xref.linksOf(customer)).extracting(Link::externalId).containsExactly("51");

        // a target answering with a record of another customer is refused by the constraint, not linked twice
        String third = xref.mint();
        xref.claimCreation(third, "hubspot", "portal-7");
        assertThatThrownBy(() -> xref.completeCreation(third, "hubspot", "portal-7", "99"))
                .isInstanceOf(CrossReferenceConflict.class).hasMessageContaining("linked to customer " + other);
        assertThat(xref.linksOf(third)).isEmpty();
        assertThatThrownBy(() -> xref.link(third, "hubspot", "portal-7", "77"))
                .isInstanceOf(CrossReferenceConflict.class).hasMessageContaining("being created");
    }

    @ParameterizedTest
    @EnumSource(Backend.class)
    void creationKeysAreStableUuidsPerCustomerSystemAndScope(Backend backend) {
        FIXTURE.fresh(backend);
        String a = CrossReferences.creationKey("4f1c0000-0000-4000-8000-000000000001", "erp-s4hana", "DE01");
        assertThat(a).isEqualTo(CrossReferences.creationKey("4f1c0000-0000-4000-8000-000000000001", "erp-s4hana", "DE01"));
        assertThat(UUID.fromString(a).version()).isEqualTo(8);
        assertThat(UUID.fromString(a).variant()).isEqualTo(2);
        assertThat(a).isNotEqualTo(CrossReferences.creationKey("4f1c0000-0000-4000-8000-000000000001", "erp-s4hana", "FR01"))
                .isNotEqualTo(CrossReferences.creationKey("4f1c0000-0000-4000-8000-000000000001", "erp-legacy", "DE01"))
                .isNotEqualTo(CrossReferences.creationKey("4f1c0000-0000-4000-8000-000000000002", "erp-s4hana", "DE01"));
        assertThat(CrossReferences.creationKey("g", "billing", null)).isEqualTo(CrossReferences.creationKey("g", "billing", ""));
    }

    private static int rowsOf(Store store, String customer, String system) {
        try (Connection c = store.dataSource().getConnection();
             PreparedStatement ps = c.prepareStatement("SELECT COUNT(*) FROM customer_link WHERE global_id = ? AND system = ?")) {
            ps.setString(1, customer);
            ps.setString(2, system);
            try (ResultSet rs = ps.executeQuery()) {
                rs.next();
                return rs.getInt(1);
            }
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }
}
