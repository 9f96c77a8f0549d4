package depot.storage;

import org.junit.jupiter.api.Test;

import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

class RecentReplicasTest {
  static final long WINDOW = 60_000;

  @Test
  void everyReplicaStoredWithinTheWindowIsListedAndOldBucketsGo() {
    RecentReplicas recent = new RecentReplicas(WINDOW);
    String a = BlobIds.newId();
    String b = BlobIds.newId();
    String c = BlobIds.newId();
    recent.add(a, 0);
    recent.add(b, 5_000);
    recent.add(c, 15_000);
    assertEquals(Set.of(a, b, c), within(recent, 20_000));
    // b was stored 5 s after a, in the same bucket: listed until the whole bucket is out of the window.
    assertEquals(Set.of(a, b, c), within(recent, WINDOW + 5_000));
    assertEquals(Set.of(a, b, c), within(recent, WINDOW + RecentReplicas.BUCKET_MS - 1));
    assertEquals(Set.of(c), within(recent, WINDOW + RecentReplicas.BUCKET_MS));
    assertEquals(Set.of(), within(recent, 15_000 + WINDOW + RecentReplicas.BUCKET_MS));
  }

  @Test
  void noReplicaYoungerThanTheWindowIsEverMissing() {
    RecentReplicas recent = new RecentReplicas(WINDOW);
    java.util.Random random = new java.util.Random(7);
    long now = 0;
    java.util.Map<String, Long> storedAt = new java.util.HashMap<>();
    for (int i = 0; i < 5_000; i++) {
      now += random.nextInt(200);
      String stored = BlobIds.newId();
      recent.add(stored, now);
      storedAt.put(stored, now);
      if (i % 500 == 0) {
        Set<String> listed = within(recent, now);
        long at = now;
        storedAt.forEach((id, t) -> {
          if (at - t <= WINDOW) {
            assertTrue(listed.contains(id), id + " stored " + (at - t) + " ms ago");
          }
        });
        // Nothing older than the window plus one bucket is kept.
        listed.forEach(id -> assertTrue(at - storedAt.get(id) < WINDOW + RecentReplicas.BUCKET_MS, id));
      }
    }
  }

  static Set<String> within(RecentReplicas recent, long now) {
    Set<String> ids = new java.util.HashSet<>();
    recent.forEachWithin(now, id -> ids.add(id.toString()));
    return ids;
  }
}
