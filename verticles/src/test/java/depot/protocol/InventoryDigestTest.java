package depot.protocol;

import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class InventoryDigestTest {

  static List<String> ids(int n, long seed) {
    Random random = new Random(seed);
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      ids.add(new UUID(random.nextLong(), random.nextLong()).toString());
    }
    return ids;
  }

  @Test
  void theSameIdsInAnyOrderGiveTheSameDigest() {
    List<String> ids = ids(5000, 1);
    List<String> shuffled = new ArrayList<>(ids);
    Collections.shuffle(shuffled, new Random(2));
    assertEquals(List.of(), InventoryDigest.of(ids).bucketsDifferentFrom(InventoryDigest.of(shuffled)));
    assertEquals(InventoryDigest.of(ids).encode(), InventoryDigest.of(shuffled).encode());
  }

  @Test
  void aMissingOrExtraIdShowsInItsBucketOnly() {
    List<String> ids = ids(5000, 3);
    List<String> fewer = new ArrayList<>(ids);
    String missing = fewer.remove(1234);
    String extra = ids(1, 4).get(0);
    List<String> more = new ArrayList<>(ids);
    more.add(extra);

    assertEquals(List.of(InventoryDigest.bucketOf(missing)), InventoryDigest.of(ids).bucketsDifferentFrom(InventoryDigest.of(fewer)));
    assertEquals(List.of(InventoryDigest.bucketOf(extra)), InventoryDigest.of(ids).bucketsDifferentFrom(InventoryDigest.of(more)));
  }

  @Test
  void oneIdSwappedForAnotherInTheSameBucketIsSeen() {
    List<String> ids = ids(100, 5);
    String out = ids.get(7);
    String in = ids(10_000, 6).stream().filter(id -> InventoryDigest.bucketOf(id) == InventoryDigest.bucketOf(out))
        .findFirst().orElseThrow();
    List<String> swapped = new ArrayList<>(ids);
    swapped.set(7, in);
    assertEquals(List.of(InventoryDigest.bucketOf(out)), InventoryDigest.of(ids).bucketsDifferentFrom(InventoryDigest.of(swapped)));
  }

  @Test
  void aDigestSurvivesItsEncodingAndStaysSmall() {
    InventoryDigest digest = InventoryDigest.of(ids(100_000, 7));
    String encoded = digest.encode();
    assertTrue(encoded.length() < 20_000, encoded.length() + " characters for 100,000 ids");
    assertEquals(List.of(), digest.bucketsDifferentFrom(InventoryDigest.decode(encoded)));
  }

  @Test
  void somethingElseIsNotADigest() {
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(DepotException.class, () -> InventoryDigest.decode("not base64!")).code());
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(DepotException.class, () -> InventoryDigest.decode("AAAA")).code());
    assertEquals(ErrorCode.BAD_REQUEST, assertThrows(DepotException.class, () -> InventoryDigest.decode(null)).code());
  }
}
