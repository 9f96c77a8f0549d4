package depot.storage;

import io.vertx.core.json.JsonObject;

import java.nio.ByteBuffer;
import java.util.Base64;

/**
 * What a replica is: kept beside its bytes as {@code <blobId>.meta}. Its presence is what makes a replica
 * exist; a data file without one is debris of an unfinished write.
 */
public record BlobManifest(String blobId, long size, String sha256, int chunkSize, int[] crcs, String storedAt) {

  public JsonObject toJson() {
    ByteBuffer packed = ByteBuffer.allocate(crcs.length * 4);
    for (int c : crcs) {
      packed.putInt(c);
    }
    return new JsonObject()
        .put("blobId", blobId)
        .put("size", size)
        .put("sha256", sha256)
        .put("chunkSize", chunkSize)
        .put("crc32c", Base64.getEncoder().encodeToString(packed.array()))
        .put("storedAt", storedAt);
  }

  public static BlobManifest fromJson(JsonObject json) {
    ByteBuffer packed = ByteBuffer.wrap(Base64.getDecoder().decode(json.getString("crc32c")));
    int[] crcs = new int[packed.remaining() / 4];
    for (int i = 0; i < crcs.length; i++) {
      crcs[i] = packed.getInt();
    }
    return new BlobManifest(json.getString("blobId"), json.getLong("size"), json.getString("sha256"),
        json.getInteger("chunkSize"), crcs, json.getString("storedAt"));
  }

  /** Summary for inventories and replies (without the checksum table). */
  public JsonObject summary() {
    return new JsonObject().put("blobId", blobId).put("size", size).put("sha256", sha256);
  }
}
