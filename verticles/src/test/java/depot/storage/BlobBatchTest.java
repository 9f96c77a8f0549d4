package depot.storage;

import depot.protocol.DepotException;
import io.vertx.core.buffer.Buffer;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

class BlobBatchTest {
  private static final String SHA = "ab".repeat(32);

  private static Buffer bytes(int n, long seed) {
    byte[] b = new byte[n];
    new Random(seed).nextBytes(b);
    return Buffer.buffer(b);
  }

  @Test
  void entriesComeBackAsTheyWentInOrderWithTheirHashes() {
    List<BlobBatch.Entry> in = List.of(
        new BlobBatch.Entry(BlobIds.newId(), SHA, bytes(4096, 1)),
        new BlobBatch.Entry(BlobIds.newId(), null, bytes(1, 2)),
        new BlobBatch.Entry(BlobIds.newId(), SHA, Buffer.buffer()),
        new BlobBatch.Entry(BlobIds.newId(), null, bytes(65_536, 3)));
    Buffer body = BlobBatch.encode(in);
    int framed = 0;
    for (BlobBatch.Entry e : in) {
      framed += BlobBatch.framedSize(e.data().length(), e.announcedSha256() != null);
    }
    assertEquals(framed, body.length());
    List<BlobBatch.Entry> out = BlobBatch.decode(body);
    assertEquals(in.size(), out.size());
    for (int i = 0; i < in.size(); i++) {
      assertEquals(in.get(i).blobId(), out.get(i).blobId());
      assertEquals(in.get(i).announcedSha256(), out.get(i).announcedSha256());
      assertEquals(in.get(i).data(), out.get(i).data());
    }
    assertNull(out.get(1).announcedSha256());
  }

  @Test
  void anEmptyBodyIsAnEmptyBatch() {
    assertTrue(BlobBatch.decode(Buffer.buffer()).isEmpty());
  }

  @Test
  void everyCutOfAnEntryIsRefused() {
    Buffer body = BlobBatch.encode(List.of(new BlobBatch.Entry(BlobIds.newId(), SHA, bytes(100, 4))));
    // Any prefix but the whole and the empty one ends inside the entry: its header, its hash or its content.
    for (int cut = 1; cut < body.length(); cut++) {
      Buffer prefix = body.getBuffer(0, cut);
      DepotException e = assertThrows(DepotException.class, () -> BlobBatch.decode(prefix), "cut at " + cut);
      assertTrue(e.getMessage().contains("cut short"), e.getMessage());
    }
  }

  @Test
  void anEntryOverTheLimitIsRefused() {
    int over = BlobBatch.MAX_ENTRY_BYTES + 1;
    Buffer body = BlobBatch.encode(List.of(new BlobBatch.Entry(BlobIds.newId(), null, bytes(over, 5))));
    DepotException e = assertThrows(DepotException.class, () -> BlobBatch.decode(body));
    assertTrue(e.getMessage().contains(over + " bytes; at most " + BlobBatch.MAX_ENTRY_BYTES), e.getMessage());
    // A negative size (a forged header) is refused the same way, not read backwards.
    Buffer forged = body.copy();
    forged.setInt(16, -1);
    assertThrows(DepotException.class, () -> BlobBatch.decode(forged));
  }

  @Test
  void aBlobIdTwiceIsRefused() {
    String id = BlobIds.newId();
    Buffer body = BlobBatch.encode(List.of(new BlobBatch.Entry(id, null, bytes(10, 6)), new BlobBatch.Entry(id, null, bytes(10, 7))));
    DepotException e = assertThrows(DepotException.class, () -> BlobBatch.decode(body));
    assertTrue(e.getMessage().contains("twice"), e.getMessage());
  }

  @Test
  void aMalformedFlagIsRefused() {
    Buffer body = BlobBatch.encode(List.of(new BlobBatch.Entry(BlobIds.newId(), null, bytes(10, 8))));
    body.setByte(20, (byte) 7);
    DepotException e = assertThrows(DepotException.class, () -> BlobBatch.decode(body));
    assertTrue(e.getMessage().contains("flag"), e.getMessage());
  }

  @Test
  void tooManyEntriesAreRefused() {
    List<BlobBatch.Entry> in = new ArrayList<>();
    for (int i = 0; i <= BlobBatch.MAX_ENTRIES; i++) {
      in.add(new BlobBatch.Entry(BlobIds.newId(), null, bytes(1, i)));
    }
    assertEquals(BlobBatch.MAX_ENTRIES, BlobBatch.decode(BlobBatch.encode(in.subList(0, BlobBatch.MAX_ENTRIES))).size());
    DepotException e = assertThrows(DepotException.class, () -> BlobBatch.decode(BlobBatch.encode(in)));
    assertTrue(e.getMessage().contains("at most " + BlobBatch.MAX_ENTRIES), e.getMessage());
  }
}
