package depot.storage;

import java.util.ArrayDeque;
import java.util.UUID;
import java.util.function.Consumer;

/**
 * Replicas stored in the last minutes, which a coordinator may not have committed yet (reconciliation must
 * not take them for debris). Kept in time buckets of compact id lists, dropped a whole bucket at a time: at a
 * thousand small deposits a second a five-minute window holds 300,000 ids per node, which as strings would
 * take 80 bytes each and as a map from id to time 48 more.
 */
final class RecentReplicas {
  static final long BUCKET_MS = 10_000;

  private final long windowMs;
  private final ArrayDeque<Bucket> buckets = new ArrayDeque<>();

  private record Bucket(long start, BlobIdList ids) {}

  RecentReplicas(long windowMs) {
    this.windowMs = windowMs;
  }

  synchronized void add(String blobId, long now) {
    Bucket last = buckets.peekLast();
    if (last == null || now >= last.start() + BUCKET_MS) {
      last = new Bucket(now, new BlobIdList());
      buckets.addLast(last);
    }
    last.ids().add(blobId);
    dropOlderThanTheWindow(now);
  }

  /**
   * Every replica stored within the window (and some up to one bucket older), to {@code action} under this
   * list's lock: no string is made of the ones the caller does not keep.
   */
  synchronized void forEachWithin(long now, Consumer<UUID> action) {
    dropOlderThanTheWindow(now);
    for (Bucket b : buckets) {
      b.ids().forEach(action);
    }
  }

  /** A bucket goes once its newest possible entry has left the window. */
  private void dropOlderThanTheWindow(long now) {
    while (!buckets.isEmpty() && buckets.peekFirst().start() + BUCKET_MS <= now - windowMs) {
      buckets.pollFirst();
    }
  }
}
