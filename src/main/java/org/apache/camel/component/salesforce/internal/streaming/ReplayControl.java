package org.apache.camel.component.salesforce.internal.streaming;

import org.apache.camel.component.salesforce.SalesforceComponent;
import org.cometd.bayeux.client.ClientSession;
import org.cometd.client.BayeuxClient;

/**
 * Interchange's two hooks into camel-salesforce's CometD subscription, which keeps them package-private: setting the
 * replay id a channel subscribes from, and seeing the Bayeux replies before camel-salesforce acts on them.
 *
 * <p>Why: camel-salesforce (4.18) keeps each channel's replay id in memory only, advances it when an event arrives
 * (before the route has processed it), subscribes again from that in-memory value after a reconnect or a route restart
 * ({@code setReplayIdIfAbsent}), and answers a refused replay id ({@code 400::The replayId {N} you provided was
 * invalid...}) by subscribing from {@code fallBackReplayId} (-1: new events only) with nothing but a log line. The
 * runtime persists the position of the last event it fully processed and must (1) subscribe from it again after a
 * failure, and (2) know when Salesforce refused it, to read back by query what the lost events would have carried.
 * This class lives in camel-salesforce's package so that a Camel upgrade that changes these members fails to compile
 * here rather than silently losing events; {@code SalesforceCdcFlowTest} exercises both hooks against the peer.
 */
public final class ReplayControl {

    private ReplayControl() {
    }

    /** The next subscribe of this channel asks for the events after {@code replayId} (-1 new only, -2 all retained). */
    public static void subscribeFrom(SalesforceComponent component, String channel, long replayId) {
        component.getSubscriptionHelper().getReplayExtension().setReplayId(channel, replayId);
    }

    /**
     * Starts the component's streaming client (handshake) if it is not running, and adds the extension to it, so the
     * extension sees every reply from the first subscribe on. Returns false if the client could not be had.
     */
    public static boolean watch(SalesforceComponent component, ClientSession.Extension extension) throws Exception {
        SubscriptionHelper helper = component.getSubscriptionHelper();
        helper.start();
        BayeuxClient client = helper.client;
        if (client == null) return false;
        client.addExtension(extension);
        return true;
    }
}
