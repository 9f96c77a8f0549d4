package depot.gateway;

import org.junit.jupiter.api.Test;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

class PreconditionsTest {
  private static final String ETAG = "\"5891b5b522d5df086d0ff0b110fbd9d21bb4fc7163af34d08286a2e846f6be03\"";
  private static final String OTHER = "\"e055c936bd0feb2e7b0681ee33544db90f228554cdd355ae1b900c30a5b92c9b\"";

  @Test
  void ifNoneMatchHitsTheSameTagAnyListedTagWeakOrStarButNotAnother() {
    assertFalse(Preconditions.noneMatchHits(null, ETAG));
    assertTrue(Preconditions.noneMatchHits(ETAG, ETAG));
    assertTrue(Preconditions.noneMatchHits(" " + ETAG + " ", ETAG));
    assertTrue(Preconditions.noneMatchHits(OTHER + ", " + ETAG, ETAG));
    assertTrue(Preconditions.noneMatchHits("W/" + ETAG, ETAG));
    assertTrue(Preconditions.noneMatchHits("*", ETAG));
    assertFalse(Preconditions.noneMatchHits(OTHER, ETAG));
    assertFalse(Preconditions.noneMatchHits(ETAG.replace("\"", ""), ETAG)); // unquoted is not the tag
    assertFalse(Preconditions.noneMatchHits("", ETAG));
  }

  @Test
  void ifRangeKeepsTheRangeOnlyForTheSameStrongTag() {
    assertTrue(Preconditions.rangeHolds(null, ETAG));
    assertTrue(Preconditions.rangeHolds(ETAG, ETAG));
    assertFalse(Preconditions.rangeHolds(OTHER, ETAG));
    assertFalse(Preconditions.rangeHolds("W/" + ETAG, ETAG)); // If-Range compares strongly
    assertFalse(Preconditions.rangeHolds("Wed, 02 Dec 2026 10:00:00 GMT", ETAG)); // no Last-Modified to match
  }
}
