package io.interchange.archive;

import org.apache.camel.Exchange;
import org.apache.camel.ProducerTemplate;
import org.apache.camel.component.aws2.s3.AWS2S3Constants;

import java.io.IOException;
import java.net.URLEncoder;
import java.nio.charset.StandardCharsets;

/**
 * Archive files in an S3-compatible bucket through camel-aws2-s3's producer: one PutObject per file (a file is at
 * most a few MB compressed, under the 5 GB single-put limit), which S3 applies whole; a put of the same key replaces
 * the object. Its streaming upload mode is not used: it buffers across messages and names objects itself, so it can
 * neither give deterministic names nor say when a file is durable.
 */
public final class S3Sink implements ArchiveSink {

    private final String bucket;
    private final String uri;
    private final ProducerTemplate template;

    /**
     * @param endpoint  an S3-compatible endpoint (path-style requests), or empty for AWS S3
     * @param accessKey empty for the AWS SDK's default credentials chain
     * @param template  Camel's producer template (the runtime's, made once Camel runs)
     */
    public S3Sink(ProducerTemplate template, String bucket, String endpoint, String region, String accessKey, String secretKey) {
        if (bucket == null || bucket.isBlank()) throw new IllegalArgumentException("no bucket for the s3 archive sink");
        this.template = template;
        this.bucket = bucket;
        StringBuilder u = new StringBuilder("aws2-s3://").append(bucket).append("?region=").append(enc(region))
                .append("&autoCreateBucket=false");
        if (endpoint != null && !endpoint.isBlank()) {
            u.append("&overrideEndpoint=true&uriEndpointOverride=").append(enc(endpoint)).append("&forcePathStyle=true");
        }
        if (accessKey != null && !accessKey.isBlank()) {
            u.append("&accessKey=RAW(").append(accessKey).append(")&secretKey=RAW(").append(secretKey).append(')');
        } else {
            u.append("&useDefaultCredentialsProvider=true");
        }
        this.uri = u.toString();
    }

    private static String enc(String s) {
        return URLEncoder.encode(s, StandardCharsets.UTF_8);
    }

    @Override
    public void put(String key, byte[] content) throws IOException {
        Exchange result = template.send(uri, e -> {
            e.getMessage().setHeader(AWS2S3Constants.KEY, key);
            e.getMessage().setHeader(AWS2S3Constants.CONTENT_LENGTH, (long) content.length);
            e.getMessage().setHeader(AWS2S3Constants.CONTENT_TYPE, "application/gzip");
            e.getMessage().setBody(content);
        });
        if (result.getException() != null) {
            throw new IOException("s3://" + bucket + "/" + key + " not written: " + result.getException().getMessage(),
                    result.getException());
        }
    }

    @Override
    public String describe() {
        return "bucket " + bucket;
    }
}
