package depot.storage;

import io.vertx.core.json.JsonObject;
import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

class BlobManifestTest {
  private static final String SHA = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

  private static void assertSameManifest(BlobManifest expected, BlobManifest actual) {
    assertEquals(expected.blobId(), actual.blobId());
    assertEquals(expected.size(), actual.size());
    assertEquals(expected.sha256(), actual.sha256());
    assertEquals(expected.chunkSize(), actual.chunkSize());
    assertArrayEquals(expected.crcs(), actual.crcs());
    assertEquals(expected.storedAt(), actual.storedAt());
  }

  private static BlobManifest roundTrip(BlobManifest m) {
    // through text, as it is kept on disk
    return BlobManifest.fromJson(new JsonObject(m.toJson().encode()));
  }

  @Test
  void roundTrip() {
    BlobManifest m = new BlobManifest(BlobIds.newId(), 5L * 65536 + 17, SHA, 65536,
        new int[] {0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 0x12345678}, "2024-01-02T03:04:05.678Z");
    assertSameManifest(m, roundTrip(m));
  }

  @Test
  void roundTripOfAnEmptyBlob() {
    BlobManifest m = new BlobManifest(BlobIds.newId(), 0, SHA, 65536, new int[0], "2024-01-02T03:04:05Z");
    BlobManifest back = roundTrip(m);
    assertSameManifest(m, back);
    assertEquals(0, back.crcs().length);
  }

  @Test
  void roundTripOfManyChunksAndSizesPastIntRange() {
    int[] crcs = new int[100_000];
    for (int i = 0; i < crcs.length; i++) {
      crcs[i] = i * 0x9E3779B9;
    }
    BlobManifest m = new BlobManifest(BlobIds.newId(), 6_000_000_000L, SHA, 65536, crcs, "now");
    assertSameManifest(m, roundTrip(m));
  }

  @Test
  void jsonShape() {
    BlobManifest m = new BlobManifest("00000000-0000-0000-0000-000000000001", 3, SHA, 1024, new int[] {1}, "t");
    JsonObject json = m.toJson();
    assertEquals("00000000-0000-0000-0000-000000000001", json.getString("blobId"));
    assertEquals(3L, json.getLong("size"));
    assertEquals(SHA, json.getString("sha256"));
    assertEquals(1024, json.getInteger("chunkSize"));
    assertEquals("AAAAAQ==", json.getString("crc32c")); // big-endian 4 bytes, base64
    assertEquals("t", json.getString("storedAt"));
  }

  @Test
  void summaryHasNoChecksumTable() {
    BlobManifest m = new BlobManifest(BlobIds.newId(), 3, SHA, 1024, new int[] {1, 2}, "t");
    JsonObject s = m.summary();
    assertEquals(new JsonObject().put("blobId", m.blobId()).put("size", 3L).put("sha256", SHA), s);
    assertFalse(s.containsKey("crc32c"));
  }
}
