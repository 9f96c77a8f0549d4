package depot.cli;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.ByteArrayOutputStream;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Random;
import java.util.zip.CRC32C;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

/** Reading a replica's own file: every chunk checked, and a stop at the first one that is not right. */
class LocalReplicaTest {
  private static final int CHUNK = 64 * 1024;

  @TempDir
  Path tmp;

  private static byte[] random(int size) {
    byte[] data = new byte[size];
    new Random(size).nextBytes(data);
    return data;
  }

  /** What a storage node answers for a replica holding {@code content} at {@code path}. */
  static JsonObject describe(Path path, byte[] content) {
    int chunks = (content.length + CHUNK - 1) / CHUNK;
    ByteBuffer packed = ByteBuffer.allocate(chunks * 4);
    CRC32C crc = new CRC32C();
    for (int at = 0; at < content.length; at += CHUNK) {
      crc.reset();
      crc.update(content, at, Math.min(CHUNK, content.length - at));
      packed.putInt((int) crc.getValue());
    }
    return new JsonObject().put("path", path.toAbsolutePath().toString()).put("size", content.length)
        .put("chunkSize", CHUNK).put("crc32c", Base64.getEncoder().encodeToString(packed.array()));
  }

  private static byte[] copied(LocalReplica.Layout layout, boolean[] whole) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    HashingWriter writer = new HashingWriter(Channels.newChannel(out), n -> { });
    whole[0] = LocalReplica.copy(layout, writer);
    assertEquals(out.size(), writer.bytes());
    return out.toByteArray();
  }

  @Test
  void aReplicaSpanningSeveralReadsIsCopiedWholeAndHashed() throws Exception {
    // Over two 4 MiB reads, ending inside a chunk.
    byte[] content = random(9 * 1024 * 1024 + 12_345);
    Path file = Files.write(tmp.resolve("blob"), content);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    HashingWriter writer = new HashingWriter(Channels.newChannel(out), n -> { });

    assertTrue(LocalReplica.copy(LocalReplica.Layout.fromJson(describe(file, content)), writer));
    assertArrayEquals(content, out.toByteArray());
    assertEquals(Sha256.hex(Sha256.newDigest().digest(content)), writer.result().sha256());
  }

  @Test
  void aCorruptChunkStopsTheCopyAtItsStartWithEveryCheckedByteKept() throws Exception {
    byte[] content = random(6 * 1024 * 1024);
    JsonObject described = describe(tmp.resolve("blob"), content);
    byte[] onDisk = content.clone();
    int badChunk = 70; // in the second read
    onDisk[badChunk * CHUNK + 999] ^= 0x40;
    Files.write(tmp.resolve("blob"), onDisk);

    boolean[] whole = {true};
    byte[] got = copied(LocalReplica.Layout.fromJson(described), whole);
    assertFalse(whole[0]);
    assertArrayEquals(Arrays.copyOf(content, badChunk * CHUNK), got, "up to the bad chunk, and not a byte of it");
  }

  @Test
  void aFileShorterThanTheReplicaOrMissingGivesNothing() throws Exception {
    byte[] content = random(300_000);
    Files.write(tmp.resolve("short"), Arrays.copyOf(content, 200_000));
    boolean[] whole = {true};
    assertEquals(0, copied(LocalReplica.Layout.fromJson(describe(tmp.resolve("short"), content)), whole).length);
    assertFalse(whole[0]);

    // Not on this host: the caller goes over HTTP.
    LocalReplica.Layout elsewhere = LocalReplica.Layout.fromJson(describe(tmp.resolve("absent"), content));
    assertThrows(java.nio.file.NoSuchFileException.class,
        () -> LocalReplica.copy(elsewhere, new HashingWriter(Channels.newChannel(new ByteArrayOutputStream()), n -> { })));
  }

  @Test
  void anEmptyReplicaIsCopiedAsNothing() throws Exception {
    Path file = Files.write(tmp.resolve("empty"), new byte[0]);
    boolean[] whole = {false};
    assertEquals(0, copied(LocalReplica.Layout.fromJson(describe(file, new byte[0])), whole).length);
    assertTrue(whole[0]);
  }

  @Test
  void anAnswerThatDoesNotAddUpIsRefused() {
    byte[] content = random(200_000);
    JsonObject good = describe(tmp.resolve("blob"), content);
    for (JsonObject bad : new JsonObject[] {
        good.copy().put("path", "relative/blob"),
        good.copy().put("size", 500_000), // more chunks than checksums
        good.copy().put("chunkSize", 0),
        good.copy().put("size", -1)}) {
      assertThrows(IllegalArgumentException.class, () -> LocalReplica.Layout.fromJson(bad), bad.encode());
    }
  }
}
