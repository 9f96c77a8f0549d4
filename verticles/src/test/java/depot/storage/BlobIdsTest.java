package depot.storage;

import depot.protocol.DepotException;
import depot.protocol.ErrorCode;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.util.HashSet;
import java.util.Locale;
import java.util.Set;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlobIdsTest {
  private static final String GOOD = "123e4567-e89b-42d3-a456-426614174000";

  @Test
  void newIdsAreValidAndDistinct() {
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < 1000; i++) {
      String id = BlobIds.newId();
      assertTrue(BlobIds.isValid(id), id);
      assertSame(id, BlobIds.requireValid(id));
      assertTrue(seen.add(id));
    }
  }

  @Test
  void lowercaseUuidIsValid() {
    assertTrue(BlobIds.isValid(GOOD));
    assertTrue(BlobIds.isValid("00000000-0000-0000-0000-000000000000"));
  }

  @ParameterizedTest
  @ValueSource(strings = {"", "../x", "a/b", "..", ".", "/etc/passwd", "../123e4567-e89b-42d3-a456-426614174000",
      "123e4567-e89b-42d3-a456-426614174000/..", "123e4567/e89b-42d3-a456-426614174000",
      "123E4567-E89B-42D3-A456-426614174000", "123e4567-e89b-42d3-a456-42661417400", "abc",
      "123e4567-e89b-42d3-a456-4266141740000", "123e4567e89b42d3a456426614174000", "123e4567-e89b-42d3-a456-42661417400g",
      " 123e4567-e89b-42d3-a456-426614174000", "123e4567-e89b-42d3-a456-426614174000 ",
      "123e4567-e89b-42d3-a456-426614174000\n", "123e4567-e89b-42d3-a456-426614174000.meta",
      "123e4567-e89b-42d3-a456-426614174000\0", "{123e4567-e89b-42d3-a456-426614174000}"})
  void pathTricksAndMalformedIdsAreRejected(String id) {
    assertFalse(BlobIds.isValid(id), id);
    DepotException e = assertThrows(DepotException.class, () -> BlobIds.requireValid(id));
    assertEquals(ErrorCode.BAD_REQUEST, e.code());
  }

  @Test
  void uppercaseIsRejected() {
    assertFalse(BlobIds.isValid(GOOD.toUpperCase(Locale.ROOT)));
  }

  @Test
  void nullIsRejected() {
    assertFalse(BlobIds.isValid(null));
    assertThrows(DepotException.class, () -> BlobIds.requireValid(null));
  }
}
