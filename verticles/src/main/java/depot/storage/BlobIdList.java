package depot.storage;

import java.util.Arrays;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Blob ids in a list that holds each as the two longs of its UUID: 16 bytes an id where a string takes 80.
 * For lists with an entry per replica that live for minutes (a scrub pass, the replicas stored lately): the
 * index keys replicas by UUID, so such a list can no longer point at strings the index already holds.
 */
final class BlobIdList {
  private long[] bits = new long[128];
  private int size;

  void add(UUID id) {
    if (2 * size == bits.length) {
      bits = Arrays.copyOf(bits, 2 * bits.length);
    }
    bits[2 * size] = id.getMostSignificantBits();
    bits[2 * size + 1] = id.getLeastSignificantBits();
    size++;
  }

  /** {@code blobId}: a blob id (a UUID, as every replica's id is). */
  void add(String blobId) {
    add(UUID.fromString(BlobIds.requireValid(blobId)));
  }

  int size() {
    return size;
  }

  void forEach(Consumer<UUID> action) {
    for (int i = 0; i < size; i++) {
      action.accept(at(i));
    }
  }

  /** The {@code i}th id, as the string every other part of Depot names it by. */
  String get(int i) {
    if (i < 0 || i >= size) {
      throw new IndexOutOfBoundsException(i + " of " + size);
    }
    return at(i).toString();
  }

  private UUID at(int i) {
    return new UUID(bits[2 * i], bits[2 * i + 1]);
  }
}
