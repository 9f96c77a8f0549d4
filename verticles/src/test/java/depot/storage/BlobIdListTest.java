package depot.storage;

import depot.protocol.DepotException;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

class BlobIdListTest {
  @Test
  void givesBackEveryIdInOrderPastItsFirstArray() {
    BlobIdList list = new BlobIdList();
    List<String> added = new ArrayList<>();
    for (int i = 0; i < 1000; i++) {
      String id = BlobIds.newId();
      added.add(id);
      if (i % 2 == 0) {
        list.add(id);
      } else {
        list.add(UUID.fromString(id));
      }
    }
    assertEquals(1000, list.size());
    for (int i = 0; i < 1000; i++) {
      assertEquals(added.get(i), list.get(i));
    }
    assertThrows(IndexOutOfBoundsException.class, () -> list.get(1000));
  }

  @Test
  void refusesWhatIsNoBlobId() {
    BlobIdList list = new BlobIdList();
    assertThrows(DepotException.class, () -> list.add("1-2-3-4-5"));
    assertThrows(DepotException.class, () -> list.add(BlobIds.newId().toUpperCase(java.util.Locale.ROOT)));
    assertEquals(0, list.size());
  }
}
