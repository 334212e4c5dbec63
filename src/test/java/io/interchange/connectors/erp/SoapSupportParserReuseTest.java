package io.interchange.connectors.erp;

import org.junit.jupiter.api.Test;

import java.nio.charset.StandardCharsets;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The answer parser is reused from answer to answer: a reused parser is as secure as a new one (a DTD is still
 * refused after a good answer and after a malformed one, no entity is expanded), and keeps no part of the answer
 * before.
 */
class SoapSupportParserReuseTest {

    static byte[] bytes(String s) {
        return s.getBytes(StandardCharsets.UTF_8);
    }

    @Test
    void aReusedParserRefusesDtdsAndKeepsNothingOfTheAnswerBefore() throws Exception {
        String good = SoapSupport.envelope("<r:Answer xmlns:r=\"urn:x\"><AccountingDocument>5100000001</AccountingDocument></r:Answer>");
        String dtd = "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY a \"expanded\">]><x>&a;</x>";
        for (int round = 0; round < 3; round++) {
            assertThat(SoapSupport.text(SoapSupport.parse(bytes(good)).getDocumentElement(), "AccountingDocument"))
                    .isEqualTo("5100000001");
            assertThatThrownBy(() -> SoapSupport.parse(bytes(dtd))).hasMessageContaining("DOCTYPE");
            assertThatThrownBy(() -> SoapSupport.parse(bytes("<x><unclosed></x>"))).isNotNull();
            assertThatThrownBy(() -> SoapSupport.parse(bytes(dtd))).hasMessageContaining("DOCTYPE");
            var other = SoapSupport.parse(bytes("<y xmlns=\"urn:y\"><AccountingDocument>2</AccountingDocument></y>"));
            assertThat(other.getDocumentElement().getLocalName()).isEqualTo("y");
            assertThat(SoapSupport.text(other.getDocumentElement(), "AccountingDocument")).isEqualTo("2");
        }
    }

    @Test
    void parsersAreReusedAcrossThreads() throws Exception {
        String good = SoapSupport.envelope("<r:Answer xmlns:r=\"urn:x\"><FiscalYear>2026</FiscalYear></r:Answer>");
        java.util.concurrent.ExecutorService pool = java.util.concurrent.Executors.newFixedThreadPool(4);
        try {
            var results = new java.util.ArrayList<java.util.concurrent.Future<String>>();
            for (int i = 0; i < 200; i++) {
                results.add(pool.submit(() -> SoapSupport.text(SoapSupport.parse(bytes(good)).getDocumentElement(),
                        "FiscalYear")));
            }
            for (var r : results) assertThat(r.get()).isEqualTo("2026");
        } finally {
            pool.shutdownNow();
        }
    }
}
