package io.interchange.connectors.billing;

import org.junit.jupiter.api.Test;

import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The check that lets a body go to Jackson as bytes agrees with the strict UTF-8 decoder it stands in for, on every
 * byte sequence tried: true exactly when the decoder takes the body and it has no byte order mark and no NUL byte.
 */
class PlainUtf8Test {

    @Test
    void agreesWithTheStrictDecoderOnEveryShortSequenceAndOnRandomBodies() {
        int tried = 0;
        // every sequence of up to 3 bytes over the bytes that matter to UTF-8's rules, and some of 4
        int[] interesting = {0x00, 0x01, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBB, 0xBF, 0xC0, 0xC1, 0xC2, 0xDF,
                0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0, 0xF1, 0xF3, 0xF4, 0xF5, 0xFF};
        for (int a : interesting) {
            check(new byte[]{(byte) a});
            for (int b : interesting) {
                check(new byte[]{(byte) a, (byte) b});
                for (int c : interesting) {
                    check(new byte[]{(byte) a, (byte) b, (byte) c});
                    for (int d : new int[]{0x41, 0x80, 0x8F, 0xBF, 0xC0}) {
                        check(new byte[]{(byte) a, (byte) b, (byte) c, (byte) d});
                        tried++;
                    }
                }
            }
        }
        Random random = new Random(42);
        for (int i = 0; i < 20_000; i++) {
            // mostly text with some multi-byte characters, then a few random bytes somewhere
            StringBuilder sb = new StringBuilder();
            for (int k = random.nextInt(40); k > 0; k--) {
                sb.appendCodePoint(switch (random.nextInt(5)) {
                    case 0 -> 0xE9;
                    case 1 -> 0x20AC;
                    case 2 -> 0x1F600;
                    default -> 'a' + random.nextInt(26);
                });
            }
            byte[] body = sb.toString().getBytes(StandardCharsets.UTF_8);
            if (body.length > 0 && random.nextBoolean()) body[random.nextInt(body.length)] = (byte) random.nextInt(256);
            check(body);
            tried++;
        }
        assertThat(tried).isGreaterThan(20_000);
        assertThat(BillingEventTranslator.plainUtf8("{\"name\":\"Müller € 😀\"}".getBytes(StandardCharsets.UTF_8))).isTrue();
        assertThat(BillingEventTranslator.plainUtf8(new byte[]{(byte) 0xEF, (byte) 0xBB, (byte) 0xBF, '{', '}'})).isFalse();
        assertThat(BillingEventTranslator.plainUtf8(new byte[]{0, '{', 0, '}'})).isFalse();
    }

    private static void check(byte[] body) {
        assertThat(BillingEventTranslator.plainUtf8(body)).as("%s", hex(body)).isEqualTo(strictlyPlain(body));
    }

    private static boolean strictlyPlain(byte[] body) {
        String text;
        try {
            text = StandardCharsets.UTF_8.newDecoder().onMalformedInput(CodingErrorAction.REPORT)
                    .onUnmappableCharacter(CodingErrorAction.REPORT).decode(ByteBuffer.wrap(body)).toString();
        } catch (CharacterCodingException e) {
            return false;
        }
        return !text.startsWith("\uFEFF") && text.indexOf('\0') < 0;
    }

    private static String hex(byte[] body) {
        StringBuilder sb = new StringBuilder();
        for (byte b : body) sb.append(String.format("%02X ", b & 0xFF));
        return sb.toString().strip();
    }
}
