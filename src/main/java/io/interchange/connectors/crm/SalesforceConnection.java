package io.interchange.connectors.crm;

import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.config.Settings;
import org.apache.camel.component.salesforce.AuthenticationType;
import org.apache.camel.component.salesforce.SalesforceComponent;
import org.apache.camel.component.salesforce.SalesforceEndpointConfig;

/**
 * The one camel-salesforce component every Salesforce flow uses (bound as {@code salesforce}): the change-event
 * subscription and read-back ({@link SalesforceSubscription}, {@link SalesforceReader}) and the write-back
 * ({@link SalesforceCrm}). Kept here rather than in the runtime so that a flow that only writes to Salesforce builds
 * the same login as one that subscribes.
 */
public final class SalesforceConnection {

    /** Registry name of the component; endpoint URIs start with it ({@code salesforce:...}). */
    public static final String COMPONENT = "salesforce";

    private SalesforceConnection() {
    }

    /**
     * camel-salesforce logging in with the OAuth 2.0 client-credentials flow at
     * {@code <login-url>/services/oauth2/token} (the instance URL comes from the token answer); raw JSON payloads (the
     * change event header, changedFields among it, is dropped otherwise). It logs in when Camel starts, so a wrong
     * login URL or secret stops start-up with Salesforce's answer.
     *
     * @param flow the flow that needs it, named in the error when the connected app's key or secret is missing
     */
    public static SalesforceComponent component(Config config, String flow) {
        if (config.get(Settings.SALESFORCE_CONSUMER_KEY).isBlank() || config.get(Settings.SALESFORCE_CONSUMER_SECRET).isBlank()) {
            throw new ConfigurationException("flow " + flow + " needs " + Settings.SALESFORCE_CONSUMER_KEY.key()
                    + " and " + Settings.SALESFORCE_CONSUMER_SECRET.key());
        }
        SalesforceComponent sf = new SalesforceComponent();
        sf.setLoginUrl(config.get(Settings.SALESFORCE_LOGIN_URL));
        sf.setAuthenticationType(AuthenticationType.CLIENT_CREDENTIALS);
        sf.setClientId(config.get(Settings.SALESFORCE_CONSUMER_KEY));
        sf.setClientSecret(config.get(Settings.SALESFORCE_CONSUMER_SECRET));
        SalesforceEndpointConfig endpoint = new SalesforceEndpointConfig();
        endpoint.setApiVersion(config.get(Settings.SALESFORCE_API_VERSION));
        endpoint.setRawPayload(true);
        sf.setConfig(endpoint);
        return sf;
    }
}
