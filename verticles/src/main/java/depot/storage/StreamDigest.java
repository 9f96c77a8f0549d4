package depot.storage;

import io.vertx.core.buffer.Buffer;
import io.vertx.core.internal.buffer.BufferInternal;

import java.nio.ByteBuffer;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.zip.CRC32C;

/**
 * Computed while bytes stream through: a CRC32C per fixed-size chunk (what every read is verified
 * against) and, unless told otherwise, the SHA-256 of the whole content.
 */
public final class StreamDigest {
  private final int chunkSize;
  /** Null when the whole-content hash is not wanted (a pipeline copy checked against its upstream). */
  private final MessageDigest sha256;
  private final CRC32C crc = new CRC32C();
  private int[] crcs = new int[16];
  private int chunks;
  private int inChunk;
  private long total;

  public StreamDigest(int chunkSize) {
    this(chunkSize, true);
  }

  public StreamDigest(int chunkSize, boolean wholeContentHash) {
    this.chunkSize = chunkSize;
    this.sha256 = wholeContentHash ? newSha256() : null;
  }

  private static final MessageDigest SHA256_PROTOTYPE = lookupSha256();

  private static MessageDigest lookupSha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("the JVM has no SHA-256", e);
    }
  }

  /** A fresh SHA-256 digest; cloning skips the provider look-up, which shows at thousands of files a second. */
  public static MessageDigest newSha256() {
    try {
      return (MessageDigest) SHA256_PROTOTYPE.clone();
    } catch (CloneNotSupportedException e) {
      return lookupSha256();
    }
  }

  /** A view of the buffer's bytes without copying them. */
  public static ByteBuffer nio(Buffer buffer) {
    return ((BufferInternal) buffer).getByteBuf().nioBuffer();
  }

  public void update(Buffer buffer) {
    ByteBuffer bytes = nio(buffer);
    if (sha256 != null) {
      sha256.update(bytes.duplicate());
    }
    total += bytes.remaining();
    while (bytes.hasRemaining()) {
      int take = Math.min(chunkSize - inChunk, bytes.remaining());
      ByteBuffer part = bytes.slice(bytes.position(), take);
      crc.update(part);
      bytes.position(bytes.position() + take);
      inChunk += take;
      if (inChunk == chunkSize) {
        closeChunk();
      }
    }
  }

  private void closeChunk() {
    if (chunks == crcs.length) {
      int[] bigger = new int[crcs.length * 2];
      System.arraycopy(crcs, 0, bigger, 0, chunks);
      crcs = bigger;
    }
    crcs[chunks++] = (int) crc.getValue();
    crc.reset();
    inChunk = 0;
  }

  public long bytes() {
    return total;
  }

  /** Ends the stream: returns the SHA-256 (hex; null if not computed) and fixes the chunk checksums. */
  public String finish() {
    if (inChunk > 0) {
      closeChunk();
    }
    return sha256 == null ? null : HexFormat.of().formatHex(sha256.digest());
  }

  /**
   * The SHA-256 of the chunk checksums, after {@link #finish()}: equal for two copies exactly when their
   * chunks' CRC32Cs all match, which is what a pipeline compares instead of hashing every copy whole.
   */
  public String chunkFingerprint() {
    ByteBuffer list = ByteBuffer.allocate(chunks * Integer.BYTES);
    for (int i = 0; i < chunks; i++) {
      list.putInt(crcs[i]);
    }
    return HexFormat.of().formatHex(newSha256().digest(list.array()));
  }

  public int[] chunkCrcs() {
    int[] out = new int[chunks];
    System.arraycopy(crcs, 0, out, 0, chunks);
    return out;
  }
}
