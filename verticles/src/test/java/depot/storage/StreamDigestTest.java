package depot.storage;

import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.security.MessageDigest;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.Random;
import java.util.function.BiFunction;
import java.util.stream.Stream;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;

class StreamDigestTest {

  /** How a piece of the stream is handed over as a Buffer: plain, a slice of a bigger one, or a grown buffer. */
  enum Feed {
    PLAIN((bytes, r) -> Buffer.buffer(bytes)),
    SLICE((bytes, r) -> {
      int before = r.nextInt(8);
      int after = r.nextInt(8);
      byte[] bigger = new byte[before + bytes.length + after];
      Arrays.fill(bigger, (byte) 0x5a);
      System.arraycopy(bytes, 0, bigger, before, bytes.length);
      return Buffer.buffer(bigger).slice(before, before + bytes.length);
    }),
    APPENDED((bytes, r) -> Buffer.buffer(bytes.length + 64).appendBytes(bytes));

    final BiFunction<byte[], Random, Buffer> make;

    Feed(BiFunction<byte[], Random, Buffer> make) {
      this.make = make;
    }
  }

  static Stream<Arguments> cases() {
    Stream.Builder<Arguments> b = Stream.builder();
    for (int chunk : new int[] {1000, 64 * 1024}) {
      for (int size : new int[] {0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 5 * chunk + 17}) {
        for (Feed feed : Feed.values()) {
          b.add(Arguments.of(chunk, size, feed));
        }
      }
    }
    return b.build();
  }

  private static byte[] random(int size, long seed) {
    byte[] data = new byte[size];
    new Random(seed).nextBytes(data);
    return data;
  }

  private static String sha256(byte[] data) throws Exception {
    return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(data));
  }

  private static int crc32c(byte[] data, int from, int to) {
    CRC32C crc = new CRC32C();
    crc.update(data, from, to - from);
    return (int) crc.getValue();
  }

  /** Feeds {@code data} in random-sized pieces (sometimes empty, sometimes bigger than a chunk). */
  private static StreamDigest digest(byte[] data, int chunk, Feed feed, long seed) {
    Random r = new Random(seed);
    StreamDigest d = new StreamDigest(chunk);
    int pos = 0;
    while (pos < data.length) {
      int piece = switch (r.nextInt(4)) {
        case 0 -> 0;
        case 1 -> 1 + r.nextInt(16);
        case 2 -> 1 + r.nextInt(chunk);
        default -> 1 + r.nextInt(3 * chunk);
      };
      piece = Math.min(piece, data.length - pos);
      d.update(feed.make.apply(Arrays.copyOfRange(data, pos, pos + piece), r));
      pos += piece;
      assertEquals(pos, d.bytes());
    }
    return d;
  }

  @ParameterizedTest(name = "chunk {0}, size {1}, {2}")
  @MethodSource("cases")
  void shaAndChunkCrcsMatchTheReference(int chunk, int size, Feed feed) throws Exception {
    for (long seed = 1; seed <= 3; seed++) {
      byte[] data = random(size, seed * 31 + size);
      StreamDigest d = digest(data, chunk, feed, seed);
      assertEquals(size, d.bytes());
      assertEquals(sha256(data), d.finish(), "sha256");
      int[] crcs = d.chunkCrcs();
      int expectedChunks = (size + chunk - 1) / chunk;
      assertEquals(expectedChunks, crcs.length, "one CRC per chunk, the last one possibly short");
      for (int i = 0; i < expectedChunks; i++) {
        int from = i * chunk;
        int to = Math.min(size, from + chunk);
        assertEquals(crc32c(data, from, to), crcs[i], "crc of chunk " + i);
      }
    }
  }

  @Test
  void wholeContentInOneBufferEqualsByteByByte() throws Exception {
    int chunk = 256;
    byte[] data = random(10 * chunk + 3, 99);
    StreamDigest whole = new StreamDigest(chunk);
    whole.update(Buffer.buffer(data));
    StreamDigest single = new StreamDigest(chunk);
    for (byte b : data) {
      single.update(Buffer.buffer(new byte[] {b}));
    }
    assertEquals(whole.finish(), single.finish());
    assertArrayEquals(whole.chunkCrcs(), single.chunkCrcs());
    assertEquals(11, whole.chunkCrcs().length);
  }

  @Test
  void emptyStream() throws Exception {
    StreamDigest d = new StreamDigest(1024);
    d.update(Buffer.buffer());
    assertEquals(sha256(new byte[0]), d.finish());
    assertEquals(0, d.chunkCrcs().length);
    assertEquals(0, d.bytes());
  }

  @Test
  void manyChunksGrowTheTable() throws Exception {
    int chunk = 16;
    byte[] data = random(chunk * 1000 + 5, 7); // far more than the initial 16 slots
    StreamDigest d = digest(data, chunk, Feed.PLAIN, 5);
    assertEquals(sha256(data), d.finish());
    int[] crcs = d.chunkCrcs();
    assertEquals(1001, crcs.length);
    assertEquals(crc32c(data, 0, chunk), crcs[0]);
    assertEquals(crc32c(data, 1000 * chunk, data.length), crcs[1000]);
  }

  @Test
  void updateDoesNotConsumeTheBuffer() {
    byte[] data = random(100, 3);
    Buffer b = Buffer.buffer(data);
    new StreamDigest(10).update(b);
    assertEquals(100, b.length());
    assertArrayEquals(data, b.getBytes());
  }

  @Test
  void chunkFingerprintsMatchForTheSameBytesOnly() {
    byte[] data = new byte[300_000];
    new Random(5).nextBytes(data);
    StreamDigest hashed = new StreamDigest(65536);
    hashed.update(Buffer.buffer(data));
    String sha = hashed.finish();
    // A pipeline copy that skips the whole hash: same fingerprint, however the stream was cut.
    StreamDigest copy = new StreamDigest(65536, false);
    copy.update(Buffer.buffer(Arrays.copyOfRange(data, 0, 1000)));
    copy.update(Buffer.buffer(Arrays.copyOfRange(data, 1000, data.length)));
    org.junit.jupiter.api.Assertions.assertNull(copy.finish());
    assertEquals(hashed.chunkFingerprint(), copy.chunkFingerprint());
    assertEquals(64, sha.length());

    byte[] flipped = data.clone();
    flipped[299_999] ^= 1;
    StreamDigest other = new StreamDigest(65536, false);
    other.update(Buffer.buffer(flipped));
    other.finish();
    org.junit.jupiter.api.Assertions.assertNotEquals(hashed.chunkFingerprint(), other.chunkFingerprint());
  }
}
