package io.interchange.management;

import io.interchange.config.Config;
import io.interchange.config.ConfigurationException;
import io.interchange.config.Setting;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SSLContext;
import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.GeneralSecurityException;
import java.security.Key;
import java.security.KeyStore;
import java.security.MessageDigest;
import java.security.PrivateKey;
import java.security.SecureRandom;
import java.security.UnrecoverableKeyException;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HexFormat;
import java.util.List;

/**
 * The certificate and private key an operator interface (management HTTP port, JMX connector) presents, read from a
 * PKCS12 keystore named in configuration. Every way the keystore can be unusable (missing, unreadable, wrong password,
 * no private key) is reported at start-up as a {@link ConfigurationException} naming the key to fix.
 *
 * <p>The keys are copied into an in-memory keystore under a random password: the configured password is not handed
 * on to other libraries (Camel would resolve {@code {{...}}} placeholders inside it), and nothing re-reads the file.
 */
public final class TlsIdentity {

    private final Path file;
    private final KeyStore keyStore;
    private final char[] keyPassword;
    private final List<X509Certificate> certificates;
    private final SSLContext sslContext;

    private TlsIdentity(Path file, KeyStore keyStore, char[] keyPassword, List<X509Certificate> certificates,
                        SSLContext sslContext) {
        this.file = file;
        this.keyStore = keyStore;
        this.keyPassword = keyPassword;
        this.certificates = certificates;
        this.sslContext = sslContext;
    }

    /** The identity configured by the two keys, or null when the keystore key is empty (TLS off). */
    public static TlsIdentity fromConfig(Config config, Setting keystore, Setting password) {
        if (!config.isSet(keystore)) return null;
        return load(Path.of(config.get(keystore).trim()), config.get(password), keystore, password);
    }

    static TlsIdentity load(Path file, String password, Setting keystoreKey, Setting passwordKey) {
        String where = keystoreKey.key() + " (" + file + ")";
        if (!Files.exists(file)) {
            throw new ConfigurationException(keystoreKey.key() + " names " + file + ", which does not exist");
        }
        if (!Files.isRegularFile(file) || !Files.isReadable(file)) {
            throw new ConfigurationException(keystoreKey.key() + " names " + file + ", which is not a readable file");
        }
        char[] pass = password.toCharArray();
        KeyStore source;
        try (InputStream in = Files.newInputStream(file)) {
            source = KeyStore.getInstance("PKCS12");
            source.load(in, pass);
        } catch (IOException e) {
            if (e.getCause() instanceof UnrecoverableKeyException || String.valueOf(e.getMessage()).contains("password")) {
                throw new ConfigurationException(passwordKey.key() + " (env " + passwordKey.envName() + ") "
                        + (password.isEmpty() ? "is not set and " : "") + "does not open the keystore " + where
                        + ": wrong password");
            }
            throw new ConfigurationException(where + " cannot be read as a PKCS12 keystore: " + e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new ConfigurationException(where + " cannot be read as a PKCS12 keystore: " + e.getMessage(), e);
        }

        char[] copyPassword = randomPassword();
        List<X509Certificate> certificates = new ArrayList<>();
        try {
            KeyStore copy = KeyStore.getInstance("PKCS12");
            copy.load(null, null);
            for (String alias : Collections.list(source.aliases())) {
                if (!source.isKeyEntry(alias)) continue;
                Key key;
                try {
                    key = source.getKey(alias, pass);
                } catch (UnrecoverableKeyException e) {
                    throw new ConfigurationException("The private key '" + alias + "' in " + where
                            + " is protected by a password other than " + passwordKey.key()
                            + "; give the key the keystore's password");
                }
                Certificate[] chain = source.getCertificateChain(alias);
                if (!(key instanceof PrivateKey) || chain == null || chain.length == 0
                        || !(chain[0] instanceof X509Certificate leaf)) {
                    continue;
                }
                copy.setKeyEntry(alias, key, copyPassword, chain);
                certificates.add(leaf);
            }
            if (certificates.isEmpty()) {
                throw new ConfigurationException(where + " holds no private key with an X.509 certificate; create one "
                        + "with keytool -genkeypair, or export key and certificate chain with openssl pkcs12 -export");
            }
            KeyManagerFactory kmf = KeyManagerFactory.getInstance(KeyManagerFactory.getDefaultAlgorithm());
            kmf.init(copy, copyPassword);
            SSLContext ssl = SSLContext.getInstance("TLS");
            ssl.init(kmf.getKeyManagers(), null, null);
            return new TlsIdentity(file, copy, copyPassword, List.copyOf(certificates), ssl);
        } catch (GeneralSecurityException | IOException e) {
            throw new ConfigurationException(where + " cannot be used for TLS: " + e.getMessage(), e);
        }
    }

    /** An SSL context whose key managers present this identity (no trust managers: clients are not authenticated). */
    public SSLContext sslContext() {
        return sslContext;
    }

    /** The in-memory keystore holding this identity's keys, protected by {@link #keyPassword()}. */
    public KeyStore keyStore() {
        return keyStore;
    }

    /** The random password of the in-memory keystore's keys (not the configured one). */
    public String keyPassword() {
        return new String(keyPassword);
    }

    /** True when a certificate has expired or is not valid yet: clients will refuse it. */
    public boolean hasInvalidCertificate(Instant now) {
        for (X509Certificate c : certificates) {
            if (now.isAfter(c.getNotAfter().toInstant()) || now.isBefore(c.getNotBefore().toInstant())) return true;
        }
        return false;
    }

    /** For the start-up log: subject, validity end and SHA-256 fingerprint of each certificate; no secret. */
    public String describe() {
        StringBuilder sb = new StringBuilder();
        for (X509Certificate c : certificates) {
            if (sb.length() > 0) sb.append("; ");
            sb.append(c.getSubjectX500Principal().getName()).append(", valid until ").append(c.getNotAfter().toInstant())
                    .append(", SHA-256 ").append(fingerprint(c));
        }
        return sb.append(" from ").append(file).toString();
    }

    private static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.ofDelimiter(":").withUpperCase()
                    .formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (GeneralSecurityException e) {
            return "?";
        }
    }

    private static char[] randomPassword() {
        byte[] bytes = new byte[24];
        new SecureRandom().nextBytes(bytes);
        return HexFormat.of().formatHex(bytes).toCharArray();
    }
}
