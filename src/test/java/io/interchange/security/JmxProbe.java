package io.interchange.security;

import javax.management.ObjectName;
import javax.management.remote.JMXConnector;
import javax.management.remote.JMXConnectorFactory;
import javax.management.remote.JMXServiceURL;
import javax.rmi.ssl.SslRMIClientSocketFactory;
import java.util.HashMap;
import java.util.Map;

/**
 * A JMX client run in its own JVM, as an operator's jconsole or jmxterm would be: RMI over SSL takes its trust from
 * the JVM's default SSL context ({@code -Djavax.net.ssl.trustStore}), which a test cannot change inside the shared
 * surefire JVM. Prints {@code count=N} and exits 0, or prints {@code failed: ...} and exits 1.
 *
 * <p>Arguments: JMX service URL, user, password, and {@code ssl} (registry looked up over SSL and the stub required to
 * use SSL, like jconsole on an SSL registry or jmxterm {@code -s}) or {@code plain}.
 */
public final class JmxProbe {

    private JmxProbe() {
    }

    public static void main(String[] args) {
        Map<String, Object> env = new HashMap<>();
        env.put(JMXConnector.CREDENTIALS, new String[]{args[1], args[2]});
        if (args[3].equals("ssl")) {
            env.put("com.sun.jndi.rmi.factory.socket", new SslRMIClientSocketFactory());
            env.put("jmx.remote.x.check.stub", "true");
        }
        try (JMXConnector c = JMXConnectorFactory.connect(new JMXServiceURL(args[0]), env)) {
            Object count = c.getMBeanServerConnection()
                    .invoke(new ObjectName("io.interchange:type=DeadLetters"), "count", null, null);
            System.out.println("count=" + count);
        } catch (Exception e) {
            StringBuilder sb = new StringBuilder("failed:");
            for (Throwable t = e; t != null; t = t.getCause()) {
                sb.append(' ').append(t.getClass().getName()).append(": ").append(t.getMessage()).append(" |");
            }
            System.out.println(sb);
            System.exit(1);
        }
    }
}
