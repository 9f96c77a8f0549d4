package depot.protocol;

import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.Base64;
import java.util.List;
import java.util.UUID;

/**
 * A set of blob ids summed up in {@link #BUCKETS} buckets (an XOR of the ids and a count per bucket), so a
 * coordinator and a storage node compare what the node holds with what the catalog says in one message of
 * about 16 KB, whatever the number of replicas, and then exchange the ids of the few buckets that differ
 * (anti-entropy as in Dynamo and Cassandra, with one level of buckets instead of a Merkle tree).
 *
 * <p>Blob ids are random UUIDs: their own bits are already uniform, so they need no hashing.
 */
public final class InventoryDigest {
  public static final int BUCKETS = 1024;
  private static final int ENCODED_BYTES = BUCKETS * (Long.BYTES + Integer.BYTES);

  private final long[] xors = new long[BUCKETS];
  private final int[] counts = new int[BUCKETS];

  /** The bucket of a blob id (a UUID). */
  public static int bucketOf(String blobId) {
    return bucketOf(UUID.fromString(blobId));
  }

  public static int bucketOf(UUID blobId) {
    return (int) (blobId.getLeastSignificantBits() & (BUCKETS - 1));
  }

  public InventoryDigest add(String blobId) {
    return add(UUID.fromString(blobId));
  }

  public InventoryDigest add(UUID id) {
    int bucket = bucketOf(id);
    xors[bucket] ^= id.getMostSignificantBits() ^ Long.rotateLeft(id.getLeastSignificantBits(), 29);
    counts[bucket]++;
    return this;
  }

  public static InventoryDigest of(Iterable<String> blobIds) {
    InventoryDigest digest = new InventoryDigest();
    blobIds.forEach(digest::add);
    return digest;
  }

  /** The buckets in which the two sets differ, in order. */
  public List<Integer> bucketsDifferentFrom(InventoryDigest other) {
    List<Integer> differ = new ArrayList<>();
    for (int b = 0; b < BUCKETS; b++) {
      if (xors[b] != other.xors[b] || counts[b] != other.counts[b]) {
        differ.add(b);
      }
    }
    return differ;
  }

  public String encode() {
    ByteBuffer out = ByteBuffer.allocate(ENCODED_BYTES);
    for (int b = 0; b < BUCKETS; b++) {
      out.putLong(xors[b]).putInt(counts[b]);
    }
    return Base64.getEncoder().encodeToString(out.array());
  }

  /** @throws DepotException bad_request if {@code encoded} is not a digest */
  public static InventoryDigest decode(String encoded) {
    byte[] bytes;
    try {
      bytes = encoded == null ? new byte[0] : Base64.getDecoder().decode(encoded);
    } catch (IllegalArgumentException e) {
      throw DepotException.badRequest("an inventory digest must be base64");
    }
    if (bytes.length != ENCODED_BYTES) {
      throw DepotException.badRequest("an inventory digest has " + ENCODED_BYTES + " bytes, not " + bytes.length);
    }
    ByteBuffer in = ByteBuffer.wrap(bytes);
    InventoryDigest digest = new InventoryDigest();
    for (int b = 0; b < BUCKETS; b++) {
      digest.xors[b] = in.getLong();
      digest.counts[b] = in.getInt();
    }
    return digest;
  }
}
