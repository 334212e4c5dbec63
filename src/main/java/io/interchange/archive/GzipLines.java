package io.interchange.archive;

import java.io.ByteArrayOutputStream;
import java.util.zip.CRC32;
import java.util.zip.Deflater;

/**
 * One archive file being filled: lines deflated as they come, readable at any time as a complete gzip file.
 *
 * <p>{@link java.util.zip.GZIPOutputStream} can only be read once finished, and a file still open must be written
 * (snapshot) every time the archive catches up. Compressing it again each time would cost as many times its size;
 * instead the deflate stream is flushed to a byte boundary ({@link Deflater#SYNC_FLUSH}) and the snapshot is the bytes
 * so far, an empty final block ({@code 03 00}) and the gzip trailer: a valid single-member gzip file (RFC 1951 and
 * 1952), after which compression simply goes on. A file never snapshotted is an ordinary deflate stream, so its bytes
 * depend only on its lines.
 */
final class GzipLines {

    private static final byte[] HEADER = {0x1f, (byte) 0x8b, 8, 0, 0, 0, 0, 0, 0, (byte) 0xff};
    private static final byte[] EMPTY_FINAL_BLOCK = {0x03, 0x00};

    private final Deflater deflater = new Deflater(Deflater.DEFAULT_COMPRESSION, true);
    private final CRC32 crc = new CRC32();
    private final ByteArrayOutputStream body = new ByteArrayOutputStream(64 * 1024);
    private final byte[] buf = new byte[32 * 1024];
    private long size;
    private boolean finished;

    GzipLines() {
        body.write(HEADER, 0, HEADER.length);
    }

    void add(byte[] line, int length) {
        if (finished) throw new IllegalStateException("file already closed");
        crc.update(line, 0, length);
        size += length;
        deflater.setInput(line, 0, length);
        while (!deflater.needsInput()) {
            int n = deflater.deflate(buf, 0, buf.length, Deflater.NO_FLUSH);
            body.write(buf, 0, n);
        }
    }

    /** The file as it stands, as a complete gzip file; more lines may follow. */
    byte[] snapshot() {
        if (finished) return body.toByteArray();
        int n;
        do {
            n = deflater.deflate(buf, 0, buf.length, Deflater.SYNC_FLUSH);
            body.write(buf, 0, n);
        } while (n == buf.length);
        byte[] head = body.toByteArray();
        byte[] out = new byte[head.length + EMPTY_FINAL_BLOCK.length + 8];
        System.arraycopy(head, 0, out, 0, head.length);
        System.arraycopy(EMPTY_FINAL_BLOCK, 0, out, head.length, EMPTY_FINAL_BLOCK.length);
        trailer(out, head.length + EMPTY_FINAL_BLOCK.length);
        return out;
    }

    /** The finished file; no line may follow. */
    byte[] finish() {
        if (!finished) {
            deflater.finish();
            while (!deflater.finished()) {
                int n = deflater.deflate(buf);
                body.write(buf, 0, n);
            }
            deflater.end();
            byte[] t = new byte[8];
            trailer(t, 0);
            body.write(t, 0, 8);
            finished = true;
        }
        return body.toByteArray();
    }

    /** Releases the deflater of a file given up (its partition went elsewhere). */
    void discard() {
        if (!finished) deflater.end();
        finished = true;
    }

    private void trailer(byte[] out, int at) {
        long c = crc.getValue();
        for (int i = 0; i < 4; i++) out[at + i] = (byte) (c >>> (8 * i));
        for (int i = 0; i < 4; i++) out[at + 4 + i] = (byte) (size >>> (8 * i));
    }
}
